#include "runtime/session_manager.hpp"

#include <stdexcept>
#include <utility>

#include "common/log.hpp"
#include "common/random.hpp"
#include "runtime/session_driver.hpp"

namespace bosun::runtime {
namespace {

bosh::Limits limits_from(const BoshConfig& c)
{
    bosh::Limits l;
    l.max_wait = c.max_wait;
    l.default_wait = c.default_wait;
    l.inactivity = c.inactivity;
    l.polling = c.polling;
    l.max_hold = c.max_hold;
    l.max_pending_bytes = c.max_pending_bytes;
    l.connect_timeout = c.connect_timeout;
    l.max_pause = c.max_pause;
    l.max_unacked_responses = c.max_unacked_responses;
    l.max_resends = c.max_resends;
    l.front_proxy_timeout = c.front_proxy_timeout;
    return l;
}

// P: the first rid of a prebound session, uniform in [2^40, 2^52): far
// from 0, and 2^53 - 1 (the largest rid JavaScript counts exactly, checklist
// #76) is never reached. The modulo bias is below 2^-11.
std::uint64_t prebind_rid()
{
    constexpr std::uint64_t low = std::uint64_t {1} << 40;
    constexpr std::uint64_t high = std::uint64_t {1} << 52;
    return low + random_u64() % (high - low);
}

std::string ascii_lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view bare(std::string_view jid)
{
    return jid.substr(0, jid.find('/'));
}

}  // namespace

constexpr Duration k_lag_tick {25};
constexpr Duration k_shed_hold {1000};

SessionManager::SessionManager(net::any_io_executor ex, const Config& config)
    : ex_(std::move(ex))
    , config_(config)
    , limits_(limits_from(config.bosh))
    , gate_(std::make_shared<xmpp::OpeningGate>(config.bosh.max_connecting, config.bosh.max_connect_queue))
    , shed_(config.bosh.overload_lag, k_shed_hold)
    , lag_timer_(ex_)
{
    for (const auto& [domain, up] : config_.upstreams) {
        if (up.tls == TlsPolicy::none)
            continue;
        try {
            tls_contexts_[domain] = xmpp::make_upstream_tls_context(up.ca_file);
        } catch (const std::exception& e) {
            throw std::runtime_error("upstream " + domain + ": " + e.what());
        }
    }
}

SessionManager::~SessionManager() = default;

std::shared_ptr<ssl::context> SessionManager::tls_context(const std::string& domain) const
{
    const auto it = tls_contexts_.find(domain);
    return it == tls_contexts_.end() ? nullptr : it->second;
}

void SessionManager::remove(const std::string& sid)
{
    sessions_.erase(sid);
}

namespace {

BoshHttpResponse dropped()
{
    BoshHttpResponse r;
    r.drop_connection = true;
    return r;
}

}  // namespace

BoshHttpResponse SessionManager::error_response(bosun::Condition why, bool legacy) const
{
    BoshHttpResponse r;
    // §17.1 (checklist #24): legacy clients get 400/403/404.
    if (legacy) {
        if (auto status = legacy_http_status(why)) {
            r.status = *status;
            return r;
        }
    }
    r.body = bosh::terminate_body(why);
    return r;
}

// What handle() does with a request, decided without suspending: a
// coroutine keeps every local in its frame, and this frame lives as long
// as a held long poll, so it should carry one BodyRequest and no more
// (W1 memory, docs/benchmarks.md).
struct SessionManager::Routed {
    std::optional<BoshHttpResponse> answer;  ///< answered at once
    std::shared_ptr<SessionDriver> driver;  ///< the session's; null: create one
    bosh::BodyRequest body;
};

SessionManager::Routed SessionManager::route(BoshHttpRequest& request)
{
    Routed routed;
    if (request.over_limit) {
        // §17.2 (checklist #100): a body over the limit ends the session it
        // names, if its start tag still tells which one.
        auto start = bosh::parse_body(request.body);
        const std::optional<std::string> sid = start ? start.value().sid : start.error().sid;
        log::info("request from {} over the body limit: policy-violation", request.client_ip);
        routed.answer = answer_failed(sid, Condition::policy_violation, request.secure);
        return routed;
    }
    auto parsed = bosh::parse_body(request.body);
    request.body = std::string();  // parsed: a held request need not keep it
    if (!parsed) {
        const auto& failure = parsed.error();
        log::debug("bad request from {}: {}", request.client_ip, failure.detail);
        routed.answer = answer_failed(failure.sid, failure.condition, request.secure);
        return routed;
    }
    routed.body = std::move(*parsed);
    if (!routed.body.sid)
        return routed;
    const auto it = sessions_.find(*routed.body.sid);
    if (it == sessions_.end()) {
        // §17.2 (checklist #17, #92): unknown or expired sid.
        routed.answer = error_response(Condition::item_not_found, false);
        return routed;
    }
    const auto& driver = it->second;
    if (!driver->admits(request.secure)) {
        // §19.1 (checklist #9): not terminated, so that whoever can reach
        // the plain port cannot end someone's TLS session.
        log::info("{}: plain HTTP request for a session created over TLS: connection closed",
            driver->tag());
        routed.answer = dropped();
        return routed;
    }
    driver->note_scheme(request.secure);  // a prebound session's attach
    routed.driver = driver;
    return routed;
}

// A request that could not be served ends the session it names, if any.
BoshHttpResponse SessionManager::answer_failed(
    const std::optional<std::string>& sid, bosun::Condition why, bool secure)
{
    if (sid) {
        if (auto it = sessions_.find(*sid); it != sessions_.end()) {
            if (!it->second->admits(secure))
                return dropped();
            return it->second->reject(why);
        }
    }
    return error_response(why, false);
}

net::awaitable<BoshHttpResponse> SessionManager::handle(BoshHttpRequest request)
{
    auto routed = route(request);
    if (routed.answer)
        co_return std::move(*routed.answer);
    // The awaitable is made in a statement of its own: an argument built in
    // the co_await's full expression (a BodyRequest, ~500 bytes) would stay
    // in this frame for the whole wait.
    net::awaitable<BoshHttpResponse> next = routed.driver
        ? routed.driver->submit(std::move(routed.body))
        : create_session(std::move(routed.body), std::move(request.client_ip), request.secure);
    co_return co_await std::move(next);
}

net::awaitable<BoshHttpResponse> SessionManager::create_session(
    bosh::BodyRequest body, std::string client_ip, bool secure)
{
    const bool legacy = !body.ver;
    if (draining_)
        co_return error_response(Condition::system_shutdown, legacy);  // checklist #98
    if (sessions_.size() >= config_.bosh.max_sessions) {
        log::warn("session limit ({}) reached; refusing a session from {}", config_.bosh.max_sessions, client_ip);
        co_return error_response(Condition::policy_violation, legacy);
    }
    if (shed_new_session("session"))
        co_return error_response(Condition::policy_violation, legacy);
    auto negotiated = bosh::negotiate(body, limits_, [this](const std::string& domain) {
        return config_.upstreams.count(domain) > 0;
    });
    if (!negotiated) {
        log::info("session refused from {}: {}", client_ip, to_wire(negotiated.error()));
        co_return error_response(negotiated.error(), legacy);
    }
    std::string sid = make_sid();
    auto driver = std::make_shared<SessionDriver>(*this, std::move(client_ip));
    driver->note_scheme(secure);  // checklist #9
    sessions_.emplace(sid, driver);
    co_return co_await driver->start(std::move(sid), std::move(*negotiated), std::move(body));
}

void SessionManager::set_prebind_timeouts(Seconds attach, Seconds handshake)
{
    attach_timeout_ = attach;
    handshake_timeout_ = handshake;
}

net::awaitable<Expected<Prebound, PrebindFailure>> SessionManager::prebind(PrebindLogin login)
{
    if (draining_)
        co_return unexpected(PrebindFailure::draining);
    if (!config_.upstreams.contains(login.domain))
        co_return unexpected(PrebindFailure::host_unknown);
    if (sessions_.size() + logins_in_flight_ >= config_.bosh.max_sessions) {
        log::warn("session limit ({}) reached; refusing a prebind", config_.bosh.max_sessions);
        co_return unexpected(PrebindFailure::capacity);
    }
    if (shed_new_session("prebind"))
        co_return unexpected(PrebindFailure::capacity);
    // The parameters a Strophe attach() assumes (hold 1), within the
    // operator's caps exactly as a creation request would get them. Wait
    // 59 s, as Converse asks for: Strophe gives up on a request at 1.1 x its
    // own wait (60 s), and the answer must arrive before that.
    bosh::BodyRequest creation;
    creation.to = login.domain;
    creation.ver = bosh::Version {1, 11};
    creation.hold = 1;
    creation.wait = 59;
    auto negotiated = bosh::negotiate(creation, limits_, [](const std::string&) { return true; });
    if (!negotiated)
        co_return unexpected(PrebindFailure::host_unknown);
    std::string sid = make_sid();
    auto driver = std::make_shared<SessionDriver>(*this, login.client_ip);
    ++logins_in_flight_;
    auto result = co_await driver->prebind(sid, std::move(*negotiated), std::move(login), prebind_rid());
    --logins_in_flight_;
    if (result && !driver->ended())
        sessions_.emplace(std::move(sid), std::move(driver));
    co_return result;
}

std::optional<SessionInfo> SessionManager::session_info(const std::string& sid) const
{
    const auto it = sessions_.find(sid);
    if (it == sessions_.end())
        return std::nullopt;
    return it->second->info();
}

bool SessionManager::end_session(const std::string& sid)
{
    const auto it = sessions_.find(sid);
    if (it == sessions_.end())
        return false;
    auto driver = it->second;  // closing removes it from the table
    // The browser's held request learns the session is over; Converse then
    // asks its prebind_url again.
    driver->close(Condition::other_request);
    sessions_.erase(sid);
    return true;
}

std::size_t SessionManager::end_user_sessions(const std::string& bare_jid)
{
    const std::string wanted = ascii_lower(bare_jid);
    std::vector<std::string> sids;
    for (const auto& [sid, d] : sessions_)
        if (!d->jid().empty() && ascii_lower(bare(d->jid())) == wanted)
            sids.push_back(sid);
    for (const auto& sid : sids)
        end_session(sid);
    return sids.size();
}

// ---- Overload protection (bosh.overload_lag_ms) ----
//
// A tick every k_lag_tick measures how late the loop runs it: the time the
// handlers queued ahead of it took. Late by more than the bound, and new
// sessions and prebinds are refused for k_shed_hold after the last late
// tick; existing sessions are served as before. The log gets one line when
// shedding starts and one when it ends, never one per refusal.

bool SessionManager::shed_new_session(std::string_view what)
{
    if (!shed_.shedding(Clock::now()))
        return false;
    shed_.note_refused();
    log::debug("overloaded: refusing a new {}", what);
    return true;
}

void SessionManager::start_load_monitor()
{
    if (!shed_.enabled())
        return;
    arm_lag_tick();
}

void SessionManager::arm_lag_tick()
{
    lag_timer_.expires_after(k_lag_tick);
    lag_timer_.async_wait([this](error_code ec) {
        if (!ec && !draining_)
            on_lag_tick();
    });
}

void SessionManager::on_lag_tick()
{
    const auto now = Clock::now();
    const auto late = std::chrono::duration_cast<Duration>(now - lag_timer_.expiry());
    if (shed_.on_tick(late, now)) {
        if (shed_.shedding(now))
            log::warn("event loop {} ms late (bosh.overload_lag_ms {}): refusing new sessions "
                      "for at least {} ms",
                late.count(), shed_.max_lag().count(), k_shed_hold.count());
        else
            log::warn("event loop on time again: {} new sessions refused, worst lag {} ms",
                shed_.refused(), shed_.worst_lag().count());
    }
    arm_lag_tick();
}

void SessionManager::shutdown()
{
    draining_ = true;
    lag_timer_.cancel();
    // Copy: shutting a session down removes it from the table.
    std::vector<std::shared_ptr<SessionDriver>> drivers;
    drivers.reserve(sessions_.size());
    for (const auto& [sid, d] : sessions_)
        drivers.push_back(d);
    for (const auto& d : drivers)
        d->shutdown();
    sessions_.clear();
}

}  // namespace bosun::runtime
