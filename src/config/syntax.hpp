#pragma once
// Syntax of the string values in the configuration: listen addresses, CORS
// origins, proxy CIDR blocks, domain and host names. Pure functions; each
// check returns the problem in words so the caller can add file:line:col.

#include <string>
#include <string_view>

#include "bosun/config.hpp"
#include "bosun/expected.hpp"

namespace bosun::config {

using Check = Expected<void, std::string>;

// "IPv4:port" or "[IPv6]:port", numeric only; the host comes back in the
// canonical inet_ntop form so that duplicates compare equal.
Expected<ListenAddress, std::string> parse_listen_address(std::string_view text);

// URL path for the BOSH endpoint: starts with '/', no query, fragment or spaces.
Check check_http_path(std::string_view path);

// An exact browser origin: "http(s)://host[:port]" as a browser serializes it.
Check check_origin(std::string_view origin);

// A numeric address or a CIDR block with a valid prefix length.
Check check_proxy(std::string_view text);

// An XMPP domain as it appears in 'to': lowercase DNS labels.
Check check_domain(std::string_view domain);

// A host to connect to or a certificate name: a numeric address or a DNS
// name in any case.
Check check_host(std::string_view host);

// A BOSH 'route' (XEP-0124 §7.1) the operator allows: "xmpp:host:port",
// host a DNS name or numeric address ([IPv6] in brackets), port 1-65535.
struct Route {
    std::string host;
    std::uint16_t port = 0;
};
Expected<Route, std::string> parse_route(std::string_view text);
Check check_route(std::string_view text);

// A PEM file we can open; empty means "the system trust store".
Check check_ca_file(std::string_view path);

// 127.0.0.0/8, ::1, an IPv4-mapped loopback or the name "localhost".
bool is_loopback_host(std::string_view host);

} // namespace bosun::config
