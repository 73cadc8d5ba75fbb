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
    std::optional<ApiResponse> check_limits(
        const Call& call, const PrebindRequest& req, const std::string& ip);
    net::awaitable<ApiResponse> run_prebind(
        Call& call, runtime::PrebindLogin login, std::optional<std::string> display_name);
    std::optional<ApiResponse> resolve_assertion(Call& call, PrebindRequest& req);
    net::awaitable<ApiResponse> post_tickets(Call& call);
    // A one-time ticket for jid, or nullopt when its domain has no ticket strategy.
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
    LoginLockout lockout_;
    AssertionVerifier assertions_;
    struct TicketDomain {
        std::string secret;
        Seconds lifetime;
    };
    std::map<std::string, TicketDomain, std::less<>> tickets_;  // by domain
    std::size_t in_flight_ = 0;
};

}  // namespace bosun::prebind
