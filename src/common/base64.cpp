#include "common/base64.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace bosun {
namespace {

constexpr std::string_view alphabet
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t invalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table()
{
    std::array<std::uint8_t, 256> table {};
    table.fill(invalid);
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
    return table;
}
constexpr auto decode_table = make_decode_table();

// Number of '=' at the end (at most two count; more is rejected by the caller).
std::size_t padding_of(std::string_view text)
{
    std::size_t n = 0;
    while (n < text.size() && text[text.size() - 1 - n] == '=')
        ++n;
    return n;
}

}  // namespace

std::string base64_encode(std::string_view bytes)
{
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16
            | static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8
            | static_cast<unsigned char>(bytes[i + 2]);
        out.push_back(alphabet[(v >> 18) & 0x3f]);
        out.push_back(alphabet[(v >> 12) & 0x3f]);
        out.push_back(alphabet[(v >> 6) & 0x3f]);
        out.push_back(alphabet[v & 0x3f]);
    }
    std::size_t rest = bytes.size() - i;
    if (rest == 0)
        return out;
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2)
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(alphabet[(v >> 18) & 0x3f]);
    out.push_back(alphabet[(v >> 12) & 0x3f]);
    out.push_back(rest == 2 ? alphabet[(v >> 6) & 0x3f] : '=');
    out.push_back('=');
    return out;
}

std::optional<std::string> base64_decode(std::string_view text)
{
    // RFC 4648 §3.2: padded text is always whole quanta.
    if (text.size() % 4 != 0)
        return std::nullopt;
    std::size_t pad = padding_of(text);
    if (pad > 2)
        return std::nullopt;
    std::string_view body = text.substr(0, text.size() - pad);
    std::string out;
    out.reserve(body.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : body) {
        std::uint8_t v = decode_table[static_cast<unsigned char>(c)];
        if (v == invalid)
            return std::nullopt;  // '=' in the middle lands here too
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    // RFC 4648 §3.5: the pad bits must be zero; one spelling per byte string.
    if ((acc & ((1u << bits) - 1)) != 0)
        return std::nullopt;
    return out;
}

}  // namespace bosun
