#include "auth/digest.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <array>

namespace bosun::auth {
namespace {

const unsigned char* as_uchar(std::string_view s)
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

std::string_view chars(const unsigned char* data, std::size_t n)
{
    return {reinterpret_cast<const char*>(data), n};
}

}  // namespace

std::string hex_lower(std::string_view bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * bytes.size());
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

std::string sha256_hex(std::string_view data)
{
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest {};
    SHA256(as_uchar(data), data.size(), digest.data());
    return hex_lower(chars(digest.data(), digest.size()));
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac {};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), as_uchar(data), data.size(),
        mac.data(), &len);
    return hex_lower(chars(mac.data(), len));
}

}  // namespace bosun::auth
