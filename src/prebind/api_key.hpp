#pragma once
// Caller (web-app back end) API keys: "bsk_<id>_<secret>", where <id> names
// the [[prebind.clients]] entry and <secret> is 256 random bits in base64url.
// Only "sha256:<hex>" of the whole key is stored; a presented key is hashed
// and compared in constant time against every stored hash of its client.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bosun::prebind {

inline constexpr std::string_view key_prefix = "bsk_";
inline constexpr std::size_t key_secret_bytes = 32;  // 256 bits

// The <id> of a well-formed key, or nullopt. <id> has no '_' (config
// enforces that); the secret is everything after the second '_'.
std::optional<std::string_view> key_client_id(std::string_view key);

// "sha256:<64 lowercase hex>" of the whole key, as stored in key_hashes.
std::string key_hash(std::string_view key);

// True if SHA-256(key) equals one of `stored`. Every entry is compared with
// CRYPTO_memcmp and none is skipped, so timing does not show which matched.
bool key_matches(std::string_view key, std::span<const std::string> stored);

// A new key for client `id` from the kernel's CSPRNG.
std::string generate_key(std::string_view id);

// The credentials of "Authorization: Bearer <token>" (RFC 6750 §2.1; the
// scheme is case-insensitive), or nullopt.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// Overwrites the string's bytes (OPENSSL_cleanse) and empties it.
void cleanse(std::string& secret);
void cleanse_bytes(void* data, std::size_t size);

}  // namespace bosun::prebind
