#include "prebind/api.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <ctime>
#include <exception>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "common/log.hpp"
#include "common/random.hpp"
#include "prebind/api_key.hpp"
#include "prebind/request.hpp"
#include "prebind/ticket.hpp"
#include "xmpp/sasl.hpp"

namespace bosun::prebind {
namespace {

namespace json = boost::json;
using runtime::PrebindFailure;

constexpr std::string_view retry_soon = "5";

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
        const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
        return lower(x) == lower(y);
    });
}

std::string_view title_for(std::string_view error)
{
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> titles {{
        {"invalid_request", "Invalid request"},
        {"resume_unsupported", "Resume not available for this method"},
        {"unauthenticated", "Missing or invalid API key"},
        {"forbidden", "Not allowed for this client"},
        {"invalid_credentials", "Upstream authentication failed"},
        {"not_found", "Not found"},
        {"unknown_domain", "Domain not served"},
        {"method_not_allowed", "Method not allowed"},
        {"unsupported_media_type", "Unsupported media type"},
        {"rate_limited", "Too many requests"},
        {"not_implemented", "Not implemented"},
        {"upstream_error", "Upstream error"},
        {"unavailable", "Service unavailable"},
        {"upstream_timeout", "Upstream timeout"},
    }};
    for (const auto& [code, title] : titles)
        if (code == error)
            return title;
    return error == "payload_too_large" ? "Payload too large" : "Internal error";
}

// One failure of the runtime -> one problem (§6.3 status table).
struct FailureProblem {
    PrebindFailure why;
    unsigned status;
    std::string_view error;
    std::string_view detail;
    bool retry;
};

constexpr std::array<FailureProblem, 7> failure_problems {{
    {PrebindFailure::not_authorized, 403, "invalid_credentials",
        "the XMPP server rejected the credentials", false},
    {PrebindFailure::mechanism_unavailable, 502, "upstream_error",
        "the XMPP server offers no SASL mechanism Bosun may use", false},
    {PrebindFailure::host_unknown, 404, "unknown_domain", "the domain is not served by Bosun",
        false},
    {PrebindFailure::upstream_unavailable, 502, "upstream_error",
        "could not connect or log in to the XMPP server", false},
    {PrebindFailure::timeout, 504, "upstream_timeout", "the upstream login did not finish in time",
        false},
    {PrebindFailure::capacity, 503, "unavailable", "too many sessions or logins in progress", true},
    {PrebindFailure::draining, 503, "unavailable", "Bosun is shutting down", false},
}};

enum class RouteKind { none, prebind, tickets, session, user_sessions, resume_revoke };

struct Route {
    RouteKind kind = RouteKind::none;
    std::string param;
    std::string_view allow;
    std::string_view name;  // for logs: never the SID itself
};

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// RFC 3986 §2.1 percent-decoding of one path segment; nullopt if malformed
// or if it decodes to a '/' or a control character.
std::optional<std::string> decode_segment(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            const int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1;
            const int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
            if (lo < 0)
                return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '/' || static_cast<unsigned char>(c) < 0x20)
            return std::nullopt;
        out += c;
    }
    if (out.empty())
        return std::nullopt;
    return out;
}

Route route(std::string_view target)
{
    const auto path = target.substr(0, target.find_first_of("?#"));
    if (path == "/v1/prebind")
        return {RouteKind::prebind, {}, "POST", "prebind"};
    if (path == "/v1/tickets")
        return {RouteKind::tickets, {}, "POST", "tickets"};
    if (path == "/v1/resume-tokens/revoke")
        return {RouteKind::resume_revoke, {}, "POST", "resume-tokens revoke"};
    constexpr std::string_view sessions = "/v1/sessions/";
    if (path.starts_with(sessions) && path.find('/', sessions.size()) == std::string_view::npos) {
        if (auto sid = decode_segment(path.substr(sessions.size())))
            return {RouteKind::session, std::move(*sid), "GET, DELETE", "session"};
    }
    constexpr std::string_view users = "/v1/users/";
    constexpr std::string_view user_tail = "/sessions";
    if (path.starts_with(users) && path.ends_with(user_tail)
        && path.size() > users.size() + user_tail.size()) {
        const auto segment
            = path.substr(users.size(), path.size() - users.size() - user_tail.size());
        if (auto jid = decode_segment(segment))
            return {RouteKind::user_sessions, std::move(*jid), "DELETE", "user sessions"};
    }
    return {};
}

bool allows(std::string_view allow, std::string_view method)
{
    for (std::size_t start = 0; start < allow.size();) {
        auto end = allow.find(", ", start);
        if (end == std::string_view::npos)
            end = allow.size();
        if (allow.substr(start, end - start) == method)
            return true;
        start = end + 2;
    }
    return false;
}

// The domain of a bare or full JID.
std::string_view jid_domain(std::string_view jid)
{
    jid = jid.substr(0, jid.find('/'));
    const auto at = jid.find('@');
    return at == std::string_view::npos ? jid : jid.substr(at + 1);
}

// The lockout is per account: servers case-fold localparts (RFC 7613
// UsernameCaseMapped), so "Alice" must not get five fresh guesses.
std::string lockout_key(std::string_view bare_jid)
{
    std::string key(bare_jid);
    for (auto& c : key)
        c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return key;
}

// The same case-folding for the localpart of a JID a caller names.
void fold_local(BareJid& jid)
{
    jid.local = lockout_key(jid.local);
}

bool contains(const std::vector<std::string>& list, std::string_view item)
{
    return std::find(list.begin(), list.end(), item) != list.end();
}

std::string iso8601(std::chrono::system_clock::time_point t)
{
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm {};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

ApiResponse json_response(unsigned status, const json::object& body, std::string request_id)
{
    ApiResponse res;
    res.status = status;
    res.headers = {{"Content-Type", std::string(json_content_type)}, {"Cache-Control", "no-store"},
        {"X-Request-Id", std::move(request_id)}};
    res.body = json::serialize(body);
    return res;
}

ApiResponse rate_limited(Seconds retry_after, std::string_view detail, std::string request_id)
{
    auto res = make_problem(429, "rate_limited", detail, std::move(request_id));
    res.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
    return res;
}

ApiResponse no_content(std::string request_id)
{
    ApiResponse res;
    res.status = 204;
    res.headers = {{"Cache-Control", "no-store"}, {"X-Request-Id", std::move(request_id)}};
    return res;
}

// A POST body: JSON only (415 before it is parsed), read with `parse` (400
// with its detail). Once parsed, the request's copy of the body is wiped: it
// may hold a password, token or assertion.
template <class T>
Expected<T, ApiResponse> parse_json_body(ApiRequest& request, const std::string& request_id,
    Expected<T, std::string> (*parse)(std::string_view))
{
    const auto type = request.header("Content-Type");
    if (!iequals(type.substr(0, type.find(';')), "application/json"))
        return unexpected(
            make_problem(415, "unsupported_media_type", "send application/json", request_id));
    auto parsed = parse(request.body);
    cleanse(request.body);
    if (!parsed)
        return unexpected(make_problem(400, "invalid_request", parsed.error(), request_id));
    return std::move(*parsed);
}

ApiResponse assertion_refused(
    const std::string& request_id, std::string_view client_id, const AssertionFailure& why)
{
    log::info("prebind req={} client={} assertion refused: {}", request_id, client_id, why.detail);
    return make_problem(why.status, why.error, why.detail, request_id);
}

}  // namespace

std::string_view ApiRequest::header(std::string_view name) const
{
    for (const auto& [k, v] : headers)
        if (iequals(k, name))
            return v;
    return {};
}

std::size_t ApiRequest::header_count(std::string_view name) const
{
    return std::count_if(
        headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); });
}

std::string_view ApiResponse::header(std::string_view name) const
{
    for (const auto& [k, v] : headers)
        if (iequals(k, name))
            return v;
    return {};
}

std::string make_request_id()
{
    return fmt::format("{:016x}", random_u64());
}

ApiResponse make_problem(
    unsigned status, std::string_view error, std::string_view detail, std::string request_id)
{
    json::object body;
    body["type"] = fmt::format("{}{}", problem_type_prefix, error);
    body["title"] = title_for(error);
    body["status"] = status;
    body["error"] = error;
    body["detail"] = detail;
    body["request_id"] = request_id;
    auto res = json_response(status, body, std::move(request_id));
    res.headers[0].second = std::string(problem_content_type);
    return res;
}

struct Api::Call {
    ApiRequest request;
    std::string id;
    Route route;
    const PrebindClient* client = nullptr;
    std::optional<AssertedUser> assertion;  // verified, jti not yet spent
    // Resume tokens (§6.7): whether the answer carries one, for which bare
    // JID, and (method resume) the hash of the presented token to rotate.
    bool issue_resume = false;
    std::string resume_jid;
    std::optional<ResumeStore::Hash> resumed;
};

Api::Api(const Config& config, runtime::PrebindService& service, Clocks clocks)
    : cfg_(config.prebind)
    , bosh_(config.bosh)
    , service_(service)
    , clocks_(std::move(clocks))
    , signatures_(cfg_.max_signature_nonces)
    , lockout_(cfg_.failed_login_limit, cfg_.failed_login_window, cfg_.lockout_time)
    , assertions_(cfg_)
    , logins_(config.upstreams)
    , resume_(ResumeLimits {cfg_.resume_idle_lifetime, cfg_.resume_max_lifetime, cfg_.resume_grace,
          cfg_.max_resume_tokens})
{
    for (const auto& client : cfg_.clients)
        for (const auto& key : client.signing_keys) {
            auto secret = read_signing_secret(key.secret_file);
            if (!secret)
                throw std::runtime_error(
                    fmt::format("client {} signing key {}: {}", client.id, key.id, secret.error()));
            signing_keys_[client.id].push_back(SigningSecret {key.id, std::move(*secret)});
        }
}

Api::~Api()
{
    for (auto& [client, keys] : signing_keys_)
        for (auto& key : keys)
            cleanse(key.secret);
}

net::awaitable<ApiResponse> Api::handle(ApiRequest request)
{
    Call call {std::move(request), make_request_id(), {}, nullptr, std::nullopt};
    ApiResponse res;
    try {
        res = co_await dispatch(call);
    } catch (const std::exception& ex) {
        log::error("prebind req={}: {}", call.id, ex.what());
        res = make_problem(500, "internal_error", "internal error", call.id);
    }
    cleanse(call.request.body);
    for (auto& [name, value] : call.request.headers)
        if (iequals(name, "Authorization"))
            cleanse(value);
    log::info("prebind req={} client={} {} {} -> {}", call.id,
        call.client ? std::string_view(call.client->id) : std::string_view("-"),
        call.request.method, call.route.kind == RouteKind::none ? "?" : call.route.name,
        res.status);
    co_return res;
}

const PrebindClient* Api::authenticate(const ApiRequest& request) const
{
    if (request.header_count("Authorization") != 1)
        return nullptr;
    const auto key = bearer_token(request.header("Authorization"));
    const auto id = key ? key_client_id(*key) : std::nullopt;
    if (!id)
        return nullptr;
    const auto client = std::find_if(
        cfg_.clients.begin(), cfg_.clients.end(), [&](const auto& c) { return c.id == *id; });
    if (client == cfg_.clients.end() || !key_matches(*key, client->key_hashes))
        return nullptr;
    return &*client;
}

net::awaitable<ApiResponse> Api::dispatch(Call& call)
{
    call.route = route(call.request.target);
    auto& r = call.route;
    if (r.kind == RouteKind::none)
        co_return make_problem(404, "not_found", "no such resource", call.id);
    if (!allows(r.allow, call.request.method)) {
        auto res = make_problem(405, "method_not_allowed", "method not allowed here", call.id);
        res.headers.emplace_back("Allow", std::string(r.allow));
        co_return res;
    }
    call.client = authenticate(call.request);
    if (!call.client) {
        auto res = make_problem(401, "unauthenticated",
            "send \"Authorization: Bearer bsk_<id>_<secret>\" with a valid API key", call.id);
        res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"bosun-prebind\"");
        co_return res;
    }
    // Before the client's rate limit, so replayed or forged requests made
    // with a stolen API key cannot spend the real caller's budget.
    if (auto refused = check_signature(call))
        co_return std::move(*refused);
    const auto now = clocks_.steady();
    if (auto wait = client_limits_.acquire(call.client->id, call.client->rate_per_minute, now))
        co_return rate_limited(*wait, "client request rate exceeded", call.id);
    if (r.kind == RouteKind::prebind) {
        auto res = co_await post_prebind(call);
        co_return res;
    }
    if (r.kind == RouteKind::tickets) {
        auto res = co_await post_tickets(call);
        co_return res;
    }
    if (r.kind == RouteKind::user_sessions)
        co_return delete_user_sessions(call, r.param);
    if (r.kind == RouteKind::resume_revoke)
        co_return post_resume_revoke(call);
    if (call.request.method == "GET")
        co_return get_session(call, r.param);
    co_return delete_session(call, r.param);
}

// §6.2 item 3, docs/prebind.md "Request signing": checked when the client
// requires it, or when the request is signed and the client has signing keys
// (so a web app can start signing before the operator requires it). nullopt:
// go ahead.
std::optional<ApiResponse> Api::check_signature(const Call& call)
{
    const auto& r = call.request;
    const auto keys = signing_keys_.find(call.client->id);
    const bool signed_request = r.header_count(signature_header) > 0;
    if (!call.client->require_signature && (!signed_request || keys == signing_keys_.end()))
        return std::nullopt;
    static const std::vector<SigningSecret> no_keys;
    for (const auto name : {signature_key_id_header, signature_timestamp_header,
             signature_nonce_header, signature_header})
        if (r.header_count(name) > 1)
            return make_problem(
                400, "invalid_request", fmt::format("{} must appear at most once", name), call.id);
    const SignedRequest signed_view {r.method, r.target, r.body, r.header(signature_key_id_header),
        r.header(signature_timestamp_header), r.header(signature_nonce_header),
        r.header(signature_header)};
    const auto now = std::chrono::floor<std::chrono::seconds>(clocks_.wall());
    const auto ok = signatures_.verify(
        call.client->id, keys == signing_keys_.end() ? no_keys : keys->second, signed_view, now);
    if (ok)
        return std::nullopt;
    log::info("prebind req={} client={} signature refused: {}", call.id, call.client->id,
        to_string(ok.error()));
    if (ok.error() == SignatureError::cache_full) {
        auto res
            = make_problem(503, "unavailable", "too many signed requests; retry shortly", call.id);
        res.headers.emplace_back("Retry-After", std::string(retry_soon));
        return res;
    }
    auto res = make_problem(401, "unauthenticated",
        fmt::format("request signature refused: {} (docs/prebind.md, Request signing)",
            to_string(ok.error())),
        call.id);
    res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"bosun-prebind\"");
    return res;
}

// The client's policy (§6.2): methods, domains, resource. nullopt: allowed.
std::optional<ApiResponse> Api::check_policy(const Call& call, const PrebindRequest& req) const
{
    const auto& client = *call.client;
    if (!contains(client.allowed_methods, to_wire(req.method)))
        return make_problem(403, "forbidden",
            fmt::format("method {} is not allowed for this client", to_wire(req.method)), call.id);
    if (!contains(client.allowed_domains, req.jid.domain))
        return make_problem(403, "forbidden", "domain not allowed for this client", call.id);
    if (req.resource && !client.may_set_resource)
        return make_problem(403, "forbidden", "this client may not choose the resource", call.id);
    return std::nullopt;
}

// §6.8: anonymous logins per end-user IP, the failed-login lockout per JID,
// and the cap on prebinds in progress. nullopt: go ahead.
std::optional<ApiResponse> Api::check_limits(
    const Call& call, const PrebindRequest& req, const std::string& ip)
{
    const auto now = clocks_.steady();
    if (req.method == Method::anonymous) {
        if (auto wait = anonymous_limits_.acquire(ip, cfg_.anonymous_per_ip_per_minute, now))
            return rate_limited(*wait, "too many anonymous logins from this address", call.id);
    } else if (auto wait = lockout_.locked(lockout_key(req.jid.text()), now)) {
        return rate_limited(*wait, "too many failed logins", call.id);
    } else if (!req.jid.domain.empty()) {
        // §6.8: per (client, bare JID), so one user's reconnect loop cannot
        // take the whole client's budget.
        const auto& client = *call.client;
        const auto key = fmt::format("{}\n{}", client.id, lockout_key(req.jid.text()));
        if (auto retry = jid_limits_.acquire(key, client.jid_burst, client.jid_per_minute, now))
            return rate_limited(*retry, "too many prebinds for this user", call.id);
    }
    if (in_flight_ >= cfg_.max_in_flight) {
        auto res = make_problem(503, "unavailable", "too many prebinds in progress", call.id);
        res.headers.emplace_back("Retry-After", std::string(retry_soon));
        return res;
    }
    return std::nullopt;
}

net::awaitable<ApiResponse> Api::post_prebind(Call& call)
{
    auto parsed = parse_json_body(call.request, call.id, &parse_prebind_request);
    if (!parsed)
        co_return parsed.error();
    auto& req = *parsed;
    if (auto refused = resolve_resume(call, req))
        co_return std::move(*refused);
    if (auto refused = resolve_assertion(call, req))
        co_return std::move(*refused);
    if (auto refused = check_policy(call, req))
        co_return std::move(*refused);
    const std::string ip = req.client_ip.value_or(call.request.peer_ip);
    if (auto refused = check_limits(call, req, ip))
        co_return std::move(*refused);
    runtime::PrebindLogin login;
    login.domain = req.jid.domain;
    login.username = req.jid.local;
    login.secret = req.secret;  // a copy; req's is wiped when req goes
    call.resume_jid = lockout_key(req.jid.text());
    // resume: the same upstream login as an assertion, for the token's JID.
    if (req.method == Method::assertion || req.method == Method::resume) {
        // The domain's prebind_login strategy (reference §6.4): a one-time
        // ticket checked offline by the server's module, or a short-lived
        // JWT for ejabberd's auth_method: jwt; either bound to this JID.
        std::int64_t exp = 0;
        auto ticket = mint_ticket_for(req.jid, exp);
        if (!ticket)
            co_return make_problem(403, "forbidden",
                "the domain has no upstream strategy for assertions (prebind_login)", call.id);
        login.secret = std::move(*ticket);
    }
    login.policy = req.method == Method::anonymous ? runtime::SaslPolicy::anonymous
        : req.method == Method::password           ? runtime::SaslPolicy::password
                                                   : runtime::SaslPolicy::plain_secret;
    login.resource = req.resource.value_or("");
    login.client_ip = ip;
    if (auto refused = prepare_credentials(call, login))
        co_return std::move(*refused);
    if (auto refused = spend_assertion(call))
        co_return std::move(*refused);
    auto res = co_await run_prebind(call, std::move(login), req.display_name);
    co_return res;
}

// `assertion`: verify the JWT (src/auth, docs/auth.md) before any upstream
// connection, then take the user from its sub. nullopt: go ahead.
std::optional<ApiResponse> Api::resolve_assertion(Call& call, PrebindRequest& req)
{
    if (req.method != Method::assertion)
        return std::nullopt;
    if (!contains(call.client->allowed_methods, "assertion"))
        return make_problem(
            403, "forbidden", "method assertion is not allowed for this client", call.id);
    const auto now = std::chrono::floor<std::chrono::seconds>(clocks_.wall());
    auto user = assertions_.verify(*call.client, req.secret, now);
    cleanse(req.secret);
    if (!user)
        return assertion_refused(call.id, call.client->id, user.error());
    // §6.3: an assertion whose sub is not auth.jid is 403 forbidden.
    auto named = req.jid;
    fold_local(named);
    if (!req.jid.domain.empty() && named.text() != user->jid.text())
        return make_problem(403, "forbidden", "the assertion's sub is not auth.jid", call.id);
    req.jid = user->jid;
    call.assertion = std::move(*user);
    return std::nullopt;
}

// RFC 4013 SASLprep of the username and secret, as PLAIN and SCRAM
// require, before anything goes upstream: a string SASLprep refuses is the
// caller's error (400), and the server would refuse it anyway. The secret is
// never echoed. nullopt: go ahead, with login's strings prepared.
std::optional<ApiResponse> Api::prepare_credentials(const Call& call, runtime::PrebindLogin& login)
{
    if (login.policy == runtime::SaslPolicy::anonymous)
        return std::nullopt;
    const auto prep = [&](std::string& text, std::string_view what) -> std::optional<ApiResponse> {
        if (text.empty())
            return std::nullopt;
        auto prepared = xmpp::sasl::saslprep(text);
        if (!prepared)
            return make_problem(400, "invalid_request",
                fmt::format(
                    "the {} {} (RFC 4013 SASLprep)", what, xmpp::sasl::describe(prepared.error())),
                call.id);
        cleanse(text);
        text = std::move(*prepared);
        return std::nullopt;
    };
    if (auto refused = prep(login.username, "username"))
        return refused;
    return prep(login.secret, login.policy == runtime::SaslPolicy::password ? "password" : "token");
}

// The assertion's jti is spent here, after every other check of the request
// (signature, JWT, sub, client policy, rate limits), right before Bosun acts
// on it: a request refused for policy or a limit leaves the assertion usable
// for a retry within its short exp, and a replay is still refused by the same
// check. Once spent, a failed upstream login does not give it back
// (docs/prebind.md "When the jti is spent"). nullopt: go ahead.
std::optional<ApiResponse> Api::spend_assertion(Call& call)
{
    if (!call.assertion)
        return std::nullopt;
    const auto now = std::chrono::floor<std::chrono::seconds>(clocks_.wall());
    const auto spent = assertions_.spend(*call.assertion, now);
    call.assertion.reset();
    if (spent)
        return std::nullopt;
    return assertion_refused(call.id, call.client->id, spent.error());
}

// `resume` (§6.7) and `issue_resume_token`, before anything else is
// checked: the token names the user (auth.jid, if sent, must be that JID),
// and tokens are offered only where Bosun can log the user in again by
// itself, i.e. by the domain's assertion strategy. nullopt: go ahead.
std::optional<ApiResponse> Api::resolve_resume(Call& call, PrebindRequest& req)
{
    const bool resuming = req.method == Method::resume;
    if (!resuming && !req.issue_resume_token)
        return std::nullopt;
    if (!contains(call.client->allowed_methods, "resume"))
        return make_problem(
            403, "forbidden", "method resume is not allowed for this client", call.id);
    call.issue_resume = true;
    if (!resuming) {
        // Bosun stores no password or token it could log in with again.
        if (req.method != Method::assertion)
            return make_problem(403, "resume_unsupported",
                fmt::format("resume tokens are offered for method assertion only, not {}",
                    to_wire(req.method)),
                call.id);
        return std::nullopt;
    }
    auto holder = resume_.check(req.secret, call.client->id, clocks_.steady());
    cleanse(req.secret);
    if (!holder) {
        const bool reused = holder.error() == ResumeRefusal::reused;
        log::info("prebind req={} client={} resume token refused: {}", call.id, call.client->id,
            reused ? "reused after rotation, family revoked" : "unknown, expired or revoked");
        return make_problem(403, "invalid_credentials",
            reused ? "the resume token was already replaced: all its successors are revoked"
                   : "unknown, expired or revoked resume token",
            call.id);
    }
    if (!req.jid.domain.empty() && lockout_key(req.jid.text()) != holder->jid)
        return make_problem(403, "forbidden", "the resume token is not for auth.jid", call.id);
    auto jid = parse_bare_jid(holder->jid, false);
    if (!jid)
        return make_problem(500, "internal_error", "stored JID unreadable", call.id);
    req.jid = std::move(*jid);
    call.resumed = holder->hash;
    return std::nullopt;
}

std::optional<ResumeStore::Issued> Api::next_resume_token(const Call& call)
{
    const auto now = clocks_.steady();
    if (!call.resumed) {
        auto issued = resume_.issue(call.client->id, call.resume_jid, now);
        log::info("prebind req={} client={} resume token issued, family {}", call.id,
            call.client->id, issued.family);
        return issued;
    }
    auto next = resume_.rotate(*call.resumed, call.client->id, now);
    if (!next) {
        log::info("prebind req={} client={} resume token gone during the login", call.id,
            call.client->id);
        return std::nullopt;
    }
    log::info("prebind req={} client={} resume token rotated, family {}", call.id, call.client->id,
        next->family);
    return std::move(*next);
}

// POST /v1/resume-tokens/revoke: {"resume_token"} revokes that token's
// family, {"jid"} every family of the user held by this client. 204 whether
// or not anything matched (RFC 7009 §2.2: no oracle for tokens).
ApiResponse Api::post_resume_revoke(Call& call)
{
    auto parsed = parse_json_body(call.request, call.id, &parse_revoke_request);
    if (!parsed)
        return parsed.error();
    std::size_t revoked = 0;
    if (parsed->jid) {
        if (!contains(call.client->allowed_domains, parsed->jid->domain))
            return make_problem(403, "forbidden", "domain not allowed for this client", call.id);
        revoked = resume_.revoke_jid(call.client->id, lockout_key(parsed->jid->text()));
    } else {
        revoked = resume_.revoke(parsed->resume_token, call.client->id) ? 1 : 0;
        cleanse(parsed->resume_token);
    }
    log::info("prebind req={} client={} revoked {} resume token famil{}", call.id, call.client->id,
        revoked, revoked == 1 ? "y" : "ies");
    return no_content(call.id);
}

// POST /v1/tickets (Converse credentials_url): {jid, password} where the
// password is a one-time ticket (or, for "ejabberd_jwt", a JWT valid until
// expires_at) for a normal BOSH SASL PLAIN login.
net::awaitable<ApiResponse> Api::post_tickets(Call& call)
{
    auto parsed = parse_json_body(call.request, call.id, &parse_ticket_request);
    if (!parsed)
        co_return parsed.error();
    PrebindRequest req;
    req.method = Method::assertion;
    if (parsed->jid) {
        if (!call.client->tickets_by_jid)
            co_return make_problem(403, "forbidden",
                "this client must present an assertion (tickets_by_jid is off)", call.id);
        req.jid = *parsed->jid;
        fold_local(req.jid);
    } else {
        req.secret = parsed->assertion;
        cleanse(parsed->assertion);
        if (auto refused = resolve_assertion(call, req))
            co_return std::move(*refused);
    }
    if (!contains(call.client->allowed_domains, req.jid.domain))
        co_return make_problem(403, "forbidden", "domain not allowed for this client", call.id);
    if (!logins_.serves(req.jid.domain))
        co_return make_problem(403, "forbidden",
            "the domain has no upstream strategy for tickets (prebind_login)", call.id);
    if (auto refused = spend_assertion(call))
        co_return std::move(*refused);
    std::int64_t exp = 0;
    auto ticket = mint_ticket_for(req.jid, exp);
    if (!ticket)
        co_return make_problem(403, "forbidden",
            "the domain has no upstream strategy for tickets (prebind_login)", call.id);
    json::object body;
    body["jid"] = req.jid.text();
    body["password"] = *ticket;
    body["expires_at"] = iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(exp)));
    cleanse(*ticket);
    log::info("prebind req={} client={} ticket for {}", call.id, call.client->id, req.jid.text());
    co_return json_response(201, body, call.id);
}

std::optional<std::string> Api::mint_ticket_for(const BareJid& jid, std::int64_t& exp) const
{
    auto minted = logins_.mint(jid, std::chrono::floor<std::chrono::seconds>(clocks_.wall()));
    if (!minted)
        return std::nullopt;
    exp = minted->exp;
    return std::move(minted->secret);
}

net::awaitable<ApiResponse> Api::run_prebind(
    Call& call, runtime::PrebindLogin login, std::optional<std::string> display_name)
{
    ++in_flight_;
    struct Release {
        std::size_t& n;
        ~Release() { --n; }
    } release {in_flight_};
    const bool anonymous = login.policy == runtime::SaslPolicy::anonymous;
    const std::string jid
        = anonymous ? login.domain : fmt::format("{}@{}", login.username, login.domain);
    auto out = co_await service_.prebind(std::move(login));
    if (!out) {
        // §6.8: failed logins per JID lead to a lockout (no password oracle).
        if (!anonymous && out.error() == PrebindFailure::not_authorized)
            lockout_.failed(lockout_key(jid), clocks_.steady());
        co_return failure(call, out.error(), jid);
    }
    if (!anonymous)
        lockout_.succeeded(lockout_key(jid));
    auto res = prebound(call, *out, display_name);
    co_return res;
}

ApiResponse Api::prebound(
    Call& call, const runtime::Prebound& out, const std::optional<std::string>& display_name)
{
    json::object body;
    body["jid"] = out.jid;
    body["sid"] = out.sid;
    body["rid"] = out.rid;  // the NEXT rid; Strophe's attach() uses it as is
    // What the runtime negotiated for the session, so the page's attach()
    // and the session agree.
    body["wait"] = out.wait;
    body["hold"] = out.hold;
    body["requests"] = out.requests;
    body["inactivity"] = out.inactivity;
    body["attach_by"] = iso8601(clocks_.wall() + cfg_.attach_timeout);
    if (display_name)
        body["display_name"] = *display_name;  // anonymous: for the page to show
    if (call.issue_resume) {
        auto issued = next_resume_token(call);
        if (!issued) {
            // Revoked (logout, reuse) while the login ran: no session for it.
            service_.end_session(out.sid);
            return make_problem(403, "invalid_credentials",
                "the resume token was revoked during the login", call.id);
        }
        body["resume_token"] = issued->token;
        body["resume_token_expires_at"] = iso8601(clocks_.wall()
            + std::chrono::duration_cast<std::chrono::seconds>(
                issued->expires_at - clocks_.steady()));
        cleanse(issued->token);
    }
    log::info("prebind req={} client={} prebound {} sid={} via {}", call.id, call.client->id,
        out.jid, log::sid_tag(out.sid), out.mechanism);
    return json_response(201, body, call.id);
}

ApiResponse Api::failure(Call& call, PrebindFailure why, const std::string& jid)
{
    const auto it = std::find_if(failure_problems.begin(), failure_problems.end(),
        [why](const FailureProblem& p) { return p.why == why; });
    if (it == failure_problems.end())
        return make_problem(500, "internal_error", "unknown prebind failure", call.id);
    log::info("prebind req={} client={} {} failed: {}", call.id, call.client->id, jid, it->error);
    auto res = make_problem(it->status, it->error, it->detail, call.id);
    if (it->retry)
        res.headers.emplace_back("Retry-After", std::string(retry_soon));
    return res;
}

ApiResponse Api::get_session(Call& call, const std::string& sid)
{
    const auto info = service_.session_info(sid);
    // Another client's session is reported as missing: no oracle for SIDs.
    if (!info || !contains(call.client->allowed_domains, jid_domain(info->jid)))
        return make_problem(404, "not_found", "no such session", call.id);
    json::object body;
    body["state"] = info->ended ? "closed" : info->attached ? "attached" : "pending";
    body["jid"] = info->jid;
    return json_response(200, body, call.id);
}

ApiResponse Api::delete_session(Call& call, const std::string& sid)
{
    const auto info = service_.session_info(sid);
    if (!info || !contains(call.client->allowed_domains, jid_domain(info->jid))
        || !service_.end_session(sid))
        return make_problem(404, "not_found", "no such session", call.id);
    log::info("prebind req={} client={} ended sid={}", call.id, call.client->id, log::sid_tag(sid));
    return no_content(call.id);
}

ApiResponse Api::delete_user_sessions(Call& call, const std::string& text)
{
    const auto jid = parse_bare_jid(text, false);
    if (!jid)
        return make_problem(400, "invalid_request", "not a bare JID \"local@domain\"", call.id);
    if (!contains(call.client->allowed_domains, jid->domain))
        return make_problem(403, "forbidden", "domain not allowed for this client", call.id);
    const auto ended = service_.end_user_sessions(jid->text());
    // A logout or ban also ends resumability, for every client (§6.7).
    const auto revoked = resume_.revoke_user(lockout_key(jid->text()));
    if (revoked > 0)
        log::info("prebind req={} client={} revoked {} resume token famil{} of {}", call.id,
            call.client->id, revoked, revoked == 1 ? "y" : "ies", jid->text());
    log::info("prebind req={} client={} ended {} session(s) of {}", call.id, call.client->id, ended,
        jid->text());
    json::object body;
    body["ended"] = ended;
    return json_response(200, body, call.id);
}

}  // namespace bosun::prebind
