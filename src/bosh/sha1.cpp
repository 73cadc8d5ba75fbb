#include "bosh/sha1.hpp"

#include <algorithm>
#include <cstddef>

namespace bosun::bosh {
namespace {

constexpr std::size_t k_block = 64;

constexpr std::uint32_t rotl(std::uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

// FIPS 180-4 §6.1.2: one 512-bit block into the hash value.
void compress(std::array<std::uint32_t, 5>& h, const std::uint8_t* block)
{
    std::array<std::uint32_t, 80> w {};
    for (std::size_t t = 0; t < 16; ++t)
        w[t] = std::uint32_t {block[4 * t]} << 24 | std::uint32_t {block[4 * t + 1]} << 16
            | std::uint32_t {block[4 * t + 2]} << 8 | std::uint32_t {block[4 * t + 3]};
    for (std::size_t t = 16; t < 80; ++t)
        w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (std::size_t t = 0; t < 80; ++t) {
        std::uint32_t f = 0, k = 0;
        if (t < 20) {
            f = (b & c) | (~b & d), k = 0x5A827999;
        } else if (t < 40) {
            f = b ^ c ^ d, k = 0x6ED9EBA1;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d, k = 0xCA62C1D6;
        }
        const std::uint32_t temp = rotl(a, 5) + f + e + k + w[t];
        e = d, d = c, c = rotl(b, 30), b = a, a = temp;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

}  // namespace

Sha1Digest sha1(std::string_view data)
{
    // FIPS 180-4 §5.3.1: the initial hash value.
    std::array<std::uint32_t, 5> h {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
    const std::size_t full = data.size() / k_block;
    for (std::size_t i = 0; i < full; ++i)
        compress(h, bytes + i * k_block);
    // §5.1.1: the rest, a 1 bit, zeros, and the length in bits (64-bit
    // big-endian) at the end of one or two final blocks.
    std::array<std::uint8_t, 2 * k_block> tail {};
    const std::size_t rest = data.size() % k_block;
    std::copy_n(bytes + full * k_block, rest, tail.begin());
    tail[rest] = 0x80;
    const std::size_t tail_size = rest < k_block - 8 ? k_block : 2 * k_block;
    const std::uint64_t bits = std::uint64_t {data.size()} * 8;
    for (std::size_t i = 0; i < 8; ++i)
        tail[tail_size - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
    for (std::size_t off = 0; off < tail_size; off += k_block)
        compress(h, tail.data() + off);
    Sha1Digest out {};
    for (std::size_t i = 0; i < 20; ++i)
        out[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
    return out;
}

std::array<char, 40> sha1_hex(std::string_view data, bool upper)
{
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    const Sha1Digest d = sha1(data);
    std::array<char, 40> out {};
    for (std::size_t i = 0; i < d.size(); ++i) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 0xF];
    }
    return out;
}

bool is_sha1_hex(std::string_view s)
{
    return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

}  // namespace bosun::bosh
