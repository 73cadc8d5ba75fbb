#include "config/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <type_traits>

#include "config/syntax.hpp"

namespace bosun::config {
namespace {

constexpr std::int64_t KiB = 1024;
constexpr std::int64_t MiB = 1024 * KiB;

// RFC 6120 §13.12: an XMPP entity must accept stanzas of at least 10000 bytes.
constexpr std::int64_t min_stanza_bytes = 10000;

struct Bounds {
    std::int64_t min;
    std::int64_t max;
};

using CheckFn = Check (*)(std::string_view);

Position at(const toml::source_region& region)
{
    return {region.begin.line, region.begin.column};
}

std::string_view type_name(const toml::node& node)
{
    // Indexed by toml::node_type, a closed enum in toml++ 3.
    static constexpr std::array<std::string_view, 10> names {"nothing", "a table", "an array",
        "a string", "an integer", "a float", "a boolean", "a date", "a time", "a date-time"};
    return names[static_cast<std::size_t>(node.type())];
}

// One value being read: the node, the key naming it in messages, what it
// means (for messages), and where problems go.
struct Slot {
    const toml::node& node;
    std::string path;
    std::string_view doc;
    Diagnostics& diag;

    void error(std::string_view message) const { diag.error(at(node.source()), path, message); }
    void wrong_type(std::string_view expected) const
    {
        error(fmt::format("expected {}, got {} ({})", expected, type_name(node), doc));
    }
    Slot element(std::size_t i, const toml::node& item) const
    {
        return {item, fmt::format("{}[{}]", path, i), doc, diag};
    }
};

template <class S> struct Field {
    std::string_view key;
    std::function<void(const Slot&, S&)> read;
    std::string_view doc;
};

template <class S> using Fields = std::vector<Field<S>>;

template <class E> struct Choice {
    std::string_view name;
    E value;
};

constexpr std::array<Choice<LogLevel>, 5> log_levels {{
    {"trace", LogLevel::trace},
    {"debug", LogLevel::debug},
    {"info", LogLevel::info},
    {"warn", LogLevel::warn},
    {"error", LogLevel::error},
}};

constexpr std::array<Choice<AssertionLogin>, 3> assertion_logins {{
    {"none", AssertionLogin::none},
    {"ticket", AssertionLogin::ticket},
    {"ejabberd_jwt", AssertionLogin::ejabberd_jwt},
}};

constexpr std::array<Choice<TlsPolicy>, 3> tls_policies {{
    {"required", TlsPolicy::required},
    {"optional", TlsPolicy::optional},
    {"none", TlsPolicy::none},
}};

// ---- readers: type check, then range or syntax check -------------------

std::optional<std::int64_t> read_integer(const Slot& s, Bounds bounds)
{
    const auto* value = s.node.as_integer();
    if (!value) {
        s.wrong_type("an integer");
        return std::nullopt;
    }
    const std::int64_t n = value->get();
    if (n < bounds.min || n > bounds.max) {
        s.error(fmt::format("{} is out of range {}..{} ({})", n, bounds.min, bounds.max, s.doc));
        return std::nullopt;
    }
    return n;
}

std::optional<std::string> read_string(const Slot& s, CheckFn check)
{
    const auto* value = s.node.as_string();
    if (!value) {
        s.wrong_type("a string");
        return std::nullopt;
    }
    if (check) {
        if (const auto ok = check(value->get()); !ok) {
            s.error(ok.error());
            return std::nullopt;
        }
    }
    return value->get();
}

// All elements are checked (every bad one is reported); the result is empty
// when any was bad, so the field keeps its default.
std::optional<std::vector<std::string>> read_strings(const Slot& s, CheckFn check)
{
    const auto* array = s.node.as_array();
    if (!array) {
        s.wrong_type("an array of strings");
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t i = 0; i < array->size(); ++i) {
        auto text = read_string(s.element(i, *array->get(i)), check);
        ok = ok && text.has_value();
        if (text)
            out.push_back(std::move(*text));
    }
    return ok ? std::optional(std::move(out)) : std::nullopt;
}

template <class E> std::optional<E> read_choice(const Slot& s, std::span<const Choice<E>> choices)
{
    const auto text = read_string(s, nullptr);
    if (!text)
        return std::nullopt;
    for (const auto& choice : choices)
        if (choice.name == *text)
            return choice.value;
    std::string names;
    for (const auto& choice : choices)
        names += fmt::format("{}{}", names.empty() ? "" : ", ", choice.name);
    s.error(fmt::format("\"{}\" is not one of: {}", *text, names));
    return std::nullopt;
}

// ---- field makers: bind a reader to a member ----------------------------

template <class S, class T>
Field<S> number(std::string_view key, T S::*member, Bounds bounds, std::string_view doc)
{
    return {key,
        [member, bounds](const Slot& s, S& section) {
            const auto n = read_integer(s, bounds);
            if (!n)
                return;
            if constexpr (std::is_same_v<T, Seconds>)
                section.*member = Seconds {*n};
            else if constexpr (std::is_same_v<T, Duration>)
                section.*member = Duration {*n};
            else
                section.*member = static_cast<T>(*n);
        },
        doc};
}

template <class S>
Field<S> text(std::string_view key, std::string S::*member, CheckFn check, std::string_view doc)
{
    return {key,
        [member, check](const Slot& s, S& section) {
            if (auto value = read_string(s, check))
                section.*member = std::move(*value);
        },
        doc};
}

template <class S>
Field<S> texts(
    std::string_view key, std::vector<std::string> S::*member, CheckFn check, std::string_view doc)
{
    return {key,
        [member, check](const Slot& s, S& section) {
            if (auto values = read_strings(s, check))
                section.*member = std::move(*values);
        },
        doc};
}

template <class S, class E>
Field<S> choice(std::string_view key, E S::*member,
    std::type_identity_t<std::span<const Choice<E>>> choices, std::string_view doc)
{
    return {key,
        [member, choices](const Slot& s, S& section) {
            if (const auto value = read_choice(s, choices))
                section.*member = *value;
        },
        doc};
}

// ---- the few readers that do more than one member or value -------------

void read_listen(const Slot& s, std::vector<ListenAddress>& listen)
{
    const auto* array = s.node.as_array();
    if (!array)
        return s.wrong_type("an array of strings");
    if (array->empty())
        return s.error("at least one address is required");
    std::vector<ListenAddress> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const Slot item = s.element(i, *array->get(i));
        const auto text = read_string(item, nullptr);
        if (!text)
            continue;
        const auto address = parse_listen_address(*text);
        // Compared in canonical form: "[::1]:80" and "[0::1]:80" are one socket.
        const bool seen
            = address && std::any_of(out.begin(), out.end(), [&](const ListenAddress& a) {
                  return a.host == address->host && a.port == address->port;
              });
        if (!address || seen)
            item.error(address ? std::string("listed twice") : address.error());
        else
            out.push_back(*address);
    }
    if (out.size() == array->size())
        listen = std::move(out);
}

template <class S> std::string unknown_key_message(const toml::node& node, const Fields<S>& fields)
{
    std::string known;
    for (const auto& field : fields)
        known += fmt::format("{}{}", known.empty() ? "" : ", ", field.key);
    return fmt::format("unknown {} (known keys: {})", node.is_table() ? "table" : "key", known);
}

template <class S> void read_table(const Slot& s, const Fields<S>& fields, S& section)
{
    const toml::table* table = s.node.as_table();
    if (!table)
        return s.wrong_type("a table");
    for (auto&& [key, node] : *table) {
        const std::string path = key_path(s.path, key.str());
        const auto field = std::find_if(
            fields.begin(), fields.end(), [&](const Field<S>& f) { return f.key == key.str(); });
        if (field == fields.end()) {
            s.diag.error(at(key.source()), path, unknown_key_message(node, fields));
            continue;
        }
        s.diag.remember(path, at(node.source()));
        field->read(Slot {node, path, field->doc, s.diag}, section);
    }
}

// ---- the schema ----------------------------------------------------------

const Fields<HttpConfig>& http_fields()
{
    static const Fields<HttpConfig> fields {
        {"listen", [](const Slot& s, HttpConfig& c) { read_listen(s, c.listen); },
            "addresses to listen on, \"IPv4:port\" or \"[IPv6]:port\""},
        text("path", &HttpConfig::path, check_http_path, "URL path of the BOSH endpoint"),
        texts("cors_allowed_origins", &HttpConfig::cors_allowed_origins, check_origin,
            "exact browser origins allowed by CORS"),
        texts("trusted_proxies", &HttpConfig::trusted_proxies, check_proxy,
            "addresses or CIDR blocks whose X-Forwarded-For is believed"),
        number("max_header_bytes", &HttpConfig::max_header_bytes, {1 * KiB, 64 * KiB},
            "bytes of request line and headers"),
        number("max_body_bytes", &HttpConfig::max_body_bytes, {16 * KiB, 64 * MiB},
            "bytes of one request body"),
        number("read_timeout", &HttpConfig::read_timeout, {1, 300},
            "seconds to receive one whole request"),
        number("idle_timeout", &HttpConfig::idle_timeout, {1, 3600},
            "seconds a keep-alive connection may wait for its next request"),
        number("max_connections", &HttpConfig::max_connections, {1, 1'000'000},
            "open HTTP connections"),
    };
    return fields;
}

const Fields<BoshConfig>& bosh_fields()
{
    static const Fields<BoshConfig> fields {
        number("max_wait", &BoshConfig::max_wait, {1, 3600}, "seconds, cap on the client's 'wait'"),
        number("default_wait", &BoshConfig::default_wait, {0, 3600},
            "seconds, 'wait' when the client sends none"),
        number("inactivity", &BoshConfig::inactivity, {10, 3600},
            "seconds a session may have no request"),
        number("polling", &BoshConfig::polling, {0, 60}, "seconds between polls"),
        number("max_hold", &BoshConfig::max_hold, {1, 16}, "cap on the client's 'hold'"),
        number("max_sessions", &BoshConfig::max_sessions, {1, 1'000'000}, "open BOSH sessions"),
        number("max_stanza_bytes", &BoshConfig::max_stanza_bytes, {min_stanza_bytes, 16 * MiB},
            "bytes of one stanza, RFC 6120 §13.12 minimum 10000"),
        number("max_pending_bytes", &BoshConfig::max_pending_bytes, {min_stanza_bytes, 1024 * MiB},
            "bytes queued for one client"),
        number("connect_timeout", &BoshConfig::connect_timeout, {1, 300},
            "seconds to connect upstream and get stream features"),
        number("max_connecting", &BoshConfig::max_connecting, {1, 100'000},
            "upstream connections being opened at once (connect, STARTTLS, features)"),
        number("max_connect_queue", &BoshConfig::max_connect_queue, {0, 1'000'000},
            "new sessions waiting for a connecting slot; more get policy-violation"),
        number("overload_lag_ms", &BoshConfig::overload_lag, {0, 10'000},
            "milliseconds the event loop may run late before new sessions are refused; 0 = off"),
        number("max_pause", &BoshConfig::max_pause, {0, 3600},
            "seconds, advertised 'maxpause'; 0 = pause not offered"),
        number("max_unacked_responses", &BoshConfig::max_unacked_responses, {2, 1024},
            "responses kept for replay until the client acknowledges them"),
        number("max_resends", &BoshConfig::max_resends, {1, 1000},
            "times one request may be re-sent"),
        number("front_proxy_timeout", &BoshConfig::front_proxy_timeout, {0, 3600},
            "seconds, read timeout of a reverse proxy in front; 0 = none"),
        texts("allowed_routes", &BoshConfig::allowed_routes, check_route,
            "'route' values clients may use, \"xmpp:host:port\"; empty = route ignored"),
    };
    return fields;
}

Check check_server_name(std::string_view name)
{
    return name.empty() ? Check {} : check_host(name);
}

// ejabberd's jwt_jid_field names a string claim; the date claims and aud
// have other types (RFC 7519 §4.1), and Bosun sets exp itself.
Check check_jid_field(std::string_view name)
{
    if (name.empty() || name.size() > 64)
        return unexpected(std::string("expected a claim name of 1-64 characters"));
    for (const std::string_view reserved : {"exp", "iat", "nbf", "aud"})
        if (name == reserved)
            return unexpected(fmt::format("\"{}\" is not a string claim", name));
    for (const char c : name)
        if (static_cast<unsigned char>(c) < 0x21 || c == '"' || c == '\\')
            return unexpected(std::string("expected a claim name without spaces, quotes or '\\'"));
    return {};
}

const Fields<UpstreamConfig>& upstream_fields()
{
    static const Fields<UpstreamConfig> fields {
        text("host", &UpstreamConfig::host, check_host, "XMPP server address or name"),
        number("port", &UpstreamConfig::port, {1, 65535}, "XMPP client port"),
        choice("tls", &UpstreamConfig::tls, tls_policies, "required|optional|none"),
        text("ca_file", &UpstreamConfig::ca_file, check_ca_file, "PEM file of trusted CAs"),
        text("tls_server_name", &UpstreamConfig::tls_server_name, check_server_name,
            "name the server certificate must carry"),
        choice("prebind_login", &UpstreamConfig::prebind_login, assertion_logins,
            "none|ticket|ejabberd_jwt: how assertions log in upstream"),
        text("ticket_secret_file", &UpstreamConfig::ticket_secret_file, nullptr,
            "file with the secret shared with the server's ticket module"),
        number("ticket_lifetime", &UpstreamConfig::ticket_lifetime, {5, 300},
            "seconds a one-time ticket is valid"),
        text("ejabberd_jwt_key_file", &UpstreamConfig::ejabberd_jwt_key_file, nullptr,
            "JWK (HS256) or PEM private key matching ejabberd's jwt_key"),
        text("ejabberd_jwt_jid_field", &UpstreamConfig::ejabberd_jwt_jid_field, check_jid_field,
            "claim that carries the JID (ejabberd's jwt_jid_field)"),
        number("ejabberd_jwt_lifetime", &UpstreamConfig::ejabberd_jwt_lifetime, {5, 300},
            "seconds a minted ejabberd JWT is valid"),
    };
    return fields;
}

void read_upstreams(const Slot& s, Config& config)
{
    const toml::table* table = s.node.as_table();
    if (!table)
        return s.wrong_type("a table of [upstream.\"domain\"] tables");
    for (auto&& [key, node] : *table) {
        const std::string domain(key.str());
        const std::string path = upstream_path(domain);
        if (const auto ok = check_domain(domain); !ok)
            s.diag.error(at(key.source()), path, ok.error());
        s.diag.remember(path, at(node.source()));
        UpstreamConfig upstream;
        upstream.domain = domain;
        read_table(
            Slot {node, path, "settings of one XMPP domain", s.diag}, upstream_fields(), upstream);
        if (upstream.tls_server_name.empty())
            upstream.tls_server_name = domain;
        config.upstreams.insert_or_assign(domain, std::move(upstream));
    }
}

// ---- [prebind] -------------------------------------------------------------

template <class S> Field<S> flag(std::string_view key, bool S::*member, std::string_view doc)
{
    return {key,
        [member](const Slot& s, S& section) {
            if (const auto* value = s.node.as_boolean())
                section.*member = value->get();
            else
                s.wrong_type("a boolean");
        },
        doc};
}

bool is_lower_hex(std::string_view text)
{
    return std::all_of(text.begin(), text.end(),
        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "sha256:<64 lowercase hex>", what `bosun-prebind keygen` prints.
Check check_key_hash(std::string_view text)
{
    constexpr std::string_view prefix = "sha256:";
    const auto hex = text.substr(std::min(text.size(), prefix.size()));
    if (!text.starts_with(prefix) || hex.size() != 64 || !is_lower_hex(hex))
        return unexpected(std::string(
            "expected \"sha256:\" and 64 lowercase hex digits (bosun-prebind keygen prints it)"));
    return {};
}

// The <id> of "bsk_<id>_<secret>": '_' ends it, so it may not contain one.
Check check_client_id(std::string_view id)
{
    const bool ok = !id.empty() && id.size() <= 64
        && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                   || c == '-';
           });
    if (ok)
        return {};
    return unexpected(std::string("expected 1-64 letters, digits or '-'"));
}

Check check_prebind_method(std::string_view name)
{
    for (const std::string_view known : {"password", "token", "anonymous", "assertion", "resume"})
        if (name == known)
            return {};
    return unexpected(fmt::format(
        "\"{}\" is not one of: password, token, anonymous, assertion, resume", name));
}

const Fields<SigningKeyConfig>& signing_key_fields()
{
    static const Fields<SigningKeyConfig> fields {
        text("id", &SigningKeyConfig::id, check_client_id, "sent as X-Bosun-Key-Id"),
        text("secret_file", &SigningKeyConfig::secret_file, nullptr,
            "file with the raw HMAC secret (at least 32 bytes)"),
    };
    return fields;
}

void read_signing_keys(const Slot& s, PrebindClient& client)
{
    const auto* array = s.node.as_array();
    if (!array)
        return s.wrong_type("an array of [[prebind.clients.signing_keys]] tables");
    std::vector<SigningKeyConfig> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const Slot item = s.element(i, *array->get(i));
        SigningKeyConfig key;
        read_table(item, signing_key_fields(), key);
        if (item.node.is_table() && (key.id.empty() || key.secret_file.empty()))
            item.error("\"id\" and \"secret_file\" are required");
        for (const auto& other : out)
            if (!key.id.empty() && other.id == key.id)
                item.error(fmt::format("id \"{}\" is used twice", key.id));
        out.push_back(std::move(key));
    }
    client.signing_keys = std::move(out);
}

const Fields<PrebindClient>& prebind_client_fields()
{
    static const Fields<PrebindClient> fields {
        text("id", &PrebindClient::id, check_client_id, "the <id> in the API key bsk_<id>_<secret>"),
        texts("key_hashes", &PrebindClient::key_hashes, check_key_hash,
            "SHA-256 hashes of the client's API keys"),
        texts("allowed_domains", &PrebindClient::allowed_domains, check_domain,
            "XMPP domains the client may log in to"),
        texts("allowed_methods", &PrebindClient::allowed_methods, check_prebind_method,
            "login methods the client may use"),
        number("rate_per_minute", &PrebindClient::rate_per_minute, {1, 1'000'000},
            "API requests per minute"),
        flag("may_set_resource", &PrebindClient::may_set_resource,
            "whether the client may choose the resource"),
        texts("assertion_issuers", &PrebindClient::assertion_issuers, nullptr,
            "ids of [[prebind.issuers]] whose assertions the client may present"),
        flag("tickets_by_jid", &PrebindClient::tickets_by_jid,
            "whether POST /v1/tickets may name the JID without an assertion"),
        flag("require_signature", &PrebindClient::require_signature,
            "whether every request must carry a valid X-Bosun-Signature"),
        {"signing_keys", read_signing_keys,
            "one [[prebind.clients.signing_keys]] table per request-signing key"},
        number("jid_burst", &PrebindClient::jid_burst, {1, 1000},
            "prebinds per (client, bare JID) in a burst"),
        number("jid_per_minute", &PrebindClient::jid_per_minute, {1, 1'000'000},
            "prebinds per (client, bare JID) per minute after the burst"),
    };
    return fields;
}

void check_client(const Slot& s, const PrebindClient& client, const std::vector<PrebindClient>& seen)
{
    if (client.id.empty())
        s.error("\"id\" is required");
    if (client.key_hashes.empty())
        s.error("\"key_hashes\" needs at least one hash");
    if (client.allowed_domains.empty())
        s.error("\"allowed_domains\" needs at least one domain");
    if (client.require_signature && client.signing_keys.empty())
        s.error("\"require_signature\" needs at least one [[prebind.clients.signing_keys]]");
    for (const auto& other : seen) {
        if (!client.id.empty() && other.id == client.id)
            s.error(fmt::format("id \"{}\" is used twice", client.id));
        for (const auto& hash : client.key_hashes)
            if (std::find(other.key_hashes.begin(), other.key_hashes.end(), hash)
                != other.key_hashes.end())
                s.error(fmt::format("a key hash is also listed for client \"{}\"", other.id));
    }
}

void read_prebind_clients(const Slot& s, PrebindConfig& prebind)
{
    const auto* array = s.node.as_array();
    if (!array)
        return s.wrong_type("an array of [[prebind.clients]] tables");
    std::vector<PrebindClient> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const Slot item = s.element(i, *array->get(i));
        PrebindClient client;
        read_table(item, prebind_client_fields(), client);
        if (item.node.is_table())
            check_client(item, client, out);
        out.push_back(std::move(client));
    }
    prebind.clients = std::move(out);
}

Check check_alg(std::string_view name)
{
    for (const std::string_view known : {"HS256", "RS256", "ES256", "EdDSA"})
        if (name == known)
            return {};
    return unexpected(fmt::format("\"{}\" is not one of: HS256, RS256, ES256, EdDSA", name));
}

Check check_nonempty(std::string_view text)
{
    if (text.empty())
        return unexpected(std::string("must not be empty"));
    return {};
}

const Fields<AssertionKeyConfig>& issuer_key_fields()
{
    static const Fields<AssertionKeyConfig> fields {
        text("kid", &AssertionKeyConfig::kid, check_nonempty, "the JWT header's kid"),
        text("alg", &AssertionKeyConfig::alg, check_alg, "the one algorithm this key accepts"),
        text("secret_file", &AssertionKeyConfig::secret_file, nullptr,
            "HS256: file with the raw secret (at least 32 bytes)"),
        text("public_key_file", &AssertionKeyConfig::public_key_file, nullptr,
            "RS256/ES256/EdDSA: PEM public key file"),
    };
    return fields;
}

void check_issuer_key(const Slot& s, const AssertionKeyConfig& key)
{
    if (key.kid.empty())
        s.error("\"kid\" is required");
    if (key.alg.empty())
        s.error("\"alg\" is required");
    const bool hs = key.alg == "HS256";
    // RFC 8725 §3.1: the key's kind is fixed by config, so no HS/RS confusion.
    if (hs && (key.secret_file.empty() || !key.public_key_file.empty()))
        s.error("an HS256 key needs \"secret_file\" and no \"public_key_file\"");
    if (!hs && !key.alg.empty() && (key.public_key_file.empty() || !key.secret_file.empty()))
        s.error(fmt::format(
            "an {} key needs \"public_key_file\" and no \"secret_file\"", key.alg));
}

void read_issuer_keys(const Slot& s, AssertionIssuer& issuer)
{
    const auto* array = s.node.as_array();
    if (!array)
        return s.wrong_type("an array of [[prebind.issuers.keys]] tables");
    std::vector<AssertionKeyConfig> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const Slot item = s.element(i, *array->get(i));
        AssertionKeyConfig key;
        read_table(item, issuer_key_fields(), key);
        if (item.node.is_table())
            check_issuer_key(item, key);
        for (const auto& other : out)
            if (!key.kid.empty() && other.kid == key.kid)
                item.error(fmt::format("kid \"{}\" is used twice", key.kid));
        out.push_back(std::move(key));
    }
    issuer.keys = std::move(out);
}

const Fields<AssertionIssuer>& issuer_fields()
{
    static const Fields<AssertionIssuer> fields {
        text("id", &AssertionIssuer::id, check_client_id, "named by clients' assertion_issuers"),
        text("issuer", &AssertionIssuer::issuer, check_nonempty, "the JWT's iss"),
        text("audience", &AssertionIssuer::audience, check_nonempty, "must be in the JWT's aud"),
        number("leeway", &AssertionIssuer::leeway, {0, 300}, "seconds of clock skew allowed"),
        number("max_lifetime", &AssertionIssuer::max_lifetime, {1, 3600},
            "seconds, longest exp - iat accepted"),
        number("max_token_bytes", &AssertionIssuer::max_token_bytes, {256, 64 * KiB},
            "bytes of one assertion JWT"),
        {"keys", read_issuer_keys, "one [[prebind.issuers.keys]] table per key"},
    };
    return fields;
}

void read_prebind_issuers(const Slot& s, PrebindConfig& prebind)
{
    const auto* array = s.node.as_array();
    if (!array)
        return s.wrong_type("an array of [[prebind.issuers]] tables");
    std::vector<AssertionIssuer> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const Slot item = s.element(i, *array->get(i));
        AssertionIssuer issuer;
        read_table(item, issuer_fields(), issuer);
        if (item.node.is_table() && (issuer.id.empty() || issuer.issuer.empty()))
            item.error("\"id\" and \"issuer\" are required");
        if (item.node.is_table() && issuer.keys.empty())
            item.error("\"keys\" needs at least one key");
        for (const auto& other : out)
            if (!issuer.id.empty() && other.id == issuer.id)
                item.error(fmt::format("id \"{}\" is used twice", issuer.id));
        out.push_back(std::move(issuer));
    }
    prebind.issuers = std::move(out);
}

const Fields<PrebindConfig>& prebind_fields()
{
    static const Fields<PrebindConfig> fields {
        flag("enabled", &PrebindConfig::enabled, "whether the prebind API listener runs"),
        {"listen", [](const Slot& s, PrebindConfig& c) { read_listen(s, c.listen); },
            "prebind API addresses, \"IPv4:port\" or \"[IPv6]:port\""},
        number("attach_timeout", &PrebindConfig::attach_timeout, {5, 600},
            "seconds a prebound session waits for the browser"),
        number("handshake_timeout", &PrebindConfig::handshake_timeout, {1, 120},
            "seconds for the upstream login"),
        number("read_timeout", &PrebindConfig::read_timeout, {1, 300},
            "seconds to receive one whole API request"),
        number("idle_timeout", &PrebindConfig::idle_timeout, {1, 3600},
            "seconds a keep-alive API connection may wait"),
        number("max_header_bytes", &PrebindConfig::max_header_bytes, {1 * KiB, 64 * KiB},
            "bytes of request line and headers"),
        number("max_body_bytes", &PrebindConfig::max_body_bytes, {1 * KiB, 1 * MiB},
            "bytes of one API request body"),
        number("max_connections", &PrebindConfig::max_connections, {1, 100'000},
            "open API connections"),
        number("max_in_flight", &PrebindConfig::max_in_flight, {1, 100'000},
            "prebinds in progress at once"),
        number("failed_login_limit", &PrebindConfig::failed_login_limit, {1, 1000},
            "failed logins per JID before a lockout"),
        number("failed_login_window", &PrebindConfig::failed_login_window, {1, 86400},
            "seconds over which failed logins count"),
        number("lockout_time", &PrebindConfig::lockout_time, {1, 86400},
            "seconds a locked-out JID gets 429"),
        number("anonymous_per_ip_per_minute", &PrebindConfig::anonymous_per_ip_per_minute,
            {1, 1'000'000}, "anonymous prebinds per end-user IP per minute"),
        {"clients", read_prebind_clients, "one [[prebind.clients]] table per caller"},
        {"issuers", read_prebind_issuers, "one [[prebind.issuers]] table per assertion signer"},
        number("max_jti_entries", &PrebindConfig::max_jti_entries, {100, 10'000'000},
            "assertion ids remembered against replay"),
        number("resume_idle_lifetime", &PrebindConfig::resume_idle_lifetime, {60, 30 * 86400},
            "seconds a resume token is valid after it was issued"),
        number("resume_max_lifetime", &PrebindConfig::resume_max_lifetime, {60, 90 * 86400},
            "seconds a chain of resume tokens lives after the first was issued"),
        number("resume_grace", &PrebindConfig::resume_grace, {0, 600},
            "seconds a replaced resume token stays valid"),
        number("max_resume_tokens", &PrebindConfig::max_resume_tokens, {100, 10'000'000},
            "resume tokens kept (live and recently replaced)"),
        number("max_signature_nonces", &PrebindConfig::max_signature_nonces, {100, 10'000'000},
            "signed-request nonces remembered against replay"),
        text("tls_cert_file", &PrebindConfig::tls_cert_file, nullptr,
            "PEM certificate chain: with tls_key_file, the listener speaks HTTPS only"),
        text("tls_key_file", &PrebindConfig::tls_key_file, nullptr, "PEM private key"),
        text("tls_client_ca_file", &PrebindConfig::tls_client_ca_file, nullptr,
            "PEM CA bundle: callers must present a client certificate (mTLS)"),
        flag("allow_plaintext_non_loopback", &PrebindConfig::allow_plaintext_non_loopback,
            "allow a non-loopback listen address without TLS"),
    };
    return fields;
}

const Fields<Config>& root_fields()
{
    static const Fields<Config> fields {
        choice("log_level", &Config::log_level, log_levels, "trace|debug|info|warn|error"),
        {"http", [](const Slot& s, Config& c) { read_table(s, http_fields(), c.http); },
            "the HTTP front end"},
        {"bosh", [](const Slot& s, Config& c) { read_table(s, bosh_fields(), c.bosh); },
            "BOSH session parameters"},
        {"upstream", read_upstreams, "one [upstream.\"domain\"] table per XMPP domain"},
        {"prebind", [](const Slot& s, Config& c) { read_table(s, prebind_fields(), c.prebind); },
            "the prebind API (docs/prebind.md)"},
    };
    return fields;
}

bool is_bare_key(std::string_view key)
{
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '_' || c == '-';
    });
}

std::string quoted(std::string_view key)
{
    std::string out = "\"";
    for (char c : key)
        out += (c == '"' || c == '\\') ? fmt::format("\\{}", c) : std::string(1, c);
    return out + '"';
}

} // namespace

void read_config(const toml::table& root, Config& config, Diagnostics& diag)
{
    read_table(Slot {root, "", "the configuration file", diag}, root_fields(), config);
}

std::vector<std::string> key_paths()
{
    // Written out per section: the root table's entries are sections, not
    // keys, except log_level.
    std::vector<std::string> paths {"log_level"};
    for (const auto& f : http_fields())
        paths.push_back(key_path("http", f.key));
    for (const auto& f : bosh_fields())
        paths.push_back(key_path("bosh", f.key));
    for (const auto& f : upstream_fields())
        paths.push_back(key_path("upstream.*", f.key));
    for (const auto& f : prebind_fields())
        if (f.key != "clients" && f.key != "issuers")
            paths.push_back(key_path("prebind", f.key));
    for (const auto& f : prebind_client_fields())
        paths.push_back(key_path("prebind.clients.*", f.key));
    for (const auto& f : signing_key_fields())
        paths.push_back(key_path("prebind.clients.*.signing_keys.*", f.key));
    for (const auto& f : issuer_fields())
        if (f.key != "keys")
            paths.push_back(key_path("prebind.issuers.*", f.key));
    for (const auto& f : issuer_key_fields())
        paths.push_back(key_path("prebind.issuers.*.keys.*", f.key));
    return paths;
}

std::string key_path(std::string_view parent, std::string_view key)
{
    const std::string name = is_bare_key(key) ? std::string(key) : quoted(key);
    return parent.empty() ? name : fmt::format("{}.{}", parent, name);
}

std::string upstream_path(std::string_view domain)
{
    return "upstream." + quoted(domain);
}

} // namespace bosun::config
