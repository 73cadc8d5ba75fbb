// Checks that span more than one key. Each rule names the key its message is
// about and a second key to point at when the first kept its default.

#include "config/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>

#include "config/syntax.hpp"

namespace bosun::config {
namespace {

using Verdict = std::optional<std::string>; // the problem, or nothing

// Room for the <body rid='…' sid='…' xmlns='…' …> wrapper around a stanza,
// so that a stanza of max_stanza_bytes still fits in one request body.
constexpr std::size_t body_envelope_bytes = 1024;

struct Rule {
    std::string_view key;
    std::string_view other;
    Severity severity;
    Verdict (*check)(const Config&);
};

constexpr std::array rules {
    Rule {"upstream", "", Severity::error,
        [](const Config& c) -> Verdict {
            if (!c.upstreams.empty())
                return std::nullopt;
            return "at least one [upstream.\"domain\"] table is required";
        }},
    Rule {"bosh.default_wait", "bosh.max_wait", Severity::error,
        [](const Config& c) -> Verdict {
            if (c.bosh.default_wait <= c.bosh.max_wait)
                return std::nullopt;
            return fmt::format("{} exceeds bosh.max_wait ({})", c.bosh.default_wait.count(),
                c.bosh.max_wait.count());
        }},
    // XEP-0124 §10, §12: a polling client sends its next request 'polling'
    // seconds after the last answer; an inactivity no longer than that ends
    // every polling session.
    Rule {"bosh.polling", "bosh.inactivity", Severity::error,
        [](const Config& c) -> Verdict {
            if (c.bosh.polling < c.bosh.inactivity)
                return std::nullopt;
            return fmt::format("{} must be less than bosh.inactivity ({})", c.bosh.polling.count(),
                c.bosh.inactivity.count());
        }},
    Rule {"http.max_body_bytes", "bosh.max_stanza_bytes", Severity::error,
        [](const Config& c) -> Verdict {
            const std::size_t need = c.bosh.max_stanza_bytes + body_envelope_bytes;
            if (c.http.max_body_bytes >= need)
                return std::nullopt;
            return fmt::format("{} cannot carry a stanza of bosh.max_stanza_bytes ({}) plus "
                               "its <body/> wrapper: use at least {}",
                c.http.max_body_bytes, c.bosh.max_stanza_bytes, need);
        }},
    Rule {"bosh.max_pending_bytes", "bosh.max_stanza_bytes", Severity::error,
        [](const Config& c) -> Verdict {
            if (c.bosh.max_pending_bytes >= c.bosh.max_stanza_bytes)
                return std::nullopt;
            return fmt::format("{} cannot queue one stanza of bosh.max_stanza_bytes ({})",
                c.bosh.max_pending_bytes, c.bosh.max_stanza_bytes);
        }},
    // A proxy that gives up before Bosun answers a long-poll cuts it (peers.md
    // §2): 'wait' stays 5 s below the proxy's read timeout.
    Rule {"bosh.front_proxy_timeout", "bosh.max_wait", Severity::warning,
        [](const Config& c) -> Verdict {
            const auto timeout = c.bosh.front_proxy_timeout.count();
            if (timeout == 0 || c.bosh.max_wait.count() + 5 <= timeout)
                return std::nullopt;
            if (timeout <= 5)
                return fmt::format("{} leaves no room for a long-poll: every session polls", timeout);
            return fmt::format("{} caps 'wait' at {} s, below bosh.max_wait ({})", timeout,
                timeout - 5, c.bosh.max_wait.count());
        }},
    // XEP-0124 §7.2: every session keeps at least one request held open.
    Rule {"http.max_connections", "bosh.max_sessions", Severity::warning,
        [](const Config& c) -> Verdict {
            if (c.http.max_connections >= c.bosh.max_sessions)
                return std::nullopt;
            return fmt::format("{} is below bosh.max_sessions ({}): each session holds a "
                               "connection, so sessions stop at {}",
                c.http.max_connections, c.bosh.max_sessions, c.http.max_connections);
        }},
};

// ---- [prebind] -------------------------------------------------------------

bool is_wildcard(const std::string& host)
{
    return host == "0.0.0.0" || host == "::";
}

// Two listen addresses that would share a socket, or where a wildcard covers
// the other: the same port on the same or a wildcard host.
bool overlaps(const ListenAddress& a, const ListenAddress& b)
{
    return a.port == b.port && (a.host == b.host || is_wildcard(a.host) || is_wildcard(b.host));
}

Verdict prebind_on_bosh_port(const Config& c)
{
    if (!c.prebind.enabled)
        return std::nullopt;
    for (const auto& p : c.prebind.listen)
        for (const auto& h : c.http.listen)
            if (overlaps(p, h))
                return fmt::format("{}:{} is also an http.listen address: the prebind API must "
                                   "never be served on the public BOSH port",
                    p.host, p.port);
    return std::nullopt;
}

bool prebind_tls(const PrebindConfig& p)
{
    return !p.tls_cert_file.empty() && !p.tls_key_file.empty();
}

// Secure by default: API keys and passwords never cross a network in clear
// text unless the operator says so (docs/prebind.md "TLS").
std::optional<std::string> plaintext_public_address(const PrebindConfig& p)
{
    if (!p.enabled || prebind_tls(p))
        return std::nullopt;
    for (const auto& where : p.listen)
        if (!is_loopback_host(where.host))
            return where.host;
    return std::nullopt;
}

Verdict prebind_listen_public(const Config& c)
{
    const auto host = plaintext_public_address(c.prebind);
    if (!host || c.prebind.allow_plaintext_non_loopback)
        return std::nullopt;
    return fmt::format("{} is not loopback and the listener has no TLS: set tls_cert_file and "
                       "tls_key_file, or allow_plaintext_non_loopback = true for a private "
                       "interface you trust",
        *host);
}

Verdict prebind_listen_public_allowed(const Config& c)
{
    const auto host = plaintext_public_address(c.prebind);
    if (!host || !c.prebind.allow_plaintext_non_loopback)
        return std::nullopt;
    return fmt::format("{} is not loopback and the listener has no TLS: API keys and passwords "
                       "cross the network in clear text (allow_plaintext_non_loopback = true)",
        *host);
}

Verdict prebind_tls_pair(const Config& c)
{
    const auto& p = c.prebind;
    if (p.tls_cert_file.empty() == p.tls_key_file.empty())
        return std::nullopt;
    return std::string("tls_cert_file and tls_key_file must be set together");
}

Verdict prebind_client_ca_without_tls(const Config& c)
{
    if (c.prebind.tls_client_ca_file.empty() || prebind_tls(c.prebind))
        return std::nullopt;
    return std::string("is set but the listener has no TLS (tls_cert_file, tls_key_file)");
}

Verdict prebind_without_clients(const Config& c)
{
    if (!c.prebind.enabled || !c.prebind.clients.empty())
        return std::nullopt;
    return "prebind is enabled but no [[prebind.clients]] is configured: every request gets 401";
}

Verdict prebind_unknown_domain(const Config& c)
{
    for (const auto& client : c.prebind.clients)
        for (const auto& domain : client.allowed_domains)
            if (c.upstreams.count(domain) == 0)
                return fmt::format("client \"{}\" allows \"{}\", which has no [upstream.\"{}\"]",
                    client.id, domain, domain);
    return std::nullopt;
}

Verdict prebind_unknown_issuer(const Config& c)
{
    for (const auto& client : c.prebind.clients)
        for (const auto& id : client.assertion_issuers)
            if (std::none_of(c.prebind.issuers.begin(), c.prebind.issuers.end(),
                    [&](const AssertionIssuer& i) { return i.id == id; }))
                return fmt::format("client \"{}\" names issuer \"{}\", which has no "
                                   "[[prebind.issuers]] entry",
                    client.id, id);
    return std::nullopt;
}

Verdict prebind_assertion_without_issuer(const Config& c)
{
    for (const auto& client : c.prebind.clients) {
        const auto& m = client.allowed_methods;
        if (std::find(m.begin(), m.end(), "assertion") != m.end()
            && client.assertion_issuers.empty())
            return fmt::format("client \"{}\" allows method assertion but names no "
                               "assertion_issuers: every assertion gets 403",
                client.id);
    }
    return std::nullopt;
}

constexpr std::array prebind_rules {
    Rule {"prebind.clients", "prebind", Severity::error, prebind_unknown_issuer},
    Rule {"prebind.clients", "prebind", Severity::warning, prebind_assertion_without_issuer},
    Rule {"prebind.listen", "http.listen", Severity::error, prebind_on_bosh_port},
    Rule {"prebind.listen", "prebind.enabled", Severity::error, prebind_listen_public},
    Rule {"prebind.listen", "prebind.allow_plaintext_non_loopback", Severity::warning,
        prebind_listen_public_allowed},
    Rule {"prebind.tls_cert_file", "prebind.tls_key_file", Severity::error, prebind_tls_pair},
    Rule {"prebind.tls_client_ca_file", "prebind", Severity::error, prebind_client_ca_without_tls},
    Rule {"prebind.clients", "prebind.enabled", Severity::warning, prebind_without_clients},
    Rule {"prebind.clients", "prebind", Severity::error, prebind_unknown_domain},
};

struct UpstreamRule {
    std::string_view key;
    Severity severity;
    Verdict (*check)(const UpstreamConfig&);
};

constexpr std::array upstream_rules {
    // XEP-0124 §19.2 (checklist #103): encrypt the link to the server unless
    // it runs on the same host.
    UpstreamRule {"tls", Severity::warning,
        [](const UpstreamConfig& u) -> Verdict {
            if (u.tls != TlsPolicy::none || is_loopback_host(u.host))
                return std::nullopt;
            return fmt::format("\"none\" sends XMPP in clear text to {}, which is not "
                               "loopback (XEP-0124 §19.2): use \"required\"",
                u.host);
        }},
    UpstreamRule {"tls", Severity::warning,
        [](const UpstreamConfig& u) -> Verdict {
            if (u.tls != TlsPolicy::optional || is_loopback_host(u.host))
                return std::nullopt;
            return fmt::format("\"optional\" falls back to clear text when {} offers no "
                               "STARTTLS, which an attacker can arrange: use \"required\"",
                u.host);
        }},
    UpstreamRule {"ticket_secret_file", Severity::error,
        [](const UpstreamConfig& u) -> Verdict {
            if (u.prebind_login != AssertionLogin::ticket || !u.ticket_secret_file.empty())
                return std::nullopt;
            return "is required when prebind_login = \"ticket\"";
        }},
    UpstreamRule {"ejabberd_jwt_key_file", Severity::error,
        [](const UpstreamConfig& u) -> Verdict {
            if (u.prebind_login != AssertionLogin::ejabberd_jwt || !u.ejabberd_jwt_key_file.empty())
                return std::nullopt;
            return "is required when prebind_login = \"ejabberd_jwt\"";
        }},
    UpstreamRule {"ca_file", Severity::warning,
        [](const UpstreamConfig& u) -> Verdict {
            if (u.tls != TlsPolicy::none || u.ca_file.empty())
                return std::nullopt;
            return "is not used because tls = \"none\"";
        }},
};

Position point_at(const Diagnostics& diag, std::string_view key, std::string_view other)
{
    const Position p = diag.where(key);
    return (p.line != 0 || other.empty()) ? p : diag.where(other);
}

} // namespace

void check_rules(const Config& config, Diagnostics& diag)
{
    for (const Rule& rule : rules) {
        if (const Verdict problem = rule.check(config))
            diag.report(rule.severity, point_at(diag, rule.key, rule.other), rule.key, *problem);
    }
    for (const Rule& rule : prebind_rules) {
        if (const Verdict problem = rule.check(config))
            diag.report(rule.severity, point_at(diag, rule.key, rule.other), rule.key, *problem);
    }
    for (const auto& [domain, upstream] : config.upstreams) {
        const std::string table = upstream_path(domain);
        for (const UpstreamRule& rule : upstream_rules) {
            const std::string key = key_path(table, rule.key);
            if (const Verdict problem = rule.check(upstream))
                diag.report(rule.severity, point_at(diag, key, table), key, *problem);
        }
    }
}

} // namespace bosun::config
