#pragma once
// SHA-1 (FIPS 180-4 §6.1), only for XEP-0124 §15 key sequences. The pure
// core takes no crypto library (STYLE rule 3 keeps OpenSSL to auth/, xmpp
// SASL and TLS), and §15 needs nothing but the digest of short strings.
// Not for anything security-critical beyond what §15 asks (§19.4).

#include <array>
#include <cstdint>
#include <string_view>

namespace bosun::bosh {

using Sha1Digest = std::array<std::uint8_t, 20>;

/// The SHA-1 digest of `data`.
Sha1Digest sha1(std::string_view data);

/// hex(SHA-1(data)) as §15.2 writes it: 40 hex digits, lower case unless
/// `upper` is set.
std::array<char, 40> sha1_hex(std::string_view data, bool upper = false);

/// 40 hex digits, either case: the only form a §15.2 key can take.
bool is_sha1_hex(std::string_view s);

}  // namespace bosun::bosh
