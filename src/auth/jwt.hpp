#pragma once
// JWT verification and minting (RFC 7515 compact JWS, RFC 7519 claims) under
// the strict profile in docs/auth.md: compact form only, size capped first,
// kid required, the algorithm fixed by the key found under (iss, kid), exp
// required and short, aud required, jti required and used once. Pure: the
// time is a parameter and the keys are loaded beforehand.
//
// Errors are enum values only, so nothing about the token (or a key) can end
// up in a log line or a response through them.

#include "auth/jti_cache.hpp"
#include "auth/keys.hpp"
#include "auth/unix_time.hpp"
#include "bosun/expected.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::auth {

enum class JwtError {
    malformed,  // not compact JWS, bad base64url or JSON, wrong claim type, crit, no kid
    too_large,  // longer than VerifyPolicy::max_token_bytes (checked first)
    unknown_key,  // no key for (iss, kid)
    alg_not_allowed,  // "none", an unsupported alg, or not the key's alg
    bad_signature,
    expired,
    not_yet_valid,  // nbf
    issued_in_future,  // iat
    lifetime_too_long,  // exp - (iat or now) > max_lifetime
    audience_mismatch,
    issuer_mismatch,  // iss is not the policy's issuer, or kid belongs to another issuer
    type_mismatch,  // header typ is not the policy's typ
    missing_claim,  // exp, aud, iss, jti, or sub when required
    replayed,  // jti seen before
    replay_cache_full,  // the jti cache is at its cap: fail closed
};

/// Stable snake_case name, e.g. "bad_signature", for logs and metrics.
std::string_view to_string(JwtError error);

inline constexpr std::size_t default_max_token_bytes = 8 * 1024;
inline constexpr std::size_t max_jti_bytes = 256;

struct VerifyPolicy {
    std::string audience;  // required: aud must contain it; empty refuses every token
    std::string issuer;  // when not empty, iss must equal it (the calling client's issuer)
    std::string typ;  // when not empty, the header typ must match, e.g. "prebind+jwt"
    std::size_t max_token_bytes = default_max_token_bytes;
    std::chrono::seconds leeway {30};
    std::chrono::seconds max_lifetime {300};
    bool require_sub = true;
};

struct VerifiedClaims {
    std::string iss;
    std::string sub;  // empty only when the policy does not require it
    std::vector<std::string> aud;
    UnixTime exp;
    std::optional<UnixTime> iat;
    std::optional<UnixTime> nbf;
    std::string jti;
    std::string kid;  // of the key that verified the token
    // Every other claim whose value is a string (e.g. "name", "jid", "resource").
    std::map<std::string, std::string, std::less<>> strings;
};

/// The decoded parts of a compact JWS, before any check but the syntax.
struct CompactJws {
    std::string header;  // JSON text
    std::string payload;  // JSON text
    std::string signing_input;  // BASE64URL(header) '.' BASE64URL(payload), as received
    std::string signature;  // raw bytes
};

[[nodiscard]] Expected<CompactJws, JwtError> split_compact(
    std::string_view token, std::size_t max_token_bytes);

/// Every check but the jti's single use: a caller that has more checks of
/// its own (prebind's client policy) runs them, then calls spend_jti.
[[nodiscard]] Expected<VerifiedClaims, JwtError> check_jwt(
    std::string_view token, const KeySet& keys, const VerifyPolicy& policy, UnixTime now);

/// Spends claims.jti (of a token check_jwt accepted): `replayed` if it was
/// spent before, `replay_cache_full` when the cache is at its cap.
[[nodiscard]] Expected<void, JwtError> spend_jti(
    const VerifiedClaims& claims, UnixTime now, JtiCache& jtis);

/// check_jwt, then spend_jti (only a token that passed every other check is
/// remembered).
[[nodiscard]] Expected<VerifiedClaims, JwtError> verify_jwt(std::string_view token,
    const KeySet& keys, const VerifyPolicy& policy, UnixTime now, JtiCache& jtis);

struct MintClaims {
    UnixTime exp;
    std::optional<UnixTime> iat;
    std::optional<UnixTime> nbf;
    std::vector<std::string> aud;  // none: omitted; one: a string; more: an array
    // String claims: iss, sub, jti, jid, name, ... (not exp, iat, nbf, aud).
    std::map<std::string, std::string, std::less<>> strings;
};

/// A compact JWS signed with `key` (its alg and, if set, its kid go in the
/// header). Errors name the problem, never key material.
[[nodiscard]] Expected<std::string, std::string> mint_jwt(
    const MintClaims& claims, const SigningKey& key, std::string_view typ = "JWT");

/// ejabberd `auth_method: jwt`: {"<jid_field>": jid, "exp": exp}. ejabberd
/// requires exp and checks Exp > Now with no leeway, and checks neither aud,
/// iss nor jti: keep exp close (≤ 60 s) and the clocks in sync.
struct EjabberdClaims {
    std::string jid;  // bare JID of the user
    UnixTime exp;
    std::string jid_field = "jid";  // ejabberd's jwt_jid_field
};

[[nodiscard]] Expected<std::string, std::string> mint_ejabberd_jwt(
    const EjabberdClaims& claims, const SigningKey& key);

/// Low level: signs the given header and payload JSON texts as they are. The
/// caller vouches that the header's alg is key.alg (tests use this to build
/// hostile tokens).
[[nodiscard]] Expected<std::string, std::string> sign_compact(
    const SigningKey& key, std::string_view header_json, std::string_view payload_json);

}  // namespace bosun::auth
