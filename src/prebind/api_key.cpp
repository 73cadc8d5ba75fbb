#include "prebind/api_key.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <cstdint>

#include "auth/base64url.hpp"
#include "common/random.hpp"

namespace bosun::prebind {
namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

constexpr std::string_view hash_prefix = "sha256:";

Digest sha256(std::string_view text)
{
    Digest out {};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
    return out;
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

// A stored "sha256:<hex>" as bytes; config validation guarantees the shape,
// a malformed entry decodes to nullopt and never matches.
std::optional<Digest> parse_hash(std::string_view stored)
{
    if (!stored.starts_with(hash_prefix) || stored.size() != hash_prefix.size() + 64)
        return std::nullopt;
    const auto hex = stored.substr(hash_prefix.size());
    Digest out {};
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return out;
}

}  // namespace

std::optional<std::string_view> key_client_id(std::string_view key)
{
    if (!key.starts_with(key_prefix))
        return std::nullopt;
    const auto rest = key.substr(key_prefix.size());
    const auto sep = rest.find('_');
    if (sep == 0 || sep == std::string_view::npos || sep + 1 == rest.size())
        return std::nullopt;
    return rest.substr(0, sep);
}

std::string key_hash(std::string_view key)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(hash_prefix);
    for (const unsigned char b : sha256(key)) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

bool key_matches(std::string_view key, std::span<const std::string> stored)
{
    const Digest presented = sha256(key);
    bool match = false;
    for (const auto& entry : stored) {
        const auto digest = parse_hash(entry);
        if (!digest)
            continue;
        match |= CRYPTO_memcmp(presented.data(), digest->data(), presented.size()) == 0;
    }
    return match;
}

std::string generate_key(std::string_view id)
{
    std::array<unsigned char, key_secret_bytes> secret {};
    random_bytes(secret.data(), secret.size());
    std::string key(key_prefix);
    key += id;
    key += '_';
    key += auth::base64url_encode({reinterpret_cast<const char*>(secret.data()), secret.size()});
    OPENSSL_cleanse(secret.data(), secret.size());
    return key;
}

std::optional<std::string_view> bearer_token(std::string_view authorization)
{
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() <= scheme.size())
        return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        const char c = authorization[i];
        const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        if (lower != scheme[i])
            return std::nullopt;
    }
    auto token = authorization.substr(scheme.size());
    while (!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ')
        token.remove_suffix(1);
    if (token.empty() || token.find(' ') != std::string_view::npos)
        return std::nullopt;
    return token;
}

void cleanse(std::string& secret)
{
    // The whole buffer, not just size(): a moved-from or shortened string
    // may still hold bytes beyond its end.
    OPENSSL_cleanse(secret.data(), secret.capacity());
    secret.clear();
}

void cleanse_bytes(void* data, std::size_t size)
{
    OPENSSL_cleanse(data, size);
}

}  // namespace bosun::prebind
