#pragma once
// The imperative shell around the BOSH core: owns the session table, parses
// request bodies, creates sessions and hands requests to their drivers.
// Single-threaded: everything runs on one executor, so no locks.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "bosh/session.hpp"
#include "bosun/config.hpp"
#include "common/asio.hpp"
#include "common/load_shed.hpp"
#include "runtime/prebind_service.hpp"
#include "xmpp/opening_gate.hpp"
#include "runtime/session_service.hpp"

namespace bosun::runtime {

class SessionDriver;

class SessionManager final : public SessionService, public PrebindService {
public:
    /// Throws std::runtime_error at start-up if an upstream's CA file cannot be loaded.
    SessionManager(net::any_io_executor ex, const Config& config);
    ~SessionManager() override;

    net::awaitable<BoshHttpResponse> handle(BoshHttpRequest request) override;
    std::size_t session_count() const override { return sessions_.size(); }
    bool draining() const override { return draining_; }

    /// Refuses new sessions and terminates every session with system-shutdown.
    void shutdown();
    /// Starts the event-loop lag tick behind bosh.overload_lag_ms (a no-op
    /// when it is 0). Not started by the constructor: a pending timer would
    /// keep a test's io_context running.
    void start_load_monitor();

    // PrebindService
    net::awaitable<Expected<Prebound, PrebindFailure>> prebind(PrebindLogin login) override;
    std::optional<SessionInfo> session_info(const std::string& sid) const override;
    bool end_session(const std::string& sid) override;
    std::size_t end_user_sessions(const std::string& bare_jid) override;

    /// How long a prebound session waits for the browser's first request,
    /// and how long the upstream login may take.
    void set_prebind_timeouts(Seconds attach, Seconds handshake);
    Seconds prebind_attach_timeout() const { return attach_timeout_; }
    Seconds prebind_handshake_timeout() const { return handshake_timeout_; }

    // For drivers.
    net::any_io_executor executor() const { return ex_; }
    const Config& config() const { return config_; }
    const bosh::Limits& limits() const { return limits_; }
    std::shared_ptr<ssl::context> tls_context(const std::string& domain) const;
    /// The bound on upstream connections being opened at once, shared by
    /// every session and prebind (bosh.max_connecting, bosh.max_connect_queue).
    const std::shared_ptr<xmpp::OpeningGate>& opening_gate() const { return gate_; }
    bosh::RequestId next_request_id() { return next_request_id_++; }
    void remove(const std::string& sid);

private:
    struct Routed;
    Routed route(BoshHttpRequest& request);
    BoshHttpResponse answer_failed(const std::optional<std::string>& sid, bosun::Condition why, bool secure);
    net::awaitable<BoshHttpResponse> create_session(
        bosh::BodyRequest body, std::string client_ip, bool secure);
    BoshHttpResponse error_response(bosun::Condition why, bool legacy) const;
    bool shed_new_session(std::string_view what);
    void arm_lag_tick();
    void on_lag_tick();

    net::any_io_executor ex_;
    const Config& config_;
    bosh::Limits limits_;
    std::unordered_map<std::string, std::shared_ptr<SessionDriver>> sessions_;
    std::map<std::string, std::shared_ptr<ssl::context>> tls_contexts_;
    std::shared_ptr<xmpp::OpeningGate> gate_;
    LoadShedder shed_;
    net::steady_timer lag_timer_;
    bosh::RequestId next_request_id_ = 1;
    std::size_t logins_in_flight_ = 0;
    Seconds attach_timeout_{45};
    Seconds handshake_timeout_{10};
    bool draining_ = false;
};

}  // namespace bosun::runtime
