#include "prebind/request.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/memory_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <functional>
#include <new>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "common/asio.hpp"
#include "config/syntax.hpp"
#include "prebind/api_key.hpp"

namespace bosun::prebind {
namespace {

namespace json = boost::json;

constexpr std::size_t max_localpart_bytes = 1023;  // RFC 7622 §3.3.1
constexpr std::size_t max_resource_bytes = 1023;  // RFC 7622 §3.4.1
constexpr std::size_t max_display_name_bytes = 256;
constexpr std::size_t max_depth = 8;

struct MethodName {
    std::string_view name;
    Method method;
};
constexpr std::array<MethodName, 5> method_names {{
    {"password", Method::password},
    {"token", Method::token},
    {"anonymous", Method::anonymous},
    {"assertion", Method::assertion},
    {"resume", Method::resume},
}};

// Frees nothing without overwriting it first: the parsed value holds the
// password or token, and the parser's scratch space may too.
class CleansingResource final : public json::memory_resource {
    void* do_allocate(std::size_t n, std::size_t align) override
    {
        return ::operator new(n, std::align_val_t(align));
    }
    void do_deallocate(void* p, std::size_t n, std::size_t align) override
    {
        OPENSSL_cleanse(p, n);
        ::operator delete(p, n, std::align_val_t(align));
    }
    bool do_is_equal(const json::memory_resource& other) const noexcept override
    {
        return this == &other;
    }
};

// A basic_parser handler that builds nothing and fails on a member name that
// repeats within one object: "last one wins" would let two readers of the
// same body disagree. Only names are kept, never values.
struct DuplicateKeyCheck {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    using sv = json::string_view;

    std::vector<std::set<std::string, std::less<>>> open;
    std::string key;
    bool duplicate = false;

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t, error_code&) { return true; }
    bool on_object_begin(error_code&) { return open.emplace_back(), true; }
    bool on_object_end(std::size_t, error_code&) { return open.pop_back(), true; }
    bool on_string_part(sv, std::size_t, error_code&) { return true; }
    bool on_string(sv, std::size_t, error_code&) { return true; }
    bool on_key_part(sv s, std::size_t, error_code&)
    {
        return key.append(s.data(), s.size()), true;
    }
    bool on_key(sv s, std::size_t, error_code& ec)
    {
        key.append(s.data(), s.size());
        const bool fresh = open.back().insert(std::move(key)).second;
        key.clear();
        duplicate = !fresh;
        if (duplicate)
            ec = json::error::syntax;
        return fresh;
    }
    bool on_number_part(sv, error_code&) { return true; }
    bool on_int64(std::int64_t, sv, error_code&) { return true; }
    bool on_uint64(std::uint64_t, sv, error_code&) { return true; }
    bool on_double(double, sv, error_code&) { return true; }
    bool on_bool(bool, error_code&) { return true; }
    bool on_null(error_code&) { return true; }
    bool on_comment_part(sv, error_code&) { return true; }
    bool on_comment(sv, error_code&) { return true; }
};

json::parse_options strict_options()
{
    json::parse_options opt;
    opt.max_depth = max_depth;
    return opt;
}

bool has_duplicate_keys(std::string_view body)
{
    json::basic_parser<DuplicateKeyCheck> p(strict_options());
    error_code ec;
    p.write_some(false, body.data(), body.size(), ec);
    return p.handler().duplicate;
}

using Error = Unexpected<std::string>;

Error fail(std::string text)
{
    return unexpected(std::move(text));
}

// Members of `object` outside `allowed`; the first is named in the error.
std::optional<std::string> unknown_member(
    const json::object& object, std::initializer_list<std::string_view> allowed)
{
    for (const auto& member : object) {
        const std::string_view key {member.key().data(), member.key().size()};
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
            return std::string(key);
    }
    return std::nullopt;
}

// A string member: nullopt if absent; error if present but not a string.
Expected<std::optional<std::string>, std::string> string_member(
    const json::object& object, std::string_view path, std::string_view name)
{
    const auto* v = object.if_contains(name);
    if (!v)
        return std::optional<std::string>();
    if (!v->is_string())
        return fail(fmt::format("\"{}{}\" must be a string", path, name));
    const auto& s = v->get_string();
    return std::optional<std::string>(std::string(s.data(), s.size()));
}

bool has_control_chars(std::string_view text)
{
    return std::any_of(text.begin(), text.end(),
        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

std::optional<Method> method_from_wire(std::string_view name)
{
    for (const auto& m : method_names)
        if (m.name == name)
            return m.method;
    return std::nullopt;
}

std::string_view to_wire(Method method)
{
    for (const auto& m : method_names)
        if (m.method == method)
            return m.name;
    return "?";
}

std::optional<BareJid> parse_bare_jid(std::string_view text, bool domain_only)
{
    const auto at = text.find('@');
    if (domain_only != (at == std::string_view::npos))
        return std::nullopt;
    BareJid jid;
    if (!domain_only) {
        const auto local = text.substr(0, at);
        const bool bad_local = local.empty() || local.size() > max_localpart_bytes
            || has_control_chars(local)
            || local.find_first_of("\"&'/:<>@ ") != std::string_view::npos;
        if (bad_local)
            return std::nullopt;
        jid.local = std::string(local);
        text = text.substr(at + 1);
    }
    jid.domain = std::string(text);
    std::transform(jid.domain.begin(), jid.domain.end(), jid.domain.begin(),
        [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    if (!config::check_domain(jid.domain))
        return std::nullopt;
    return jid;
}

PrebindRequest::~PrebindRequest()
{
    cleanse(secret);
}

namespace {

Expected<void, std::string> read_secret(const json::object& auth, PrebindRequest& out)
{
    const auto need = [&]() -> std::string_view {
        switch (out.method) {
        case Method::password:
            return "password";
        case Method::token:
            return "token";
        case Method::assertion:
            return "assertion";
        case Method::resume:
            return "resume_token";
        case Method::anonymous:
            return "";
        }
        return "";
    }();
    if (const auto extra = unknown_member(auth, {"method", "jid", need, "display_name"}))
        return fail(
            fmt::format("unknown member \"auth.{}\" for method {}", *extra, to_wire(out.method)));
    if (out.method == Method::anonymous)
        return {};
    auto secret = string_member(auth, "auth.", need);
    if (!secret)
        return fail(secret.error());
    if (!*secret || (*secret)->empty())
        return fail(
            fmt::format("\"auth.{}\" is required for method {}", need, to_wire(out.method)));
    // A copy, then a wipe: a moved-from short string keeps its bytes.
    out.secret = **secret;
    cleanse(**secret);
    return {};
}

Expected<void, std::string> read_auth(const json::object& auth, PrebindRequest& out)
{
    auto method = string_member(auth, "auth.", "method");
    if (!method)
        return fail(method.error());
    if (!*method)
        return fail("\"auth.method\" is required");
    const auto m = method_from_wire(**method);
    if (!m)
        return fail("unknown \"auth.method\": use password, token, anonymous, assertion or resume");
    out.method = *m;
    if (auto ok = read_secret(auth, out); !ok)
        return ok;
    auto jid = string_member(auth, "auth.", "jid");
    if (!jid)
        return fail(jid.error());
    // assertion: the JWT's sub names the user; resume: the token's family
    // does. auth.jid, if sent, must match it.
    if (!*jid && out.method != Method::assertion && out.method != Method::resume)
        return fail("\"auth.jid\" is required");
    const bool anonymous = out.method == Method::anonymous;
    if (*jid) {
        auto parsed = parse_bare_jid(**jid, anonymous);
        if (!parsed)
            return fail(anonymous ? "\"auth.jid\" must be a domain for method anonymous"
                                  : "\"auth.jid\" must be a bare JID \"local@domain\"");
        out.jid = std::move(*parsed);
    }
    auto name = string_member(auth, "auth.", "display_name");
    if (!name)
        return fail(name.error());
    if (*name && !anonymous)
        return fail("\"auth.display_name\" is only for method anonymous");
    if (*name
        && ((*name)->empty() || (*name)->size() > max_display_name_bytes
            || has_control_chars(**name)))
        return fail("\"auth.display_name\" must be 1-256 bytes without control characters");
    out.display_name = std::move(*name);
    return {};
}

Expected<void, std::string> read_client(const json::value* client, PrebindRequest& out)
{
    if (!client)
        return {};
    if (!client->is_object())
        return fail("\"client\" must be an object");
    if (const auto extra = unknown_member(client->get_object(), {"ip", "user_agent"}))
        return fail(fmt::format("unknown member \"client.{}\"", *extra));
    auto ip = string_member(client->get_object(), "client.", "ip");
    if (!ip)
        return fail(ip.error());
    if (auto ua = string_member(client->get_object(), "client.", "user_agent"); !ua)
        return fail(ua.error());
    if (!*ip)
        return {};
    error_code ec;
    auto address = net::ip::make_address(**ip, ec);
    if (ec)
        return fail("\"client.ip\" must be a numeric IPv4 or IPv6 address");
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
    out.client_ip = address.to_string();
    return {};
}

Expected<void, std::string> read_resource(const json::object& root, PrebindRequest& out)
{
    auto resource = string_member(root, "", "resource");
    if (!resource)
        return fail(resource.error());
    if (*resource
        && ((*resource)->empty() || (*resource)->size() > max_resource_bytes
            || has_control_chars(**resource)))
        return fail("\"resource\" must be 1-1023 bytes without control characters");
    out.resource = std::move(*resource);
    return {};
}

Expected<void, std::string> read_root(const json::value& doc, PrebindRequest& out)
{
    if (!doc.is_object())
        return fail("the body must be a JSON object");
    const auto& root = doc.get_object();
    if (const auto extra
        = unknown_member(root, {"auth", "resource", "client", "issue_resume_token"}))
        return fail(fmt::format("unknown member \"{}\"", *extra));
    const auto* auth = root.if_contains("auth");
    if (!auth || !auth->is_object())
        return fail("\"auth\" must be an object");
    if (auto ok = read_auth(auth->get_object(), out); !ok)
        return ok;
    if (const auto* issue = root.if_contains("issue_resume_token")) {
        if (!issue->is_bool())
            return fail("\"issue_resume_token\" must be a boolean");
        out.issue_resume_token = issue->get_bool();
    }
    if (auto ok = read_resource(root, out); !ok)
        return ok;
    return read_client(root.if_contains("client"), out);
}

// Parses `body` strictly (no repeated member name, max_depth) in memory that
// is wiped when freed, and reads the document into a T with `read`.
template <class T>
Expected<T, std::string> parse_strict(
    std::string_view body, Expected<void, std::string> (*read)(const json::value&, T&))
{
    if (has_duplicate_keys(body))
        return fail("a JSON member name is repeated");
    CleansingResource memory;
    Expected<T, std::string> result = fail("malformed JSON");
    {
        json::parser parser(json::storage_ptr(&memory), strict_options());
        parser.reset(json::storage_ptr(&memory));
        error_code ec;
        parser.write(body.data(), body.size(), ec);
        if (ec)
            return result;
        const json::value doc = parser.release();
        T out;
        if (auto ok = read(doc, out); !ok)
            result = fail(ok.error());
        else
            result = std::move(out);
    }
    return result;
}

// The bodies of /v1/tickets and /v1/resume-tokens/revoke: exactly one of
// {"<secret_name>": "..."} (copied to `secret`, the parsed copy wiped) or
// {"jid": "local@domain"}.
Expected<void, std::string> read_secret_or_jid(const json::value& doc, std::string_view secret_name,
    std::string& secret, std::optional<BareJid>& jid)
{
    if (!doc.is_object())
        return fail("the body must be a JSON object");
    const auto& root = doc.get_object();
    if (const auto extra = unknown_member(root, {secret_name, "jid"}))
        return fail(fmt::format("unknown member \"{}\"", *extra));
    if (root.size() != 1)
        return fail(fmt::format("send exactly one of \"{}\" or \"jid\"", secret_name));
    auto given = string_member(root, "", secret_name);
    auto jid_text = string_member(root, "", "jid");
    if (!given)
        return fail(given.error());
    if (!jid_text)
        return fail(jid_text.error());
    if (*given) {
        if ((*given)->empty())
            return fail(fmt::format("\"{}\" must not be empty", secret_name));
        secret = **given;
        cleanse(**given);
        return {};
    }
    jid = parse_bare_jid(**jid_text, false);
    if (!jid)
        return fail("\"jid\" must be a bare JID \"local@domain\"");
    return {};
}

Expected<void, std::string> read_ticket_root(const json::value& doc, TicketRequest& out)
{
    return read_secret_or_jid(doc, "assertion", out.assertion, out.jid);
}

Expected<void, std::string> read_revoke_root(const json::value& doc, RevokeRequest& out)
{
    return read_secret_or_jid(doc, "resume_token", out.resume_token, out.jid);
}

}  // namespace

Expected<PrebindRequest, std::string> parse_prebind_request(std::string_view body)
{
    return parse_strict(body, &read_root);
}

TicketRequest::~TicketRequest()
{
    cleanse(assertion);
}

Expected<TicketRequest, std::string> parse_ticket_request(std::string_view body)
{
    return parse_strict(body, &read_ticket_root);
}

RevokeRequest::~RevokeRequest()
{
    cleanse(resume_token);
}

Expected<RevokeRequest, std::string> parse_revoke_request(std::string_view body)
{
    return parse_strict(body, &read_revoke_root);
}

}  // namespace bosun::prebind
