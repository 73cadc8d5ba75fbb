#pragma once
// The prebind API listener: HTTP/1.1 on its own addresses (never the public
// BOSH port, never with CORS), one coroutine per connection, the same limits
// and timeouts as the BOSH front end (src/http/server.cpp), every request
// handed to prebind::Api.
//
// Threading: as HttpServer. Everything runs on the executor given to the
// constructor, which must be single-threaded. start() is called before that
// executor runs or from its thread; stop() may be called from any thread.

#include <memory>
#include <vector>

#include "bosun/config.hpp"
#include "common/asio.hpp"
#include "prebind/api.hpp"

namespace bosun::prebind {

struct ServerState;  // server.cpp

class ApiServer {
public:
    // `api` must outlive the io_context's run; cfg is copied.
    ApiServer(net::any_io_executor ex, const PrebindConfig& cfg, Api& api);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Binds every cfg.listen address (port 0 allowed) and starts accepting.
    // Throws std::runtime_error naming the address; on failure nothing stays bound.
    void start();
    std::vector<tcp::endpoint> local_endpoints() const;
    // Stops accepting and closes idle connections; a request in progress is
    // answered with "Connection: close".
    void stop();

private:
    std::shared_ptr<ServerState> state_;
};

}  // namespace bosun::prebind
