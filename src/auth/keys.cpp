#include "auth/keys.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fmt/format.h>

#include <array>
#include <utility>
#include <vector>

namespace bosun::auth {

class Secret {
public:
    explicit Secret(std::string_view bytes)
        : bytes_(bytes.begin(), bytes.end())
    {
    }
    ~Secret() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;

    std::span<const unsigned char> bytes() const { return bytes_; }

private:
    std::vector<unsigned char> bytes_;
};

namespace {

constexpr std::array<std::pair<Alg, std::string_view>, 4> alg_names {{
    {Alg::HS256, "HS256"},
    {Alg::RS256, "RS256"},
    {Alg::ES256, "ES256"},
    {Alg::EdDSA, "EdDSA"},
}};

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// Never let OpenSSL prompt on a terminal for an encrypted key's passphrase.
int no_passphrase(char*, int, int, void*)
{
    return -1;
}

BioPtr memory_bio(std::string_view pem)
{
    return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

bool looks_like_pem(std::string_view bytes)
{
    return bytes.find("-----BEGIN") != std::string_view::npos;
}

bool is_p256(EVP_PKEY* pkey)
{
    std::array<char, 64> group {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group.data(), group.size(), &len) != 1) {
        return false;
    }
    std::string_view name(group.data(), len);
    return name == "prime256v1" || name == "P-256";
}

// RFC 8725 §3.1: the key decides the algorithm, never the token.
Expected<Alg, std::string> alg_for_pkey(EVP_PKEY* pkey)
{
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        int bits = EVP_PKEY_get_bits(pkey);
        if (bits < static_cast<int>(min_rsa_bits)) {
            return unexpected(
                fmt::format("RSA key has {} bits; RS256 needs at least {}", bits, min_rsa_bits));
        }
        return Alg::RS256;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        if (!is_p256(pkey)) {
            return unexpected(std::string("EC key is not on P-256; only ES256 is supported"));
        }
        return Alg::ES256;
    }
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        return Alg::EdDSA;
    }
    const char* name = EVP_PKEY_get0_type_name(pkey);
    return unexpected(
        fmt::format("unsupported key type {}; use RSA (RS256), EC P-256 (ES256) or Ed25519 (EdDSA)",
            name != nullptr ? name : "(unknown)"));
}

// Checks the key's type and strength and, when config names an algorithm,
// that it agrees; takes ownership of pkey.
Expected<std::pair<Alg, KeyMaterial>, std::string> adopt_checked(
    EVP_PKEY* pkey, std::optional<Alg> expected)
{
    KeyMaterial material = KeyMaterial::adopt_pkey(pkey);
    auto alg = alg_for_pkey(pkey);
    if (!alg) {
        return unexpected(alg.error());
    }
    if (expected && *expected != *alg) {
        return unexpected(fmt::format(
            "the key is for {} but {} was configured", to_wire(*alg), to_wire(*expected)));
    }
    return std::pair {*alg, std::move(material)};
}

std::optional<std::string> check_hmac_secret(std::string_view secret)
{
    if (looks_like_pem(secret)) {
        return "an HS256 secret must be random bytes, not a PEM key";
    }
    if (secret.size() < min_hmac_key_bytes) {
        return fmt::format("HS256 secret has {} bytes; at least {} (256 bits) are required",
            secret.size(), min_hmac_key_bytes);
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_wire(Alg alg)
{
    for (const auto& [a, name] : alg_names) {
        if (a == alg) {
            return name;
        }
    }
    return "?";
}

std::optional<Alg> alg_from_wire(std::string_view name)
{
    for (const auto& [a, n] : alg_names) {
        if (n == name) {
            return a;
        }
    }
    return std::nullopt;
}

KeyMaterial KeyMaterial::adopt_pkey(evp_pkey_st* pkey)
{
    KeyMaterial m;
    m.pkey_ = std::shared_ptr<evp_pkey_st>(pkey, [](EVP_PKEY* p) { EVP_PKEY_free(p); });
    return m;
}

KeyMaterial KeyMaterial::copy_secret(std::string_view bytes)
{
    KeyMaterial m;
    m.secret_ = std::make_shared<const Secret>(bytes);
    return m;
}

std::span<const unsigned char> KeyMaterial::secret() const
{
    if (!secret_) {
        return {};
    }
    return secret_->bytes();
}

Expected<VerifyKey, std::string> load_verify_key_pem(
    std::string issuer, std::string kid, std::string_view pem, std::optional<Alg> expected)
{
    BioPtr bio = memory_bio(pem);
    EVP_PKEY* pkey
        = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
    ERR_clear_error();  // leave no stale errors for the TLS code's queue checks
    if (pkey == nullptr) {
        if (pem.find("PRIVATE KEY") != std::string_view::npos) {
            return unexpected(
                std::string("a verification key must be a public key, not a private key "
                            "(extract it with: openssl pkey -pubout)"));
        }
        return unexpected(
            std::string("not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")"));
    }
    auto checked = adopt_checked(pkey, expected);
    if (!checked) {
        return unexpected(checked.error());
    }
    return VerifyKey {
        std::move(issuer), std::move(kid), checked->first, std::move(checked->second)};
}

Expected<VerifyKey, std::string> load_verify_key_hs256(
    std::string issuer, std::string kid, std::string_view secret)
{
    if (auto error = check_hmac_secret(secret)) {
        return unexpected(std::move(*error));
    }
    return VerifyKey {
        std::move(issuer), std::move(kid), Alg::HS256, KeyMaterial::copy_secret(secret)};
}

Expected<SigningKey, std::string> load_signing_key_pem(
    std::string_view pem, std::string kid, std::optional<Alg> expected)
{
    BioPtr bio = memory_bio(pem);
    EVP_PKEY* pkey
        = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
    ERR_clear_error();
    if (pkey == nullptr) {
        return unexpected(std::string(
            "not an unencrypted PEM private key (expected \"-----BEGIN PRIVATE KEY-----\")"));
    }
    auto checked = adopt_checked(pkey, expected);
    if (!checked) {
        return unexpected(checked.error());
    }
    return SigningKey {checked->first, std::move(kid), std::move(checked->second)};
}

Expected<SigningKey, std::string> load_signing_key_hs256(std::string_view secret, std::string kid)
{
    if (auto error = check_hmac_secret(secret)) {
        return unexpected(std::move(*error));
    }
    return SigningKey {Alg::HS256, std::move(kid), KeyMaterial::copy_secret(secret)};
}

Expected<void, std::string> KeySet::add(VerifyKey key)
{
    if (key.issuer.empty() || key.kid.empty()) {
        return unexpected(std::string("a verification key needs an issuer and a kid"));
    }
    auto& kids = by_issuer_[key.issuer];
    if (kids.contains(key.kid)) {
        return unexpected(
            fmt::format("issuer \"{}\" has two keys with kid \"{}\"", key.issuer, key.kid));
    }
    std::string kid = key.kid;
    kids.emplace(std::move(kid), std::move(key));
    ++size_;
    return {};
}

const VerifyKey* KeySet::find(std::string_view issuer, std::string_view kid) const
{
    auto i = by_issuer_.find(issuer);
    if (i == by_issuer_.end()) {
        return nullptr;
    }
    auto k = i->second.find(kid);
    return k == i->second.end() ? nullptr : &k->second;
}

bool KeySet::has_kid(std::string_view kid) const
{
    for (const auto& [issuer, kids] : by_issuer_) {
        if (kids.find(kid) != kids.end()) {
            return true;
        }
    }
    return false;
}

}  // namespace bosun::auth
