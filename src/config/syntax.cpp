#include "config/syntax.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

namespace bosun::config {
namespace {

struct IpAddress {
    int family = 0;
    std::array<unsigned char, 16> bytes {};
};

// inet_pton is strict (no octal, no short IPv4 forms, no zone ids), which is
// what "numeric only" means here. It wants a NUL-terminated string, so a value
// with an embedded NUL (TOML allows "\u0000") must be refused before.
std::optional<IpAddress> parse_ip(std::string_view text, int family = AF_UNSPEC)
{
    if (text.empty() || text.find('\0') != std::string_view::npos)
        return std::nullopt;
    const std::string s(text);
    IpAddress ip;
    for (int f : {AF_INET, AF_INET6}) {
        if ((family == AF_UNSPEC || family == f) && inet_pton(f, s.c_str(), ip.bytes.data()) == 1) {
            ip.family = f;
            return ip;
        }
    }
    return std::nullopt;
}

std::string ip_text(const IpAddress& ip)
{
    std::array<char, INET6_ADDRSTRLEN> buf {};
    inet_ntop(ip.family, ip.bytes.data(), buf.data(), buf.size());
    return buf.data();
}

// Digits only: from_chars would also take a leading '-' or stop early.
std::optional<unsigned> parse_decimal(std::string_view text, unsigned max)
{
    if (text.empty() || text.size() > 5
        || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    unsigned n = 0;
    std::from_chars(text.data(), text.data() + text.size(), n);
    if (n > max)
        return std::nullopt;
    return n;
}

std::optional<std::uint16_t> parse_port(std::string_view text)
{
    const auto n = parse_decimal(text, 65535);
    if (!n || *n == 0)
        return std::nullopt;
    return static_cast<std::uint16_t>(*n);
}

bool is_label_char(char c, bool any_case)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
        || (any_case && c >= 'A' && c <= 'Z');
}

// RFC 1035 §2.3.4 sizes (253 for the text form without the final dot),
// RFC 1123 §2.1 letters, digits and inner hyphens.
bool is_dns_name(std::string_view name, bool any_case)
{
    if (name.empty() || name.size() > 253)
        return false;
    std::size_t start = 0;
    while (start <= name.size()) {
        const std::size_t dot = std::min(name.find('.', start), name.size());
        const std::string_view label = name.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char c : label)
            if (!is_label_char(c, any_case))
                return false;
        start = dot + 1;
    }
    return true;
}

bool has_upper(std::string_view s)
{
    return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

Check fail(std::string message)
{
    return unexpected(std::move(message));
}

// Browsers serialize an origin with a lowercase host and without the
// scheme's default port (RFC 6454 §6.2), so only that form can ever match.
Check check_origin_authority(std::string_view authority, std::uint16_t default_port)
{
    std::string_view host = authority, port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos || !parse_ip(authority.substr(1, close - 1), AF_INET6))
            return fail("an IPv6 host must be a bracketed numeric address");
        host = authority.substr(0, close + 1);
        if (close + 1 < authority.size() && authority[close + 1] != ':')
            return fail("unexpected text after the IPv6 host");
        port = close + 1 < authority.size() ? authority.substr(close + 2) : "";
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (has_upper(host))
        return fail("write the host in lowercase, as browsers send it");
    if (!host.starts_with('[') && !parse_ip(host, AF_INET) && !is_dns_name(host, false))
        return fail(fmt::format("'{}' is not a valid host name", host));
    if (authority.find(':', host.size()) == std::string_view::npos)
        return {};
    const auto p = parse_port(port);
    if (!p)
        return fail("port must be a number from 1 to 65535");
    if (*p == default_port)
        return fail(fmt::format("browsers omit the default port {}: drop ':{}'", *p, *p));
    return {};
}

std::optional<std::string> read_prefix(std::FILE* f, std::size_t max)
{
    std::string data(max, '\0');
    const std::size_t n = std::fread(data.data(), 1, max, f);
    if (std::ferror(f))
        return std::nullopt;
    data.resize(n);
    return data;
}

} // namespace

Expected<ListenAddress, std::string> parse_listen_address(std::string_view text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return unexpected(std::string("expected \"IPv4:port\" or \"[IPv6]:port\""));
    std::string_view host = text.substr(0, colon);
    const bool bracketed = host.starts_with('[') && host.ends_with(']');
    if (bracketed)
        host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string_view::npos)
        return unexpected(std::string("an IPv6 address needs brackets, e.g. \"[::1]:5280\""));
    const auto ip = parse_ip(host, bracketed ? AF_INET6 : AF_INET);
    if (!ip)
        return unexpected(fmt::format("'{}' is not a numeric {} address (names are not resolved)",
            host, bracketed ? "IPv6" : "IPv4"));
    const auto port = parse_port(text.substr(colon + 1));
    if (!port)
        return unexpected(std::string("port must be a number from 1 to 65535"));
    return ListenAddress {ip_text(*ip), *port};
}

Check check_http_path(std::string_view path)
{
    if (!path.starts_with('/'))
        return fail("must start with '/'");
    for (char c : path) {
        if (c == '?' || c == '#')
            return fail(fmt::format("must not contain '{}' (a path has no query or fragment)", c));
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return fail("must not contain spaces or control characters");
    }
    return {};
}

Check check_origin(std::string_view origin)
{
    if (origin == "*")
        return fail("\"*\" is not allowed (secure by default): list each exact origin, "
                    "e.g. \"https://app.example\"");
    const bool https = origin.starts_with("https://");
    if (!https && !origin.starts_with("http://"))
        return fail("must start with \"https://\" or \"http://\"");
    const std::string_view authority = origin.substr(https ? 8 : 7);
    if (authority.empty())
        return fail("the host is missing");
    if (authority.ends_with('/') && authority.find('/') == authority.size() - 1)
        return fail(fmt::format(
            "remove the trailing '/': browsers send \"{}\"", origin.substr(0, origin.size() - 1)));
    if (authority.find_first_of("/?#@ ") != std::string_view::npos)
        return fail("an origin is scheme://host[:port] only: no path, query, fragment, "
                    "user or spaces");
    return check_origin_authority(authority, https ? 443 : 80);
}

Check check_proxy(std::string_view text)
{
    const auto slash = text.find('/');
    const auto ip = parse_ip(text.substr(0, slash));
    if (!ip)
        return fail("expected a numeric IP address or a CIDR block such as \"10.0.0.0/8\"");
    if (slash == std::string_view::npos)
        return {};
    const unsigned max_prefix = ip->family == AF_INET ? 32 : 128;
    if (!parse_decimal(text.substr(slash + 1), max_prefix))
        return fail(fmt::format("prefix length must be a number from 0 to {}", max_prefix));
    return {};
}

Check check_domain(std::string_view domain)
{
    if (domain.ends_with('.'))
        return fail("remove the trailing '.'");
    if (has_upper(domain))
        return fail("must be lowercase (clients' 'to' is compared after lowercasing)");
    if (!is_dns_name(domain, false))
        return fail("not a valid domain name (labels of a-z, 0-9 and inner '-', "
                    "at most 63 characters each, 253 in all)");
    return {};
}

Check check_host(std::string_view host)
{
    if (parse_ip(host) || is_dns_name(host, true))
        return {};
    return fail("expected a numeric IP address or a DNS name");
}

Expected<Route, std::string> parse_route(std::string_view text)
{
    constexpr std::string_view scheme = "xmpp:";
    if (!text.starts_with(scheme))
        return unexpected(std::string("expected \"xmpp:host:port\""));
    const auto rest = text.substr(scheme.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return unexpected(std::string("expected \"xmpp:host:port\""));
    std::string_view host = rest.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (!parse_ip(host) && !is_dns_name(host, true))
        return unexpected(std::string("the host is not a numeric address or a DNS name"));
    const auto port_text = rest.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc {} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        return unexpected(std::string("the port is not a number in 1-65535"));
    return Route {std::string(host), static_cast<std::uint16_t>(port)};
}

Check check_route(std::string_view text)
{
    if (auto r = parse_route(text); !r)
        return fail(r.error());
    return {};
}

Check check_ca_file(std::string_view path)
{
    namespace fs = std::filesystem;
    if (path.empty())
        return {};
    std::error_code ec;
    if (fs::is_directory(fs::path(path), ec))
        return fail(fmt::format("'{}' is a directory, expected a PEM file", path));
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(
        std::fopen(std::string(path).c_str(), "rb"), &std::fclose);
    if (!f)
        return fail(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    // A DER file or a key in the wrong place would fail much later, at the
    // first TLS handshake; a PEM bundle names its certificates early on.
    const auto head = read_prefix(f.get(), 64 * 1024);
    if (!head)
        return fail(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    if (head->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        return fail(
            fmt::format("'{}' holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")", path));
    return {};
}

bool is_loopback_host(std::string_view host)
{
    // Host names are case-insensitive (RFC 4343), so "LocalHost" counts too.
    constexpr std::string_view localhost = "localhost";
    if (std::equal(host.begin(), host.end(), localhost.begin(), localhost.end(),
            [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b; }))
        return true;
    const auto ip = parse_ip(host);
    if (!ip)
        return false;
    if (ip->family == AF_INET)
        return ip->bytes[0] == 127;
    static constexpr std::array<unsigned char, 16> v6_loopback {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::array<unsigned char, 12> v4_mapped {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const bool mapped = std::equal(v4_mapped.begin(), v4_mapped.end(), ip->bytes.begin());
    return ip->bytes == v6_loopback || (mapped && ip->bytes[12] == 127);
}

} // namespace bosun::config
