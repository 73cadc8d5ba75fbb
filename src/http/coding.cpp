#include "http/coding.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace bosun::frontend {
namespace {

// zlib's windowBits: 15 (32 KiB window), +16 for the gzip wrapper, +32 to
// detect zlib or gzip from the header, negative for raw deflate.
constexpr int window_zlib = 15;
constexpr int window_gzip = 15 + 16;
constexpr int window_auto = 15 + 32;
constexpr int window_raw = -15;
constexpr int mem_level = 8;
constexpr std::size_t chunk = 16 * 1024;

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool iequal(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x))
            == std::tolower(static_cast<unsigned char>(y));
    });
}

// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
// Anything unreadable counts as q=1, as most servers treat it.
bool q_is_zero(std::string_view params)
{
    for (std::size_t pos = 0; pos < params.size();) {
        const auto semi = params.find(';', pos);
        const auto param
            = trim(params.substr(pos, semi == std::string_view::npos ? semi : semi - pos));
        pos = semi == std::string_view::npos ? params.size() : semi + 1;
        if (param.size() < 2 || !iequal(param.substr(0, 2), "q="))
            continue;
        const auto q = param.substr(2);
        return !q.empty() && q.front() == '0'
            && q.find_first_not_of("0.", 0) == std::string_view::npos;
    }
    return false;
}

struct Offer {
    bool gzip = false, deflate = false, star = false;
    bool gzip_refused = false, deflate_refused = false;
};

Offer read_offer(std::string_view header)
{
    Offer o;
    for (std::size_t pos = 0; pos <= header.size();) {
        const auto comma = header.find(',', pos);
        const auto item = header.substr(
            pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        pos = comma == std::string_view::npos ? header.size() + 1 : comma + 1;
        const auto semi = item.find(';');
        const auto name = trim(item.substr(0, semi));
        const bool zero = semi != std::string_view::npos && q_is_zero(item.substr(semi + 1));
        if (iequal(name, "gzip") || iequal(name, "x-gzip"))
            (zero ? o.gzip_refused : o.gzip) = true;
        else if (iequal(name, "deflate"))
            (zero ? o.deflate_refused : o.deflate) = true;
        else if (name == "*" && !zero)
            o.star = true;
    }
    return o;
}

// One inflate pass; false when the data is not in the format windowBits names.
Expected<std::string, DecodeError> inflate_with(
    std::string_view data, int window_bits, std::size_t max_size)
{
    z_stream z {};
    if (inflateInit2(&z, window_bits) != Z_OK)
        return unexpected(DecodeError::corrupt);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    std::string out;
    std::array<char, chunk> buf {};
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buf.data());
        z.avail_out = static_cast<uInt>(buf.size());
        rc = inflate(&z, Z_NO_FLUSH);
        const std::size_t produced = buf.size() - z.avail_out;
        if (out.size() + produced > max_size) {
            inflateEnd(&z);
            return unexpected(DecodeError::too_large);
        }
        out.append(buf.data(), produced);
        if (rc == Z_BUF_ERROR && z.avail_in == 0)
            break;  // truncated input
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END)
        return unexpected(DecodeError::corrupt);
    return out;
}

}  // namespace

Coding choose_response_coding(std::optional<std::string_view> accept_encoding)
{
    if (!accept_encoding)
        return Coding::identity;
    const Offer o = read_offer(*accept_encoding);
    if (o.gzip || (o.star && !o.gzip_refused))
        return Coding::gzip;
    if (o.deflate || (o.star && !o.deflate_refused))
        return Coding::deflate;
    return Coding::identity;
}

std::optional<Coding> parse_content_encoding(std::string_view value)
{
    const auto v = trim(value);
    if (v.empty() || iequal(v, "identity"))
        return Coding::identity;
    if (iequal(v, "gzip") || iequal(v, "x-gzip"))
        return Coding::gzip;
    if (iequal(v, "deflate"))
        return Coding::deflate;
    return std::nullopt;
}

std::string_view coding_name(Coding c)
{
    switch (c) {
    case Coding::gzip:
        return "gzip";
    case Coding::deflate:
        return "deflate";
    case Coding::identity:
        break;
    }
    return "identity";
}

std::optional<std::string> compress(std::string_view data, Coding coding)
{
    if (coding == Coding::identity)
        return std::string(data);
    z_stream z {};
    const int window = coding == Coding::gzip ? window_gzip : window_zlib;
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window, mem_level, Z_DEFAULT_STRATEGY)
        != Z_OK)
        return std::nullopt;
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        return std::nullopt;
    return out;
}

Expected<std::string, DecodeError> decompress(
    std::string_view data, Coding coding, std::size_t max_size)
{
    if (coding == Coding::identity) {
        if (data.size() > max_size)
            return unexpected(DecodeError::too_large);
        return std::string(data);
    }
    auto out = inflate_with(data, window_auto, max_size);
    if (!out && out.error() == DecodeError::corrupt && coding == Coding::deflate)
        return inflate_with(data, window_raw, max_size);
    return out;
}

}  // namespace bosun::frontend
