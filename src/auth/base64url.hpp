#pragma once
// RFC 7515 §2 / RFC 4648 §5 base64url without padding, decoded strictly:
// no '=', no whitespace, no standard-alphabet '+' or '/', and the unused low
// bits of the last character must be zero, so each byte string has exactly
// one encoding and a token cannot be altered without changing its bytes.

#include <optional>
#include <string>
#include <string_view>

namespace bosun::auth {

std::string base64url_encode(std::string_view bytes);

/// nullopt on any character outside the alphabet, a length of 4n+1, or
/// non-zero trailing bits.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace bosun::auth
