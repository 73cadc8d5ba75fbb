#pragma once
// Runs one bosh::Session on Asio: executes its actions (answer HTTP requests,
// drive the upstream XMPP connection), feeds it upstream events, and keeps
// one timer for its deadlines.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bosh/session.hpp"
#include "common/asio.hpp"
#include "runtime/prebind_service.hpp"
#include "runtime/session_service.hpp"
#include "xmpp/login.hpp"
#include "xmpp/upstream.hpp"

namespace bosun::runtime {

class SessionManager;

class SessionDriver final : public std::enable_shared_from_this<SessionDriver>, public xmpp::UpstreamEvents {
public:
    SessionDriver(SessionManager& manager, std::string client_ip);
    ~SessionDriver() override;

    /// Starts the session with its creation request and waits for the answer.
    net::awaitable<BoshHttpResponse> start(std::string sid, bosh::Negotiated params, bosh::BodyRequest body);
    /// One later request of the session.
    net::awaitable<BoshHttpResponse> submit(bosh::BodyRequest body);
    /// Prebind (checklist P1-P7): logs in upstream natively (TLS, SASL,
    /// restart, bind, session) and, on success, becomes a prebound session
    /// whose first request must carry `next_rid`. No initial presence.
    net::awaitable<Expected<Prebound, PrebindFailure>> prebind(std::string sid, bosh::Negotiated params,
                                                               PrebindLogin login, std::uint64_t next_rid);
    /// Answers a request that could not be parsed but names this session.
    BoshHttpResponse reject(bosun::Condition why);
    void shutdown();
    /// Ends the session from Bosun's side (the prebind API).
    void close(bosun::Condition why);

    /// XEP-0124 §19.1 (checklist #9): whether a request that did (or did
    /// not) arrive over TLS may speak for this session. Once the session
    /// used TLS, plain requests are refused.
    bool admits(bool secure) const { return secure || !secure_.value_or(false); }
    /// Records how the session began: its creation request, or a prebound
    /// session's first (attach) request. Later calls change nothing.
    void note_scheme(bool secure)
    {
        if (!secure_)
            secure_ = secure;
    }
    const std::string& tag() const { return tag_; }
    bool ended() const { return ended_; }
    /// The full JID a prebound session is bound to; empty otherwise.
    const std::string& jid() const { return jid_; }
    SessionInfo info() const;

    // xmpp::UpstreamEvents
    void on_upstream_open(const xmpp::StreamHeader& header) override;
    void on_upstream_element(xmpp::Element element) override;
    void on_upstream_closed(xmpp::UpstreamClosed why) override;

private:
    struct Waiter;
    struct LoginState;

    net::awaitable<BoshHttpResponse> wait_for(bosh::RequestId id, Waiter& waiter);
    void apply(bosh::Actions actions);
    void apply_one(bosh::Action& action, bosh::Actions& follow_up);
    void open_upstream(const std::string& domain, xmpp::StreamOpen open, const std::string& route = {});
    void on_login_element(const xmpp::Element& element);
    void run_login_steps(std::vector<xmpp::LoginStep> steps);
    void finish_login(Expected<Prebound, PrebindFailure> result);
    void close_upstream(std::vector<std::string> undelivered);
    void flush_elements();
    void rearm_timer();
    void on_timer();
    BoshHttpResponse to_http(bosh::Respond r) const;

    SessionManager& manager_;
    std::string client_ip_;
    std::string tag_;     ///< sid hash for logs
    std::optional<bosh::Session> session_;
    std::unique_ptr<LoginState> login_;   ///< only while a prebind logs in
    std::string jid_;                     ///< prebound sessions: the bound JID
    std::shared_ptr<xmpp::UpstreamConnection> upstream_;
    xmpp::StreamHeader upstream_header_;
    std::vector<bosh::UpstreamElement> batch_;
    bool flush_posted_ = false;
    std::unordered_map<bosh::RequestId, Waiter*> waiters_;
    net::steady_timer timer_;
    bool timer_armed_ = false;
    std::uint64_t timer_generation_ = 0;
    bool ended_ = false;
    std::optional<bool> secure_;  ///< set by the first request (checklist #9)
};

}  // namespace bosun::runtime
