#include "http/router.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "http/coding.hpp"

#if __has_include("bosun_version.h")
#include "bosun_version.h"
#endif
#ifndef BOSUN_VERSION
#define BOSUN_VERSION "dev"
#endif

namespace bosun::frontend {
namespace {

constexpr std::string_view cors_methods = "POST, GET, OPTIONS";
// Only what a BOSH client sends; anything else fails the browser's check.
constexpr std::string_view cors_headers = "Content-Type";
constexpr std::string_view cors_max_age = "86400";

std::string json_escape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
            out += c;
        }
    }
    return out;
}

Response make_text(http::status status, std::string_view content_type, std::string body)
{
    Response res {status, 11};
    res.set(http::field::content_type, content_type);
    res.body() = std::move(body);
    return res;
}

bool has_query(std::string_view target)
{
    const auto q = target.find('?');
    return q != std::string_view::npos && q + 1 < target.size();
}

}  // namespace

Response make_problem(http::status status, std::string_view detail)
{
    const auto title = http::obsolete_reason(status);
    return make_text(status, problem_content_type,
        fmt::format(R"({{"type":"about:blank","title":"{}","status":{},"detail":"{}"}})",
            json_escape({title.data(), title.size()}), static_cast<unsigned>(status),
            json_escape(detail)));
}

std::string_view target_path(std::string_view target)
{
    // RFC 9112 §3.2.2: a server accepts the absolute form too.
    if (const auto scheme = target.find("://");
        scheme != std::string_view::npos && !target.starts_with('/')) {
        const auto slash = target.find('/', scheme + 3);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    return target.substr(0, target.find_first_of("?#"));
}

Router::Router(std::string path, std::vector<std::string> cors_allowed_origins)
    : path_(std::move(path))
    , cors_origins_(std::move(cors_allowed_origins))
{
}

std::optional<Response> Router::answer(const Request& req, std::size_t session_count) const
{
    const std::string_view target {req.target().data(), req.target().size()};
    if (target_path(target) != path_)
        return make_problem(http::status::not_found, "no such resource; BOSH is served elsewhere");
    switch (req.method()) {
    case http::verb::post:
        return std::nullopt;
    case http::verb::get:
    case http::verb::head:
        // checklist #10: a GET with a query is XEP-0252 Script Syntax, which we
        // do not support; 404 rather than a page the script would misread.
        if (has_query(target))
            return make_problem(
                http::status::not_found, "script syntax (XEP-0252) is not supported");
        return status_page(req, session_count);
    case http::verb::options:
        return preflight(req);
    default: {
        auto res = make_problem(http::status::method_not_allowed, "use POST for BOSH requests");
        res.set(http::field::allow, allowed_methods);
        return res;
    }
    }
}

Response Router::bosh(const Request& req, runtime::BoshHttpResponse out) const
{
    // A final response only: a 1xx or nonsense code from the service is our bug.
    const bool valid = out.status >= 200 && out.status <= 599;
    Response res {
        valid ? static_cast<http::status>(out.status) : http::status::internal_server_error, 11};
    res.set(http::field::content_type, out.content_type);
    res.body() = std::move(out.body);
    add_cors(req, res);
    encode(req, res);
    return res;
}

void Router::encode(const Request& req, Response& res) const
{
    // XEP-0124 §5 (checklist #4): compressed when the client accepts it.
    // The representation depends on Accept-Encoding either way.
    const auto vary = res.find(http::field::vary);
    res.set(http::field::vary,
        vary == res.end() ? std::string("Accept-Encoding")
                          : fmt::format("{}, Accept-Encoding",
                              std::string_view(vary->value().data(), vary->value().size())));
    if (res.body().size() < min_compressed_size)
        return;
    const auto header = req.find(http::field::accept_encoding);
    const auto coding = choose_response_coding(header == req.end()
            ? std::nullopt
            : std::optional<std::string_view>(
                std::string_view(header->value().data(), header->value().size())));
    if (coding == Coding::identity)
        return;
    auto packed = compress(res.body(), coding);
    if (!packed)
        return;
    res.body() = std::move(*packed);
    const auto name = coding_name(coding);
    res.set(http::field::content_encoding, std::string_view(name.data(), name.size()));
}

Response Router::status_page(const Request& req, std::size_t session_count) const
{
    auto res = make_text(http::status::ok, "text/plain; charset=utf-8",
        fmt::format("Bosun {} BOSH endpoint: POST XEP-0124 bodies here. Sessions: {}.\n",
            BOSUN_VERSION, session_count));
    add_cors(req, res);
    return res;
}

Response Router::preflight(const Request& req) const
{
    // RFC 9110 §9.3.7: without Origin this is a plain OPTIONS, not CORS.
    if (req.find(http::field::origin) == req.end()) {
        Response res {http::status::no_content, 11};
        res.set(http::field::allow, allowed_methods);
        return res;
    }
    const auto origin = allowed_origin(req);
    if (!origin)
        return make_problem(http::status::forbidden, "origin not allowed");
    // checklist #11: the browser needs ACAO, methods and Content-Type allowed.
    Response res {http::status::no_content, 11};
    res.set(http::field::access_control_allow_origin, *origin);
    res.set(http::field::access_control_allow_methods, cors_methods);
    res.set(http::field::access_control_allow_headers, cors_headers);
    res.set(http::field::access_control_max_age, cors_max_age);
    res.set(http::field::vary, "Origin");
    return res;
}

std::optional<std::string_view> Router::allowed_origin(const Request& req) const
{
    const auto it = req.find(http::field::origin);
    if (it == req.end())
        return std::nullopt;
    const std::string_view origin {it->value().data(), it->value().size()};
    // Exact match only, never "*" (checklist #11, P7).
    const auto match = std::find(cors_origins_.begin(), cors_origins_.end(), origin);
    if (match == cors_origins_.end())
        return std::nullopt;
    return std::string_view(*match);
}

void Router::add_cors(const Request& req, Response& res) const
{
    const auto origin = allowed_origin(req);
    if (!origin)
        return;
    res.set(http::field::access_control_allow_origin, *origin);
    res.set(http::field::vary, "Origin");
}

int classify_oversized_start(std::string_view body)
{
    std::size_t i = 0;
    while (i < body.size()
        && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        ++i;
    if (body.substr(i).starts_with("<?xml")) {
        const auto end = body.find("?>", i);
        if (end == std::string_view::npos)
            return -1;
        i = body.find('<', end + 2);
        if (i == std::string_view::npos)
            return -1;
    }
    if (body.size() - i < 5)
        return -1;
    if (body.compare(i, 5, "<body") != 0)
        return 0;
    const auto close = body.find('>', i);
    if (close == std::string_view::npos)
        return -1;
    return body.substr(i, close - i).find("http://jabber.org/protocol/httpbind")
            != std::string_view::npos
        ? 1
        : 0;
}

void finalize(Response& res, unsigned version, bool head, bool keep_alive)
{
    res.version(version == 10 ? 10 : 11);
    res.keep_alive(keep_alive);
    // checklist #10: nothing we send may be cached.
    res.set(http::field::cache_control, "no-store, no-cache");
    res.set(http::field::pragma, "no-cache");
    // RFC 9110 §8.6: no Content-Length on 1xx and 204.
    const bool bodyless = res.result() == http::status::no_content || res.result_int() < 200;
    if (bodyless) {
        res.body().clear();
        res.erase(http::field::content_length);
        return;
    }
    res.content_length(res.body().size());
    if (head)
        res.body().clear();
}

std::string http_date(std::time_t t)
{
    std::tm tm {};
    gmtime_r(&t, &tm);
    // Fixed English names: strftime's %a and %b follow the locale.
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[]
        = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", days[tm.tm_wday], tm.tm_mday,
        months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace bosun::frontend
