#pragma once
// HTTP content codings for BOSH bodies (XEP-0124 §5, §7.2; checklist #4, #5):
// responses are compressed when the client's Accept-Encoding allows it, and
// request bodies may arrive compressed with a coding advertised in 'accept'.
// Pure: bytes in, bytes out (zlib); no sockets.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "bosun/expected.hpp"

namespace bosun::frontend {

enum class Coding { identity, gzip, deflate };

/// What a creation response advertises in 'accept' (§7.2): the codings
/// decompress() understands.
inline constexpr std::string_view accepted_codings = "deflate gzip";

/// Bodies shorter than this go out uncompressed: a gzip frame costs 18
/// bytes, and a short empty <body/> would only grow.
inline constexpr std::size_t min_compressed_size = 256;

/// The coding to answer with for an Accept-Encoding header value (RFC 9110
/// §12.5.3): gzip, else deflate, when the client gives it a non-zero q
/// (directly or through "*"); identity otherwise and when the header is absent.
Coding choose_response_coding(std::optional<std::string_view> accept_encoding);

/// A Content-Encoding value of a request: nullopt for a coding we cannot
/// decode (the request is then refused with 415, RFC 9110 §15.5.16).
std::optional<Coding> parse_content_encoding(std::string_view value);

std::string_view coding_name(Coding c);

/// gzip (RFC 1952) or deflate (the zlib format, RFC 1950, as RFC 9110
/// §8.4.1.2 defines it). identity returns the input; nullopt only if zlib
/// fails (then the body goes out uncompressed).
std::optional<std::string> compress(std::string_view data, Coding coding);

enum class DecodeError { corrupt, too_large };

/// Inverse of compress(); a "deflate" body in the raw format (RFC 1951),
/// which some clients send, is accepted too. The output never exceeds
/// max_size (decompression bombs: STYLE rule 8).
Expected<std::string, DecodeError> decompress(
    std::string_view data, Coding coding, std::size_t max_size);

}  // namespace bosun::frontend
