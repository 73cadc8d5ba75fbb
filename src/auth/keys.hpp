#pragma once
// JWS keys. A key's type fixes its one algorithm (RFC 8725 §3.1): an RSA key
// is RS256 only, a P-256 key ES256 only, an Ed25519 key EdDSA only, and a
// secret HS256 only. So no header can make an RSA public key act as an HMAC
// secret. Loading is the only place keys are checked for strength; verification
// and signing are pure afterwards.

#include "bosun/expected.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY; OpenSSL headers stay inside src/auth/*.cpp

namespace bosun::auth {

// RFC 7518 §3.1 and RFC 8037 §3.1 names; values mirror the wire names.
enum class Alg { HS256, RS256, ES256, EdDSA };

std::string_view to_wire(Alg alg);
/// Exact, case-sensitive match (RFC 7515 §4.1.1); "none" and every other
/// name give nullopt.
std::optional<Alg> alg_from_wire(std::string_view name);

// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
inline constexpr std::size_t min_hmac_key_bytes = 32;
// RFC 7518 §3.3: RSA keys of 2048 bits or more.
inline constexpr unsigned min_rsa_bits = 2048;

class Secret;

/// An OpenSSL key (public, or private for signing) or an HMAC secret that is
/// wiped when the last copy goes. Copies share the material.
class KeyMaterial {
public:
    static KeyMaterial adopt_pkey(evp_pkey_st* pkey);  // takes ownership
    static KeyMaterial copy_secret(std::string_view bytes);

    evp_pkey_st* pkey() const { return pkey_.get(); }
    std::span<const unsigned char> secret() const;

private:
    std::shared_ptr<evp_pkey_st> pkey_;
    std::shared_ptr<const Secret> secret_;
};

struct VerifyKey {
    std::string issuer;
    std::string kid;
    Alg alg;
    KeyMaterial material;
};

struct SigningKey {
    Alg alg;
    std::string kid;  // written to the header when not empty
    KeyMaterial material;
};

/// A PEM "PUBLIC KEY" (SubjectPublicKeyInfo): RSA ≥ 2048 bits, EC P-256 or
/// Ed25519. `expected`, when given (from config), must match the key type.
/// Errors are one-line messages for startup; they never contain key bytes.
[[nodiscard]] Expected<VerifyKey, std::string> load_verify_key_pem(std::string issuer,
    std::string kid, std::string_view pem, std::optional<Alg> expected = std::nullopt);

/// Raw secret bytes for HS256: at least min_hmac_key_bytes, and never
/// something that looks like a PEM key (the HS/RS confusion, done by config).
[[nodiscard]] Expected<VerifyKey, std::string> load_verify_key_hs256(
    std::string issuer, std::string kid, std::string_view secret);

/// A PEM private key (PKCS#8 "PRIVATE KEY" or the traditional RSA/EC forms),
/// unencrypted; same key types and sizes as for verification.
[[nodiscard]] Expected<SigningKey, std::string> load_signing_key_pem(
    std::string_view pem, std::string kid = {}, std::optional<Alg> expected = std::nullopt);

[[nodiscard]] Expected<SigningKey, std::string> load_signing_key_hs256(
    std::string_view secret, std::string kid = {});

/// Verification keys indexed by (issuer, kid), never by kid alone: two
/// issuers may use the same kid without one verifying the other's tokens.
class KeySet {
public:
    /// Refuses an empty issuer or kid and a second key for the same pair.
    [[nodiscard]] Expected<void, std::string> add(VerifyKey key);
    const VerifyKey* find(std::string_view issuer, std::string_view kid) const;
    /// Whether some issuer has a key with this kid (to tell "wrong issuer"
    /// from "unknown key" in errors).
    bool has_kid(std::string_view kid) const;
    std::size_t size() const { return size_; }

private:
    std::map<std::string, std::map<std::string, VerifyKey, std::less<>>, std::less<>> by_issuer_;
    std::size_t size_ = 0;
};

}  // namespace bosun::auth
