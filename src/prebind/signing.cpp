#include "prebind/signing.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>

#include <fmt/format.h>

#include "auth/digest.hpp"
#include "prebind/api_key.hpp"

namespace bosun::prebind {
namespace {

constexpr std::size_t max_timestamp_digits = 12;
constexpr std::size_t mac_hex_chars = 64;

constexpr std::array<std::string_view, 7> error_names {"missing_header", "malformed", "unknown_key",
    "stale", "bad_signature", "replayed", "cache_full"};

bool is_nonce_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
        || c == '_';
}

bool is_lower_hex(std::string_view s)
{
    return std::all_of(s.begin(), s.end(),
        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<std::int64_t> parse_timestamp(std::string_view text)
{
    if (text.empty() || text.size() > max_timestamp_digits)
        return std::nullopt;
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc {} || end != text.data() + text.size() || text[0] == '-')
        return std::nullopt;
    return value;
}

bool well_formed(const SignedRequest& r)
{
    const bool nonce_ok = r.nonce.size() >= signature_min_nonce_chars
        && r.nonce.size() <= signature_max_nonce_chars
        && std::all_of(r.nonce.begin(), r.nonce.end(), is_nonce_char);
    const auto mac = r.signature.substr(std::min(r.signature.size(), signature_version.size()));
    const bool mac_ok = r.signature.starts_with(signature_version) && mac.size() == mac_hex_chars
        && is_lower_hex(mac);
    return nonce_ok && mac_ok && parse_timestamp(r.timestamp).has_value();
}

}  // namespace

std::string_view to_string(SignatureError error)
{
    const auto i = static_cast<std::size_t>(error);
    return i < error_names.size() ? error_names[i] : "unknown";
}

std::string string_to_sign(std::string_view method, std::string_view target,
    std::string_view timestamp, std::string_view nonce, std::string_view body)
{
    return fmt::format(
        "{}\n{}\n{}\n{}\n{}", method, target, timestamp, nonce, auth::sha256_hex(body));
}

std::string sign_request(std::string_view secret, std::string_view method, std::string_view target,
    std::string_view timestamp, std::string_view nonce, std::string_view body)
{
    const std::string input = string_to_sign(method, target, timestamp, nonce, body);
    return fmt::format("{}{}", signature_version, auth::hmac_sha256_hex(secret, input));
}

Expected<std::string, std::string> read_signing_secret(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return unexpected(fmt::format("cannot read signing secret file {}", path));
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r'))
        bytes.pop_back();
    if (bytes.size() < min_signing_secret_bytes) {
        cleanse(bytes);
        return unexpected(fmt::format(
            "signing secret file {} holds fewer than {} bytes", path, min_signing_secret_bytes));
    }
    return bytes;
}

SignatureVerifier::SignatureVerifier(std::size_t max_nonces)
    : nonces_(max_nonces, std::chrono::seconds {0})
{
}

Expected<void, SignatureError> SignatureVerifier::verify(std::string_view client,
    const std::vector<SigningSecret>& keys, const SignedRequest& request, auth::UnixTime now)
{
    if (request.key_id.empty() || request.timestamp.empty() || request.nonce.empty()
        || request.signature.empty())
        return unexpected(SignatureError::missing_header);
    if (!well_formed(request))
        return unexpected(SignatureError::malformed);
    const auto ts = *parse_timestamp(request.timestamp);
    const auto skew = ts - now.time_since_epoch().count();
    if (skew > signature_max_skew.count() || -skew > signature_max_skew.count())
        return unexpected(SignatureError::stale);
    const auto key = std::find_if(
        keys.begin(), keys.end(), [&](const SigningSecret& k) { return k.id == request.key_id; });
    if (key == keys.end())
        return unexpected(SignatureError::unknown_key);
    std::string want = sign_request(key->secret, request.method, request.target, request.timestamp,
        request.nonce, request.body);
    const bool match = want.size() == request.signature.size()
        && CRYPTO_memcmp(want.data(), request.signature.data(), want.size()) == 0;
    cleanse(want);
    if (!match)
        return unexpected(SignatureError::bad_signature);
    // Last: only an authentic request takes a cache entry. A nonce outlives
    // the whole window in which its timestamp is accepted (2 x 300 s; the
    // cache forgets at the deadline itself, hence the extra second).
    const std::string entry = fmt::format("{}\n{}", client, request.nonce);
    const auto deadline = now + signature_nonce_lifetime + std::chrono::seconds {1};
    switch (nonces_.remember(entry, deadline, now)) {
    case auth::JtiCache::Outcome::stored:
        return {};
    case auth::JtiCache::Outcome::replayed:
        return unexpected(SignatureError::replayed);
    case auth::JtiCache::Outcome::full:
        break;
    }
    return unexpected(SignatureError::cache_full);
}

}  // namespace bosun::prebind
