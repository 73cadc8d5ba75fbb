#pragma once
// The prebind API (docs/prebind.md, reference/prebind-and-auth.md §6.3),
// independent of the transport: a parsed request goes in, a response comes
// out. Caller authentication (API keys), per-client policy, rate limits,
// strict JSON, the mapping of runtime::PrebindFailure to HTTP problems.
// ApiServer (server.hpp) puts it on a socket; tests call handle() directly.
//
// Threading: like the HTTP front end, everything runs on one
// single-threaded executor; handle() is not safe to call concurrently from
// several threads.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bosun/config.hpp"
#include "common/asio.hpp"
#include "prebind/assertion.hpp"
#include "prebind/rate_limit.hpp"
#include "prebind/request.hpp"
#include "prebind/resume.hpp"
#include "prebind/signing.hpp"
#include "prebind/upstream_login.hpp"
#include "runtime/prebind_service.hpp"

namespace bosun::prebind {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct ApiRequest {
    std::string method;  // "POST", "GET", ...
    std::string target;  // origin-form: "/v1/prebind"
    Headers headers;
    std::string body;  // wiped after parsing: it may hold a password
    std::string peer_ip;  // the caller (web back end), not the end user

    // The first value of a header, name compared case-insensitively; empty if absent.
    std::string_view header(std::string_view name) const;
    std::size_t header_count(std::string_view name) const;
};

struct ApiResponse {
    unsigned status = 200;
    Headers headers;  // Content-Type, Cache-Control, X-Request-Id, ...
    std::string body;

    std::string_view header(std::string_view name) const;
};

inline constexpr std::string_view json_content_type = "application/json; charset=utf-8";
inline constexpr std::string_view problem_content_type = "application/problem+json";
inline constexpr std::string_view problem_type_prefix = "urn:bosun:problem:";

// An RFC 9457 problem: {type, title, status, error, detail, request_id} with
// Cache-Control: no-store and X-Request-Id. `error` is the §6.3 code.
ApiResponse make_problem(
    unsigned status, std::string_view error, std::string_view detail, std::string request_id);

// 16 random hex digits.
std::string make_request_id();

struct Clocks {
    std::function<TimePoint()> steady = [] { return Clock::now(); };
    std::function<std::chrono::system_clock::time_point()> wall
        = [] { return std::chrono::system_clock::now(); };
};

class Api {
public:
    // `service` must outlive the Api. The config is copied. Assertion keys
    // and ticket secrets are read here: throws std::runtime_error (naming
    // the file, never its bytes) when one cannot be loaded.
    Api(const Config& config, runtime::PrebindService& service, Clocks clocks = {});
    ~Api();
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;

    net::awaitable<ApiResponse> handle(ApiRequest request);

    std::size_t in_flight() const { return in_flight_; }

private:
    struct Call;
    net::awaitable<ApiResponse> dispatch(Call& call);
    net::awaitable<ApiResponse> post_prebind(Call& call);
    std::optional<ApiResponse> check_policy(const Call& call, const PrebindRequest& req) const;
    std::optional<ApiResponse> check_signature(const Call& call);
    std::optional<ApiResponse> check_limits(
        const Call& call, const PrebindRequest& req, const std::string& ip);
    net::awaitable<ApiResponse> run_prebind(
        Call& call, runtime::PrebindLogin login, std::optional<std::string> display_name);
    std::optional<ApiResponse> resolve_assertion(Call& call, PrebindRequest& req);
    std::optional<ApiResponse> resolve_resume(Call& call, PrebindRequest& req);
    // The token of a prebind that asked for one (a new family, or the
    // successor of the presented token); nullopt if the family went meanwhile.
    std::optional<ResumeStore::Issued> next_resume_token(const Call& call);
    ApiResponse post_resume_revoke(Call& call);
    std::optional<ApiResponse> spend_assertion(Call& call);
    std::optional<ApiResponse> prepare_credentials(const Call& call, runtime::PrebindLogin& login);
    net::awaitable<ApiResponse> post_tickets(Call& call);
    // The upstream secret for jid by its domain's prebind_login strategy (a
    // one-time ticket or an ejabberd JWT), or nullopt when it has none.
    std::optional<std::string> mint_ticket_for(const BareJid& jid, std::int64_t& exp) const;
    ApiResponse get_session(Call& call, const std::string& sid);
    ApiResponse delete_session(Call& call, const std::string& sid);
    ApiResponse delete_user_sessions(Call& call, const std::string& jid);
    const PrebindClient* authenticate(const ApiRequest& request) const;
    ApiResponse prebound(
        Call& call, const runtime::Prebound& out, const std::optional<std::string>& display_name);
    ApiResponse failure(Call& call, runtime::PrebindFailure why, const std::string& jid);

    PrebindConfig cfg_;
    BoshConfig bosh_;
    runtime::PrebindService& service_;
    Clocks clocks_;
    RateLimiter client_limits_;
    RateLimiter anonymous_limits_;
    RateLimiter jid_limits_;  // per (client, bare JID), §6.8
    SignatureVerifier signatures_;
    std::map<std::string, std::vector<SigningSecret>, std::less<>> signing_keys_;  // by client
    LoginLockout lockout_;
    AssertionVerifier assertions_;
    LoginMinter logins_;  // prebind_login strategies, by domain
    ResumeStore resume_;  // resume tokens, §6.7
    std::size_t in_flight_ = 0;
};

}  // namespace bosun::prebind
