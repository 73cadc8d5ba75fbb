#pragma once
// JWS signatures in their JOSE form (RFC 7518 §3): the HMAC output for HS256,
// RSASSA-PKCS1-v1_5 for RS256, ECDSA as the 64-byte r||s pair for ES256
// (OpenSSL speaks DER, so we convert), and the 64-byte Ed25519 signature
// (RFC 8037 §3.1).

#include "auth/keys.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bosun::auth {

/// True only if `signature` is a valid signature of `signing_input` under
/// `key` with `alg`, and the key's material is of the kind `alg` needs.
[[nodiscard]] bool verify_signature(
    Alg alg, const KeyMaterial& key, std::string_view signing_input, std::string_view signature);

/// The JOSE signature bytes, or nullopt if OpenSSL fails (or the material does
/// not fit `alg`).
[[nodiscard]] std::optional<std::string> sign_bytes(
    Alg alg, const KeyMaterial& key, std::string_view signing_input);

}  // namespace bosun::auth
