#pragma once
// The HTTP/1.1 front end: one accept loop per listen address, one coroutine
// per connection, HTTP-level limits, timeouts, routing and CORS. Each POST on
// the BOSH path goes to runtime::SessionService; everything else is answered
// here (router.hpp).
//
// Threading: everything runs on the executor given to the constructor, which
// must be single-threaded (one io_context thread, or a strand). start() is
// called before that executor runs or from its thread; stop() may be called
// from any thread.
//
// Over max_connections a new connection gets a best-effort 503 problem+json
// with "Connection: close" and is closed at once, without reading from it.

#include <memory>
#include <vector>

#include "bosun/config.hpp"
#include "common/asio.hpp"
#include "runtime/session_service.hpp"

namespace bosun::frontend {

struct ServerState;  // server.cpp: shared with every connection coroutine

class HttpServer {
public:
    // `service` must outlive the io_context's run. Throws std::invalid_argument
    // if a trusted_proxies entry is not an address or CIDR block.
    HttpServer(net::any_io_executor ex, const HttpConfig& cfg, runtime::SessionService& service);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens on every cfg.listen address (port 0 allowed), then
    // starts accepting. Throws std::runtime_error naming the address, e.g.
    // "cannot listen on 127.0.0.1:5280: Address already in use"; on failure
    // nothing stays bound.
    void start();
    // The addresses actually bound, in cfg.listen order.
    std::vector<tcp::endpoint> local_endpoints() const;
    // Stops accepting and closes idle connections. A request being read or
    // held by the service is answered, with "Connection: close".
    void stop();

private:
    std::shared_ptr<ServerState> state_;
};

}  // namespace bosun::frontend
