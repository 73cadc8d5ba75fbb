#pragma once
// Boost.JSON helpers for JOSE headers and claim sets. Internal to src/auth:
// the public headers (jwt.hpp, keys.hpp) expose no Boost types.

#include <boost/json/object.hpp>

#include <optional>
#include <string_view>

namespace bosun::auth::json {

// Deep nesting has no place in a header or claim set; the cap bounds the
// parser's stack on hostile input (the token size is capped before this).
inline constexpr unsigned max_depth = 16;

/// Parses `text` as one JSON object. nullopt if it is not valid UTF-8 JSON,
/// not an object, nested deeper than max_depth, or repeats a member name at
/// any level. RFC 7515 §4 allows "last one wins", but rejecting removes any
/// chance that the signer's parser and ours read different claims.
std::optional<boost::json::object> parse_object(std::string_view text);

}  // namespace bosun::auth::json
