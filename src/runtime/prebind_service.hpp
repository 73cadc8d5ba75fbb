#pragma once
// The seam between the prebind API (src/prebind: HTTP, caller keys, policy,
// JWT checks, reconnect tokens) and the session runtime (upstream connect,
// TLS, SASL, bind, then a BOSH session waiting for the browser to attach).
//
// Every prebind method ends in one of two upstream logins: SASL with a
// username and a secret (a password, a server-checked token, a minted JWT or
// a one-time ticket), or SASL ANONYMOUS. The API layer decides which; the
// runtime only logs in. Secrets never reach a log line or an error text.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "bosun/expected.hpp"
#include "common/asio.hpp"

namespace bosun::runtime {

/// Which SASL mechanisms the upstream login may use.
enum class SaslPolicy {
    /// A real password: SCRAM-SHA-256(-PLUS), then SCRAM-SHA-1(-PLUS), then
    /// PLAIN only over TLS or to a loopback server. Never DIGEST-MD5.
    password,
    /// A secret the server checks verbatim (token, JWT, ticket): PLAIN only,
    /// and only over TLS or to a loopback server.
    plain_secret,
    /// SASL ANONYMOUS; username and secret are ignored.
    anonymous,
};

struct PrebindLogin {
    std::string domain;     ///< an [upstream."domain"] Bosun serves
    std::string username;   ///< localpart (authcid); empty for anonymous
    std::string secret;     ///< never logged, cleared after use
    SaslPolicy policy = SaslPolicy::password;
    std::string resource;   ///< asked for at bind; empty: the server picks
    std::string client_ip;  ///< the end user's address, for logs only
};

/// A session logged in upstream and waiting for the browser (P1-P7).
struct Prebound {
    std::string jid;        ///< full JID from the bind result
    std::string sid;
    std::uint64_t rid = 0;  ///< the next rid the browser must send, in [2^40, 2^52)
    /// Mechanism used upstream, e.g. "SCRAM-SHA-256-PLUS", for the caller's logs.
    std::string mechanism;
    /// The session's parameters (XEP-0124 §7.2), for Strophe's attach().
    unsigned wait = 59;
    unsigned hold = 1;
    unsigned requests = 2;
    unsigned inactivity = 60;
};

enum class PrebindFailure {
    not_authorized,        ///< SASL failure: bad credentials (401 / 403 in the API)
    mechanism_unavailable, ///< no mechanism the policy allows (PLAIN without TLS, ...)
    host_unknown,          ///< domain not served
    upstream_unavailable,  ///< connect/DNS/TLS/stream error: the exact cause is logged
    timeout,               ///< handshake_timeout passed
    capacity,              ///< max sessions or max handshakes in flight
    draining,              ///< shutting down
};

/// What GET /v1/sessions/{sid} may report: never the rid (§6 of
/// reference/prebind-and-auth.md).
struct SessionInfo {
    std::string jid;
    bool attached = false;  ///< the browser sent its first request
    bool ended = false;
};

class PrebindService {
public:
    virtual ~PrebindService() = default;

    /// Connects upstream, does TLS, SASL, restart, bind and the legacy session
    /// IQ natively, and creates a BOSH session that waits attach_timeout for
    /// its first request. Sends no initial presence. Stanzas arriving before
    /// the attach are kept for the browser.
    virtual net::awaitable<Expected<Prebound, PrebindFailure>> prebind(PrebindLogin login) = 0;

    virtual std::optional<SessionInfo> session_info(const std::string& sid) const = 0;

    /// Ends one session (its held requests get a terminate; undelivered
    /// stanzas are bounced upstream). False: no such session.
    virtual bool end_session(const std::string& sid) = 0;

    /// Ends every session of a bare JID; returns how many.
    virtual std::size_t end_user_sessions(const std::string& bare_jid) = 0;
};

}  // namespace bosun::runtime
