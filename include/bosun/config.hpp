#pragma once
// Typed configuration. src/config fills it from a TOML file and validates it;
// every other module receives `const Config&`. Durations are whole seconds unless the key ends in _ms.
// Defaults here are the documented safe defaults (conf/bosun.example.toml).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bosun/time.hpp"

namespace bosun {

enum class LogLevel { trace, debug, info, warn, error };

/// Upstream TLS policy for one XMPP domain.
enum class TlsPolicy {
    required,  ///< STARTTLS must be offered and must succeed, with a verified certificate.
    optional,  ///< STARTTLS when offered (certificate still verified); plain otherwise.
    none,      ///< never STARTTLS (only for a server on the same host, XEP-0124 §19.2).
};

struct ListenAddress {
    std::string host;   ///< numeric IPv4 or IPv6 address
    std::uint16_t port = 0;
};

struct HttpConfig {
    std::vector<ListenAddress> listen{{"127.0.0.1", 5280}};
    std::string path = "/http-bind";
    /// Exact origins allowed for CORS ("https://app.example"). Empty: no CORS headers.
    std::vector<std::string> cors_allowed_origins;
    /// Peers whose X-Forwarded-For is believed: addresses or CIDR blocks.
    std::vector<std::string> trusted_proxies;
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 512 * 1024;
    Seconds read_timeout{15};    ///< to receive one whole request once it started
    Seconds idle_timeout{120};   ///< keep-alive connection with no request
    std::size_t max_connections = 9000;
};

struct BoshConfig {
    Seconds max_wait{60};         ///< cap on the client's 'wait' (XEP-0124 §7.2)
    Seconds default_wait{60};     ///< used when the client sends no 'wait'
    Seconds inactivity{60};       ///< advertised 'inactivity' (§10)
    Seconds polling{2};           ///< advertised 'polling' (§11, §12)
    unsigned max_hold = 1;        ///< cap on 'hold'; 'requests' is hold+1 (§7.2)
    std::size_t max_sessions = 8000;
    std::size_t max_stanza_bytes = 256 * 1024;
    /// Bytes queued for the client (not yet delivered) before the session is
    /// terminated with policy-violation.
    std::size_t max_pending_bytes = 1024 * 1024;
    Seconds connect_timeout{10};  ///< upstream connect + stream features
    /// Upstream connections being opened at once (connect, STARTTLS, stream
    /// features), over all domains; more wait in a queue of
    /// max_connect_queue, within connect_timeout. Protects the XMPP server
    /// from a storm of TLS handshakes (W4, docs/benchmarks.md).
    std::size_t max_connecting = 32;
    /// New sessions waiting for a connecting slot; beyond it a session is
    /// refused at once with policy-violation (a prebind with HTTP 503).
    std::size_t max_connect_queue = 1000;
    /// Overload protection: when the event loop runs more than this late,
    /// new sessions and prebinds are refused (policy-violation, HTTP 503)
    /// for a second, so existing sessions keep their latency. 0: off.
    Duration overload_lag{100};
    Seconds max_pause{120};       ///< advertised 'maxpause' (§10); 0: no pause
    /// With client acks (§9.2): responses kept until acknowledged.
    unsigned max_unacked_responses = 16;
    unsigned max_resends = 8;     ///< re-sends of one rid before policy-violation (§14.3)
    /// Read timeout of a reverse proxy in front of Bosun; 0: none. 'wait' is
    /// granted at most this minus 5 s, so the proxy never cuts a long-poll.
    Seconds front_proxy_timeout{0};
    /// 'route' values (XEP-0124 §7.1, "xmpp:host:port") a client may use to
    /// pick the upstream host. Empty: 'route' is ignored and every session
    /// goes to its domain's [upstream], so Bosun is never an open relay.
    std::vector<std::string> allowed_routes;
};

/// How Bosun logs a verified `assertion` in upstream (docs/prebind.md).
enum class AssertionLogin {
    none,    ///< the domain takes no assertions
    ticket,  ///< a one-time HMAC ticket as the SASL PLAIN password (conf/prosody/mod_auth_bosun.lua)
    ejabberd_jwt,  ///< a short-lived JWT for ejabberd's auth_method: jwt as the PLAIN password
};

struct UpstreamConfig {
    std::string domain;           ///< the XMPP domain clients put in 'to'
    std::string host = "127.0.0.1";
    std::uint16_t port = 5222;
    TlsPolicy tls = TlsPolicy::required;
    std::string ca_file;          ///< PEM; empty: the system trust store
    std::string tls_server_name;  ///< certificate name to check; empty: domain
    /// Upstream strategy for prebind `assertion` and POST /v1/tickets.
    AssertionLogin prebind_login = AssertionLogin::none;
    /// File with the secret (≥ 32 bytes) shared with the server's ticket
    /// module; required when prebind_login = "ticket".
    std::string ticket_secret_file;
    Seconds ticket_lifetime{30};  ///< a minted ticket is valid this long
    /// prebind_login = "ejabberd_jwt": the key ejabberd's jwt_key checks, as
    /// the same {"kty":"oct"} JWK file (HS256) or a PEM private key (ES256,
    /// RS256, EdDSA) whose public half is ejabberd's JWK.
    std::string ejabberd_jwt_key_file;
    std::string ejabberd_jwt_jid_field = "jid";  ///< ejabberd's jwt_jid_field
    /// exp of a minted JWT; ejabberd checks it without leeway and does not
    /// make the token one-time, so keep it short.
    Seconds ejabberd_jwt_lifetime{60};
};

/// One key of an assertion issuer, [[prebind.issuers.keys]].
struct AssertionKeyConfig {
    std::string kid;              ///< the JWT header's kid
    std::string alg;              ///< "HS256", "RS256", "ES256" or "EdDSA": the only one accepted
    std::string secret_file;      ///< HS256: raw secret bytes (≥ 32)
    std::string public_key_file;  ///< RS256/ES256/EdDSA: a PEM public key
};

/// A party that signs assertion JWTs (a web app), [[prebind.issuers]].
struct AssertionIssuer {
    std::string id;        ///< named by clients' assertion_issuers
    std::string issuer;    ///< the JWT's iss
    std::string audience = "bosun:prebind";  ///< must be in the JWT's aud
    Seconds leeway{30};        ///< clock skew allowed on exp, nbf, iat
    Seconds max_lifetime{120}; ///< exp - iat at most
    std::size_t max_token_bytes = 8 * 1024;
    std::vector<AssertionKeyConfig> keys;
};

/// A request-signing key of a client, [[prebind.clients.signing_keys]].
struct SigningKeyConfig {
    std::string id;           ///< sent as X-Bosun-Key-Id
    std::string secret_file;  ///< raw secret bytes (≥ 32), trailing newline ignored
};

/// One caller of the prebind API (a web-app back end), [[prebind.clients]].
struct PrebindClient {
    std::string id;                            ///< the <id> in "bsk_<id>_<secret>"
    /// "sha256:<64 lowercase hex>" of the whole key; several for rotation.
    std::vector<std::string> key_hashes;
    std::vector<std::string> allowed_domains;  ///< each an [upstream."domain"]
    /// Subset of "password", "token", "anonymous", "assertion", "resume".
    std::vector<std::string> allowed_methods{"password", "token"};
    unsigned rate_per_minute = 600;            ///< token bucket, burst = one minute's worth
    bool may_set_resource = false;             ///< may pick the bound resource
    /// Ids of [[prebind.issuers]] whose assertions this client may present.
    std::vector<std::string> assertion_issuers;
    /// May ask POST /v1/tickets for a ticket by naming the JID alone (the
    /// web app vouches for its user); otherwise an assertion is needed.
    bool tickets_by_jid = false;
    /// Every request must carry a valid HMAC signature (X-Bosun-Signature,
    /// docs/prebind.md "Request signing") by one of signing_keys.
    bool require_signature = false;
    std::vector<SigningKeyConfig> signing_keys;
    /// Prebinds per (client, bare JID): a bucket of jid_burst refilled at
    /// jid_per_minute (reference §6.8: burst 5, then 12/min).
    unsigned jid_burst = 5;
    unsigned jid_per_minute = 12;
};

/// The prebind API listener (docs/prebind.md). Never the public BOSH port.
struct PrebindConfig {
    bool enabled = false;
    std::vector<ListenAddress> listen{{"127.0.0.1", 5281}};
    Seconds attach_timeout{45};      ///< a prebound session unattached this long is closed
    Seconds handshake_timeout{10};   ///< upstream connect + TLS + SASL + bind
    Seconds read_timeout{10};        ///< to receive one whole API request
    Seconds idle_timeout{60};        ///< keep-alive connection with no request
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = 16 * 1024;
    std::size_t max_connections = 256;
    std::size_t max_in_flight = 64;  ///< concurrent prebinds; more get 503
    /// Failed upstream logins per bare JID within failed_login_window before
    /// the JID is locked out (429) for lockout_time.
    unsigned failed_login_limit = 5;
    Seconds failed_login_window{300};
    Seconds lockout_time{300};
    unsigned anonymous_per_ip_per_minute = 10;  ///< per end-user IP (client.ip)
    std::vector<PrebindClient> clients;
    std::vector<AssertionIssuer> issuers;
    std::size_t max_jti_entries = 100'000;  ///< assertion jti replay cache; full: refuse
    /// Resume tokens (docs/prebind.md "resume"): each valid this long after
    /// it was issued (each resume issues a new one), never longer than
    /// resume_max_lifetime after the first; a replaced token stays valid
    /// for resume_grace; at most max_resume_tokens kept (then the soonest
    /// to expire are dropped).
    Seconds resume_idle_lifetime{24 * 3600};
    Seconds resume_max_lifetime{7 * 24 * 3600};
    Seconds resume_grace{60};
    std::size_t max_resume_tokens = 100'000;
    std::size_t max_signature_nonces = 100'000;  ///< signed-request nonce cache; full: refuse
    /// PEM certificate chain and key: when both are set the listener speaks
    /// HTTPS only.
    std::string tls_cert_file;
    std::string tls_key_file;
    /// PEM CA bundle: when set (with TLS), callers must present a client
    /// certificate it verifies (mTLS), on top of their API key.
    std::string tls_client_ca_file;
    /// A listen address that is not loopback without TLS is refused unless
    /// this is true (API keys and passwords would cross the network in clear).
    bool allow_plaintext_non_loopback = false;
};

struct Config {
    LogLevel log_level = LogLevel::info;
    HttpConfig http;
    BoshConfig bosh;
    std::map<std::string, UpstreamConfig> upstreams;  ///< by domain
    PrebindConfig prebind;
};

}  // namespace bosun
