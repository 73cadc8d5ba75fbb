#pragma once
// Routing, CORS and the shape of every response the front end writes. Pure:
// a parsed request goes in, a response comes out; no sockets. Only a POST on
// the BOSH path needs the session service, so answer() leaves that to the
// caller and bosh() dresses the service's answer.

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.hpp"
#include "runtime/session_service.hpp"

namespace bosun::frontend {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

inline constexpr std::string_view problem_content_type = "application/problem+json";
inline constexpr std::string_view allowed_methods = "GET, HEAD, POST, OPTIONS";

// An RFC 9457 problem response: {"type":"about:blank","title":..,"status":..,"detail":..}.
Response make_problem(http::status status, std::string_view detail);

// The path part of a request target: no query, and an absolute-form target
// ("http://host/http-bind") reduced to its path.
std::string_view target_path(std::string_view target);

class Router {
public:
    Router(std::string path, std::vector<std::string> cors_allowed_origins);

    // Answers every request except a POST on the BOSH path (then nullopt:
    // the caller asks the session service and passes its answer to bosh()).
    std::optional<Response> answer(const Request& req, std::size_t session_count) const;
    Response bosh(const Request& req, runtime::BoshHttpResponse out) const;
    const std::string& path() const { return path_; }

private:
    Response status_page(const Request& req, std::size_t session_count) const;
    Response preflight(const Request& req) const;
    std::optional<std::string_view> allowed_origin(const Request& req) const;
    void add_cors(const Request& req, Response& res) const;
    void encode(const Request& req, Response& res) const;

    std::string path_;
    std::vector<std::string> cors_origins_;
};

// XEP-0124 §17.1 (checklist #100): what a POST body too large to read
// starts with decides its answer. 1: the complete start tag of an httpbind
// <body/> (the client speaks BOSH: it gets HTTP 200 + policy-violation,
// not a 413 it may not understand); 0: something else (413); -1: the start
// tag is not complete yet (read more).
int classify_oversized_start(std::string_view body_prefix);

// The BOSH answer to a request body over max_body_bytes (§17.2 policy-violation).
inline constexpr std::string_view oversized_bosh_body
    = "<body type='terminate' condition='policy-violation' xmlns='http://jabber.org/protocol/httpbind'/>";

// Makes a response ready for the wire: version, Connection, no-cache headers,
// Content-Length (never chunked: XEP-0124 §5), and no body for HEAD.
void finalize(Response& res, unsigned version, bool head, bool keep_alive);

// RFC 9110 §5.6.7 IMF-fixdate, for the Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::time_t t);

}  // namespace bosun::frontend
