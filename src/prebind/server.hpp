#pragma once
// The prebind API listener: HTTP/1.1 on its own addresses (never the public
// BOSH port, never with CORS), one coroutine per connection, the same limits
// and timeouts as the BOSH front end (src/http/server.cpp), every request
// handed to prebind::Api.
//
// With [prebind] tls_cert_file and tls_key_file the listener speaks HTTPS
// only (TLS 1.2+), and with tls_client_ca_file it requires a client
// certificate that CA verifies (mTLS), on top of the API key.
//
// Threading: as HttpServer. Everything runs on the executor given to the
// constructor, which must be single-threaded. start() is called before that
// executor runs or from its thread; stop() may be called from any thread.

#include <memory>
#include <string>
#include <vector>

#include "bosun/config.hpp"
#include "common/asio.hpp"
#include "prebind/api.hpp"

namespace bosun::prebind {

struct ServerState;  // server.cpp

// Problems loading the TLS certificate, key or client CA (what the
// constructor would throw), for --check-config. Empty: fine or no TLS.
std::vector<std::string> check_tls_files(const PrebindConfig& cfg);

class ApiServer {
public:
    // `api` must outlive the io_context's run; cfg is copied. Throws
    // std::runtime_error naming the file when a TLS file cannot be used.
    ApiServer(net::any_io_executor ex, const PrebindConfig& cfg, Api& api);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    // Binds every cfg.listen address (port 0 allowed) and starts accepting.
    // Throws std::runtime_error naming the address; on failure nothing stays bound.
    void start();
    std::vector<tcp::endpoint> local_endpoints() const;
    bool uses_tls() const;
    // Stops accepting and closes idle connections; a request in progress is
    // answered with "Connection: close".
    void stop();

private:
    std::shared_ptr<ServerState> state_;
};

}  // namespace bosun::prebind
