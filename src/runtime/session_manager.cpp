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

SessionManager::SessionManager(net::any_io_executor ex, const Config& config)
    : ex_(std::move(ex))
    , config_(config)
    , limits_(limits_from(config.bosh))
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

net::awaitable<BoshHttpResponse> SessionManager::handle(BoshHttpRequest request)
{
    if (request.over_limit) {
        // §17.2 (checklist #100): a body over the limit ends the session it
        // names, if its start tag still tells which one.
        auto start = bosh::parse_body(request.body);
        const std::optional<std::string> sid = start ? start.value().sid : start.error().sid;
        log::info("request from {} over the body limit: policy-violation", request.client_ip);
        if (sid) {
            if (auto it = sessions_.find(*sid); it != sessions_.end()) {
                auto driver = it->second;
                co_return driver->reject(Condition::policy_violation);
            }
        }
        co_return error_response(Condition::policy_violation, false);
    }
    auto parsed = bosh::parse_body(request.body);
    if (!parsed) {
        const auto& failure = parsed.error();
        log::debug("bad request from {}: {}", request.client_ip, failure.detail);
        if (failure.sid) {
            if (auto it = sessions_.find(*failure.sid); it != sessions_.end()) {
                auto driver = it->second;
                co_return driver->reject(failure.condition);
            }
        }
        co_return error_response(failure.condition, false);
    }
    bosh::BodyRequest body = std::move(*parsed);
    if (!body.sid)
        co_return co_await create_session(std::move(body), std::move(request.client_ip));
    const auto it = sessions_.find(*body.sid);
    if (it == sessions_.end()) {
        // §17.2 (checklist #17, #92): unknown or expired sid.
        co_return error_response(Condition::item_not_found, false);
    }
    auto driver = it->second;
    co_return co_await driver->submit(std::move(body));
}

net::awaitable<BoshHttpResponse> SessionManager::create_session(bosh::BodyRequest body, std::string client_ip)
{
    const bool legacy = !body.ver;
    if (draining_)
        co_return error_response(Condition::system_shutdown, legacy);  // checklist #98
    if (sessions_.size() >= config_.bosh.max_sessions) {
        log::warn("session limit ({}) reached; refusing a session from {}", config_.bosh.max_sessions, client_ip);
        co_return error_response(Condition::policy_violation, legacy);
    }
    auto negotiated = bosh::negotiate(body, limits_, [this](const std::string& domain) {
        return config_.upstreams.count(domain) > 0;
    });
    if (!negotiated) {
        log::info("session refused from {}: {}", client_ip, to_wire(negotiated.error()));
        co_return error_response(negotiated.error(), legacy);
    }
    std::string sid = make_sid();
    auto driver = std::make_shared<SessionDriver>(*this, std::move(client_ip));
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

void SessionManager::shutdown()
{
    draining_ = true;
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
