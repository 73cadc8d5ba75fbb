#pragma once
// RFC 4648 §4 standard base64 with '=' padding, as SASL uses it (RFC 6120
// §6.4.2, RFC 5802 §7). Decoding is strict: no whitespace, the length is a
// multiple of four, padding only at the end, and the unused low bits of the
// last character are zero, so each byte string has exactly one encoding.

#include <optional>
#include <string>
#include <string_view>

namespace bosun {

std::string base64_encode(std::string_view bytes);

/// nullopt on any character outside the alphabet, misplaced or missing
/// padding, a length that is not a multiple of four, or non-zero pad bits.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace bosun
