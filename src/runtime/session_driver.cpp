#include "runtime/session_driver.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "common/log.hpp"
#include "config/syntax.hpp"
#include "runtime/session_manager.hpp"
#include "xmpp/bounce.hpp"
#include "xmpp/stanza.hpp"

namespace bosun::runtime {

/// One HTTP request waiting for its answer. Lives on the frame of the
/// coroutine that serves the request; the driver only points at it.
struct SessionDriver::Waiter {
    explicit Waiter(net::any_io_executor ex) : signal(ex, TimePoint::max()) {}
    net::steady_timer signal;
    std::optional<bosh::Respond> response;
};

/// A prebind's upstream login in progress (P1-P7 happen after it).
struct SessionDriver::LoginState {
    explicit LoginState(net::any_io_executor ex) : signal(std::move(ex), TimePoint::max()) {}
    PrebindLogin request;                   ///< until the post-TLS stream opens
    std::optional<xmpp::Login> machine;
    std::string sid;
    bosh::Negotiated params;
    std::uint64_t next_rid = 0;
    xmpp::StreamOpen open;
    net::steady_timer signal;               ///< cancelled with the result; expires at the deadline
    std::optional<Expected<Prebound, PrebindFailure>> result;
};

namespace {

bool is_loopback_host(const std::string& host)
{
    if (host == "localhost")
        return true;
    error_code ec;
    const auto addr = net::ip::make_address(host, ec);
    return !ec && addr.is_loopback();
}

xmpp::sasl::Policy sasl_policy(SaslPolicy p)
{
    switch (p) {
    case SaslPolicy::password: return xmpp::sasl::Policy::password;
    case SaslPolicy::plain_secret: return xmpp::sasl::Policy::plain_secret;
    case SaslPolicy::anonymous: return xmpp::sasl::Policy::anonymous;
    }
    return xmpp::sasl::Policy::password;
}

PrebindFailure failure_for(xmpp::LoginError e)
{
    using E = xmpp::LoginError;
    switch (e) {
    case E::not_authorized:
    case E::account_disabled:
    case E::credentials_expired: return PrebindFailure::not_authorized;
    case E::mechanism_unavailable: return PrebindFailure::mechanism_unavailable;
    case E::temporary_auth_failure:
    case E::sasl_failure:
    case E::server_signature_mismatch:
    case E::bind_failed:
    case E::stream_error:
    case E::protocol_error: return PrebindFailure::upstream_unavailable;
    }
    return PrebindFailure::upstream_unavailable;
}

std::string_view login_error_name(xmpp::LoginError e)
{
    using E = xmpp::LoginError;
    switch (e) {
    case E::mechanism_unavailable: return "no acceptable SASL mechanism";
    case E::not_authorized: return "SASL not-authorized";
    case E::account_disabled: return "SASL account-disabled";
    case E::credentials_expired: return "SASL credentials-expired";
    case E::temporary_auth_failure: return "SASL temporary-auth-failure";
    case E::sasl_failure: return "SASL failure";
    case E::server_signature_mismatch: return "SCRAM server signature mismatch";
    case E::bind_failed: return "resource bind failed";
    case E::stream_error: return "stream error";
    case E::protocol_error: return "protocol error";
    }
    return "?";
}

bosun::Condition condition_for(xmpp::UpstreamClosed::Kind kind)
{
    // XEP-0124 §17.2 (checklist #95, #96). A connection not even tried
    // because of the operator's bound on connections being opened is a
    // configured limit, answered like bosh.max_sessions.
    using K = xmpp::UpstreamClosed::Kind;
    if (kind == K::busy)
        return Condition::policy_violation;
    return kind == K::stream_error ? Condition::remote_stream_error
                                   : Condition::remote_connection_failed;
}

std::string_view kind_name(xmpp::UpstreamClosed::Kind kind)
{
    using K = xmpp::UpstreamClosed::Kind;
    switch (kind) {
    case K::connect_failed: return "connect failed";
    case K::busy: return "not tried (too many being opened)";
    case K::tls_failed: return "TLS failed";
    case K::closed: return "closed by server";
    case K::stream_error: return "stream error";
    case K::protocol_error: return "protocol error";
    case K::local: return "closed";
    }
    return "?";
}

}  // namespace

SessionDriver::SessionDriver(SessionManager& manager, std::string client_ip)
    : manager_(manager)
    , client_ip_(std::move(client_ip))
    , timer_(manager.executor())
{
}

SessionDriver::~SessionDriver()
{
    if (upstream_)
        upstream_->close();
}

net::awaitable<BoshHttpResponse> SessionDriver::start(std::string sid, bosh::Negotiated params, bosh::BodyRequest body)
{
    auto self = shared_from_this();
    tag_ = log::sid_tag(sid);
    log::info("sid={} session created for {} from {} (wait={}s hold={})", tag_, params.domain, client_ip_,
              params.wait.count(), params.hold);
    Waiter waiter(manager_.executor());
    const bosh::RequestId id = manager_.next_request_id();
    waiters_[id] = &waiter;
    auto [session, actions] = bosh::Session::create(std::move(sid), std::move(params), manager_.limits(), id,
                                                    body, Clock::now());
    session_.emplace(std::move(session));
    apply(std::move(actions));
    co_return co_await wait_for(id, waiter);
}

net::awaitable<Expected<Prebound, PrebindFailure>> SessionDriver::prebind(std::string sid, bosh::Negotiated params,
                                                                          PrebindLogin login, std::uint64_t next_rid)
{
    auto self = shared_from_this();
    tag_ = log::sid_tag(sid);
    const std::string domain = login.domain;
    log::info("sid={} prebind for {} from {} ({})", tag_, domain, login.client_ip.empty() ? "-" : login.client_ip,
              login.policy == SaslPolicy::anonymous ? "anonymous" : "credentials");
    login_ = std::make_unique<LoginState>(manager_.executor());
    LoginState& state = *login_;
    state.sid = std::move(sid);
    state.params = std::move(params);
    state.next_rid = next_rid;
    state.open = {domain, {}, "en", "1.0"};
    state.request = std::move(login);
    state.signal.expires_after(manager_.prebind_handshake_timeout());
    open_upstream(domain, state.open);
    if (!state.result)
        co_await state.signal.async_wait(net::as_tuple(net::use_awaitable));
    if (!state.result) {
        log::warn("sid={} prebind: upstream login took longer than {}s", tag_,
                  manager_.prebind_handshake_timeout().count());
        finish_login(unexpected(PrebindFailure::timeout));
    }
    auto result = std::move(*state.result);
    login_.reset();
    co_return result;
}

void SessionDriver::on_login_element(const xmpp::Element& element)
{
    LoginState& state = *login_;
    if (!state.machine) {
        // The first element of the post-TLS stream: only now is it known
        // whether the stream is confidential (PLAIN is allowed only then).
        xmpp::LoginRequest req;
        req.domain = state.request.domain;
        req.username = std::move(state.request.username);
        req.secret = std::move(state.request.secret);
        req.policy = sasl_policy(state.request.policy);
        req.resource = std::move(state.request.resource);
        const auto& up = manager_.config().upstreams.at(req.domain);
        req.confidential = (upstream_ && upstream_->tls_active()) || is_loopback_host(up.host);
        state.machine.emplace(std::move(req), [this](std::string_view type) -> std::optional<std::string> {
            return upstream_ ? upstream_->channel_binding(type) : std::nullopt;
        });
    }
    run_login_steps(state.machine->on_element(upstream_header_, element));
}

void SessionDriver::run_login_steps(std::vector<xmpp::LoginStep> steps)
{
    for (auto& step : steps) {
        if (!login_ || login_->result)
            return;
        LoginState& state = *login_;
        if (auto* send = std::get_if<xmpp::LoginSend>(&step)) {
            if (upstream_)
                upstream_->send(std::move(send->xml));
        } else if (std::holds_alternative<xmpp::LoginRestart>(step)) {
            if (upstream_)
                upstream_->restart(state.open);
        } else if (auto* failed = std::get_if<xmpp::LoginFailed>(&step)) {
            // The exact cause, never the SASL text or a secret.
            log::warn("sid={} prebind login failed: {}{}{}{}", tag_, login_error_name(failed->error),
                      failed->condition.empty() ? "" : " ", failed->condition,
                      failed->detail.empty() ? "" : " (" + failed->detail + ")");
            finish_login(unexpected(failure_for(failed->error)));
        } else if (auto* done = std::get_if<xmpp::LoginDone>(&step)) {
            jid_ = std::move(done->jid);
            const auto now = Clock::now();
            session_.emplace(bosh::Session::create_prebound(state.sid, state.params, manager_.limits(),
                                                            state.next_rid, manager_.prebind_attach_timeout(), now));
            log::info("sid={} prebound with {}; waiting {}s for the browser", tag_, done->mechanism,
                      manager_.prebind_attach_timeout().count());
            Prebound p;
            p.jid = jid_;
            p.sid = state.sid;
            p.rid = state.next_rid;
            p.mechanism = std::move(done->mechanism);
            p.wait = static_cast<unsigned>(state.params.wait.count());
            p.hold = state.params.hold;
            p.requests = state.params.requests;
            p.inactivity = static_cast<unsigned>(state.params.inactivity.count());
            finish_login(std::move(p));
            // P2: what arrived after bind waits for the browser.
            for (auto& e : done->early)
                on_upstream_element(std::move(e));
            rearm_timer();
        }
    }
}

void SessionDriver::finish_login(Expected<Prebound, PrebindFailure> result)
{
    if (!login_ || login_->result)
        return;
    if (!result) {
        ended_ = true;
        if (upstream_) {
            upstream_->close();
            upstream_.reset();
        }
    }
    login_->result = std::move(result);
    login_->signal.cancel();
}

SessionInfo SessionDriver::info() const
{
    SessionInfo i;
    i.jid = jid_;
    i.attached = session_ && session_->attached();
    i.ended = ended_;
    return i;
}

void SessionDriver::close(bosun::Condition why)
{
    if (session_ && !ended_)
        apply(session_->close(why, Clock::now()));
}

net::awaitable<BoshHttpResponse> SessionDriver::submit(bosh::BodyRequest body)
{
    auto self = shared_from_this();
    Waiter waiter(manager_.executor());
    const bosh::RequestId id = manager_.next_request_id();
    waiters_[id] = &waiter;
    apply(session_->on_request(id, std::move(body), Clock::now()));
    co_return co_await wait_for(id, waiter);
}

net::awaitable<BoshHttpResponse> SessionDriver::wait_for(bosh::RequestId id, Waiter& waiter)
{
    while (!waiter.response) {
        co_await waiter.signal.async_wait(net::as_tuple(net::use_awaitable));
        if (waiter.response)
            break;
        const auto state = co_await net::this_coro::cancellation_state;
        if (state.cancelled() == net::cancellation_type::none)
            break;
        // The HTTP front end cancelled us: the request's connection closed
        // while it was held. The core answers it without the data, which
        // then waits for the next request ("nothing is lost").
        log::debug("sid={} held request's connection closed", tag_);
        if (session_ && !ended_)
            apply(session_->on_request_gone(id, Clock::now()));
        if (waiter.response)
            break;
        // Not a request the core lets go (the creation request): its answer
        // is still due, so wait on as if nothing happened.
        co_await net::this_coro::reset_cancellation_state();
    }
    waiters_.erase(id);
    if (!waiter.response) {
        // The core answers every request it accepted; reaching here is a bug.
        log::error("sid={} request {} ended without an answer", tag_, id);
        co_return to_http(bosh::Respond{id, 200, bosh::terminate_body(Condition::internal_server_error)});
    }
    co_return to_http(std::move(*waiter.response));
}

BoshHttpResponse SessionDriver::reject(bosun::Condition why)
{
    // A malformed request that names this session ends it (§17.2 bad-request).
    log::info("sid={} malformed request; terminating with {}", tag_, to_wire(why));
    const bosh::RequestId id = manager_.next_request_id();
    Waiter waiter(manager_.executor());
    waiters_[id] = &waiter;
    apply(session_->on_bad_request(id, Clock::now(), why));
    waiters_.erase(id);
    return to_http(waiter.response.value_or(bosh::Respond{id, 200, bosh::terminate_body(why)}));
}

void SessionDriver::shutdown()
{
    if (session_ && !ended_)
        apply(session_->shutdown(Clock::now()));
}

BoshHttpResponse SessionDriver::to_http(bosh::Respond r) const
{
    BoshHttpResponse out;
    out.status = r.status;
    out.body = std::move(r.body);
    if (session_)
        out.content_type = session_->params().content_type;  // §7.1 (checklist #6)
    return out;
}

void SessionDriver::apply(bosh::Actions actions)
{
    // Actions can lead to more events (e.g. a full upstream queue); handle
    // them iteratively so the core is never re-entered.
    while (!actions.empty()) {
        bosh::Actions follow_up;
        for (auto& a : actions)
            apply_one(a, follow_up);
        actions = std::move(follow_up);
    }
    rearm_timer();
}

void SessionDriver::apply_one(bosh::Action& action, bosh::Actions& follow_up)
{
    if (auto* r = std::get_if<bosh::Respond>(&action)) {
        const auto it = waiters_.find(r->request);
        if (it == waiters_.end())
            return;  // the HTTP side is gone; the replay cache keeps the body
        it->second->response = std::move(*r);
        it->second->signal.cancel();
    } else if (auto* open = std::get_if<bosh::OpenUpstream>(&action)) {
        open_upstream(open->to, {open->to, open->from, open->lang, open->version}, open->route);
    } else if (auto* restart = std::get_if<bosh::RestartUpstream>(&action)) {
        if (upstream_)
            upstream_->restart({restart->to, restart->from, restart->lang, restart->version});
    } else if (auto* send = std::get_if<bosh::SendUpstream>(&action)) {
        if (upstream_ && !upstream_->send(std::move(send->data))) {
            log::warn("sid={} upstream write queue over its limit", tag_);
            auto more = session_->on_upstream_closed(Condition::policy_violation, Clock::now());
            follow_up.insert(follow_up.end(), more.begin(), more.end());
        }
    } else if (auto* close = std::get_if<bosh::CloseUpstream>(&action)) {
        close_upstream(std::move(close->undelivered));
    } else if (auto* end = std::get_if<bosh::EndSession>(&action)) {
        ended_ = true;
        timer_.cancel();
        log::info("sid={} session ended ({})", tag_,
                  end->silent ? "inactivity" : end->by_client ? "client terminate" : to_wire(end->why));
        manager_.remove(session_->sid());
    }
}

void SessionDriver::open_upstream(const std::string& domain, xmpp::StreamOpen open, const std::string& route)
{
    const auto& up = manager_.config().upstreams.at(domain);
    xmpp::UpstreamTarget target;
    target.host = up.host;
    target.port = up.port;
    if (!route.empty()) {
        // Checklist #20: 'route' picks the host only if the operator
        // allow-listed it; otherwise it is ignored (never an open relay).
        // TLS policy, trust store and the certificate name stay the domain's.
        const auto& allowed = manager_.config().bosh.allowed_routes;
        if (std::find(allowed.begin(), allowed.end(), route) != allowed.end()) {
            if (auto r = config::parse_route(route)) {
                target.host = r->host;
                target.port = r->port;
                log::info("sid={} upstream by allowed route {}:{}", tag_, r->host, r->port);
            }
        } else {
            log::debug("sid={} route ignored: not in bosh.allowed_routes", tag_);
        }
    }
    target.tls = up.tls;
    target.tls_server_name = up.tls_server_name.empty() ? up.domain : up.tls_server_name;
    target.connect_timeout = manager_.config().bosh.connect_timeout;
    target.max_stanza_bytes = manager_.config().bosh.max_stanza_bytes;
    target.max_write_queue_bytes = manager_.config().bosh.max_pending_bytes;
    upstream_ = xmpp::UpstreamConnection::create(manager_.executor(), std::move(target),
        manager_.tls_context(domain), *this, manager_.opening_gate());
    upstream_->start(std::move(open));
}

void SessionDriver::close_upstream(std::vector<std::string> undelivered)
{
    if (!upstream_)
        return;
    // XEP-0206 §7 (checklist #111): tell the senders before the stream closes.
    for (const auto& stanza : undelivered)
        if (auto reply = xmpp::bounce_stanza(stanza))
            upstream_->send(std::move(*reply));
    upstream_->close();
    upstream_.reset();
}

void SessionDriver::on_upstream_open(const xmpp::StreamHeader& header)
{
    // Only its namespace declarations are kept: they are what telling
    // stream elements apart needs, and idle sessions need not carry the rest.
    upstream_header_.attributes.clear();
    for (const auto& attribute : header.attributes) {
        if (attribute.first == "xmlns" || attribute.first.starts_with("xmlns:"))
            upstream_header_.attributes.push_back(attribute);
    }
    upstream_header_.attributes.shrink_to_fit();
    log::debug("sid={} upstream stream open (id={})", tag_, header.attr("id"));
}

void SessionDriver::on_upstream_element(xmpp::Element element)
{
    if (login_ && !session_) {
        on_login_element(element);
        return;
    }
    bosh::UpstreamElement e;
    if (xmpp::is_stream_element(upstream_header_, element, "features")) {
        e.kind = bosh::UpstreamElement::Kind::features;
        e.xml = std::move(element.xml);
    } else if (xmpp::is_stream_element(upstream_header_, element, "error")) {
        e.kind = bosh::UpstreamElement::Kind::stream_error;
        e.xml = std::move(element.xml);
    } else {
        // XEP-0206 §2 (checklist #105): stanzas carry xmlns='jabber:client'.
        e.xml = xmpp::with_default_namespace(element, xmpp::jabber_client_namespace);
    }
    batch_.push_back(std::move(e));
    // Elements from one read go to the client in one response.
    if (!flush_posted_) {
        flush_posted_ = true;
        net::post(manager_.executor(), [self = shared_from_this()] { self->flush_elements(); });
    }
}

void SessionDriver::flush_elements()
{
    flush_posted_ = false;
    if (batch_.empty() || ended_)
        return;
    std::vector<bosh::UpstreamElement> batch;
    batch.swap(batch_);
    apply(session_->on_upstream(std::move(batch), Clock::now()));
}

void SessionDriver::on_upstream_closed(xmpp::UpstreamClosed why)
{
    if (why.kind == xmpp::UpstreamClosed::Kind::local || ended_)
        return;
    if (login_ && !session_) {
        log::warn("sid={} prebind: upstream {}: {}", tag_, kind_name(why.kind), why.detail);
        finish_login(unexpected(why.kind == xmpp::UpstreamClosed::Kind::busy
                ? PrebindFailure::capacity
                : PrebindFailure::upstream_unavailable));
        return;
    }
    // Operators of other connection managers cannot tell why upstream failed
    // (Punjab #49, #64): say it here.
    log::warn("sid={} upstream {}: {}", tag_, kind_name(why.kind), why.detail);
    flush_elements();
    if (ended_)
        return;
    apply(session_->on_upstream_closed(condition_for(why.kind), Clock::now()));
}

// One timer per session, waited on by a plain handler rather than a
// coroutine: an idle session then holds one small handler, not a spawned
// coroutine's frames (W1 memory, docs/benchmarks.md). Re-arming cancels the
// wait before; the generation tells a stale completion from the live one.
// A deadline that moves later (each new held request's) does not re-arm: the
// armed wait fires first, on_tick finds nothing due, and the timer is set to
// the real deadline then. That is one early wake-up per deadline instead of
// a cancel and a new wait per request (W2 cost per message).
void SessionDriver::rearm_timer()
{
    if (ended_ || !session_)
        return;
    const auto deadline = session_->next_deadline();
    if (!deadline)
        return;
    if (timer_armed_ && timer_.expiry() <= *deadline)
        return;
    timer_.expires_at(*deadline);
    timer_armed_ = true;
    timer_.async_wait([self = shared_from_this(), generation = ++timer_generation_](error_code ec) {
        if (ec || generation != self->timer_generation_)
            return;
        self->on_timer();
    });
}

void SessionDriver::on_timer()
{
    timer_armed_ = false;
    if (ended_)
        return;
    try {
        apply(session_->on_tick(Clock::now()));
    } catch (const std::exception& ex) {
        log::error("sid={} session timer failed: {}", tag_, ex.what());
    }
}

}  // namespace bosun::runtime
