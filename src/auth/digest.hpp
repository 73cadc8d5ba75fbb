#pragma once
// SHA-256 and HMAC-SHA256 in lowercase hex, as the prebind API's request
// signatures and one-time tickets carry them (docs/prebind.md "Request
// signing", conf/prosody/mod_auth_bosun.lua). OpenSSL stays in the .cpp.

#include <string>
#include <string_view>

namespace bosun::auth {

/// Two lowercase hex digits per byte of `bytes`.
[[nodiscard]] std::string hex_lower(std::string_view bytes);

/// SHA-256 of `data`: 64 lowercase hex digits.
[[nodiscard]] std::string sha256_hex(std::string_view data);

/// HMAC-SHA256 of `data` under `key`: 64 lowercase hex digits.
[[nodiscard]] std::string hmac_sha256_hex(std::string_view key, std::string_view data);

}  // namespace bosun::auth
