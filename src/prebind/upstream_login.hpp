#pragma once
// The upstream half of the `assertion` method and of POST /v1/tickets: once
// Bosun vouches for a user, the secret it (or the browser) sends as the SASL
// PLAIN password, by the domain's prebind_login strategy (docs/prebind.md,
// reference/prebind-and-auth.md §6.4):
//
//   "ticket"        a one-time ticket (prebind/ticket.hpp) that the server's
//                   module checks offline (conf/prosody/mod_auth_bosun.lua);
//   "ejabberd_jwt"  a JWT {"<jid_field>": "<user>@<domain>", "exp": now +
//                   lifetime} for ejabberd's `auth_method: jwt`, signed with
//                   the key behind its `jwt_key`. ejabberd checks the
//                   signature, the JID and exp (no leeway), nothing else: the
//                   token is not one-time, so its lifetime is short.
//
// Secrets and keys are loaded once at startup; a file that does not load
// stops Bosun. Nothing here logs, and errors never carry key bytes.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/keys.hpp"
#include "auth/unix_time.hpp"
#include "bosun/config.hpp"
#include "bosun/expected.hpp"
#include "prebind/request.hpp"

namespace bosun::prebind {

// An ejabberd_jwt key file, the form of ejabberd's own jwt_key where it can be:
//   {"kty":"oct","k":"<base64url>"}   the very JWK file ejabberd reads: HS256,
//                                     k of at least 32 bytes;
//   a PEM private key                 ES256 (P-256), RS256 (RSA >= 2048) or
//                                     EdDSA; ejabberd gets its public JWK.
// A JWK set ({"keys":[one key]}, which ejabberd also takes) is accepted.
[[nodiscard]] Expected<auth::SigningKey, std::string> load_ejabberd_jwt_key(
    std::string_view file_text);

// One message per [upstream] whose strategy's secret or key file cannot be
// loaded (for --check-config), naming the domain and file, never the bytes.
std::vector<std::string> check_login_secrets(const Config& config);

struct MintedLogin {
    std::string secret;  // the SASL PLAIN password; never logged
    std::int64_t exp = 0;  // Unix seconds
};

class LoginMinter {
public:
    // Throws std::runtime_error (domain and file named) when a secret or key
    // of a domain with a strategy cannot be loaded.
    explicit LoginMinter(const std::map<std::string, UpstreamConfig>& upstreams);
    ~LoginMinter();
    LoginMinter(const LoginMinter&) = delete;
    LoginMinter& operator=(const LoginMinter&) = delete;

    // The secret for jid, or nullopt when its domain has no strategy. Throws
    // std::runtime_error only if a loaded key fails to sign.
    [[nodiscard]] std::optional<MintedLogin> mint(const BareJid& jid, auth::UnixTime now) const;
    // Whether the domain has a strategy (mint() gives a secret for it).
    bool serves(std::string_view domain) const { return domains_.contains(domain); }

private:
    struct Domain {
        AssertionLogin how = AssertionLogin::none;
        Seconds lifetime {0};
        std::string ticket_secret;  // "ticket"
        std::optional<auth::SigningKey> key;  // "ejabberd_jwt"
        std::string jid_field;  // "ejabberd_jwt"
    };
    std::map<std::string, Domain, std::less<>> domains_;
};

}  // namespace bosun::prebind
