#pragma once
// The `assertion` method's first half (docs/prebind.md): verify a web app's
// JWT under the strict profile of src/auth (docs/auth.md) with the keys of
// the [[prebind.issuers]] the calling client may use, and name the user.
// Keys are loaded once at startup; a bad key file stops Bosun.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.hpp"
#include "bosun/config.hpp"
#include "bosun/expected.hpp"
#include "prebind/request.hpp"

namespace bosun::prebind {

struct AssertionFailure {
    unsigned status;  // 403, or 503 when the replay cache is full
    std::string_view error;  // §6.3 code: invalid_credentials, forbidden, unavailable
    std::string detail;  // names the failed check, never the token
};

struct AssertedUser {
    BareJid jid;  // from `sub`: a bare JID, the localpart ASCII-lowercased
    std::string kid;
    auth::VerifiedClaims claims;  // for spend()
};

// Every problem the Api constructor would stop on, for `--check-config`: one
// message per key, ticket or signing secret file that cannot be read or used
// (never the files' bytes). Empty: all load.
std::vector<std::string> check_secret_files(const Config& config);

class AssertionVerifier {
public:
    // Throws std::runtime_error naming the issuer, kid and file when a key
    // cannot be loaded (never the key's bytes).
    explicit AssertionVerifier(const PrebindConfig& config);

    // Every check of the token, but its jti is NOT spent yet: the caller runs
    // its own checks (client policy, rate limits) and then calls spend(), so a
    // request refused for policy can be retried once the policy is fixed
    // (docs/prebind.md "When the jti is spent").
    [[nodiscard]] Expected<AssertedUser, AssertionFailure> verify(
        const PrebindClient& client, std::string_view token, auth::UnixTime now);

    // Single use (RFC 7519 §4.1.7): 403 invalid_credentials "replayed" if the
    // jti was spent before, 503 when the replay cache is full.
    [[nodiscard]] Expected<void, AssertionFailure> spend(
        const AssertedUser& user, auth::UnixTime now);

    std::size_t key_count() const;

private:
    struct Issuer {
        AssertionIssuer config;
        auth::KeySet keys;
    };
    const Issuer* issuer_for(const PrebindClient& client, std::string_view iss) const;

    std::vector<Issuer> issuers_;
    auth::JtiCache jtis_;
};

}  // namespace bosun::prebind
