#include "auth/signature.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>

namespace bosun::auth {
namespace {

// RFC 7518 §3.4: each of R and S is 32 octets for P-256.
constexpr std::size_t es256_half = 32;
constexpr std::size_t hs256_bytes = 32;

struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct EcdsaSigFree {
    void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

const unsigned char* bytes(std::string_view s)
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

// Defence in depth: even a hand-built VerifyKey cannot pair an algorithm with
// the wrong kind of material (an empty HMAC key, an RSA key for ES256).
bool material_fits(Alg alg, const KeyMaterial& key)
{
    EVP_PKEY* pkey = key.pkey();
    switch (alg) {
    case Alg::HS256:
        return pkey == nullptr && key.secret().size() >= min_hmac_key_bytes;
    case Alg::RS256:
        return pkey != nullptr && EVP_PKEY_is_a(pkey, "RSA");
    case Alg::ES256:
        return pkey != nullptr && EVP_PKEY_is_a(pkey, "EC");
    case Alg::EdDSA:
        return pkey != nullptr && EVP_PKEY_is_a(pkey, "ED25519");
    }
    return false;
}

std::optional<std::array<unsigned char, hs256_bytes>> hmac_sha256(
    const KeyMaterial& key, std::string_view input)
{
    std::array<unsigned char, hs256_bytes> mac {};
    unsigned int len = 0;
    auto secret = key.secret();
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), bytes(input),
            input.size(), mac.data(), &len)
            == nullptr
        || len != mac.size()) {
        ERR_clear_error();
        return std::nullopt;
    }
    return mac;
}

// RFC 7518 §3.4: the JWS form is R||S; OpenSSL verifies DER.
std::optional<std::string> jose_to_der(std::string_view sig)
{
    if (sig.size() != 2 * es256_half) {
        return std::nullopt;
    }
    EcdsaSigPtr ecdsa(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(bytes(sig), es256_half, nullptr);
    BIGNUM* s = BN_bin2bn(bytes(sig) + es256_half, es256_half, nullptr);
    if (!ecdsa || r == nullptr || s == nullptr || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    int len = i2d_ECDSA_SIG(ecdsa.get(), nullptr);
    if (len <= 0) {
        return std::nullopt;
    }
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(ecdsa.get(), &out) != len) {
        return std::nullopt;
    }
    return der;
}

std::optional<std::string> der_to_jose(std::string_view der)
{
    const unsigned char* in = bytes(der);
    EcdsaSigPtr ecdsa(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
    if (!ecdsa) {
        return std::nullopt;
    }
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(ecdsa.get(), &r, &s);
    std::string out(2 * es256_half, '\0');
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    if (BN_bn2binpad(r, p, es256_half) < 0 || BN_bn2binpad(s, p + es256_half, es256_half) < 0) {
        return std::nullopt;
    }
    return out;
}

// SHA-256 for RS256 and ES256; Ed25519 hashes internally (no digest).
MdCtxPtr digest_context(Alg alg, EVP_PKEY* pkey, bool for_signing)
{
    MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    const EVP_MD* md = alg == Alg::EdDSA ? nullptr : EVP_sha256();
    int rc = !ctx     ? 0
        : for_signing ? EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey)
                      : EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey);
    if (rc == 1 && alg == Alg::RS256) {
        // RFC 7518 §3.3: RS256 is PKCS#1 v1.5 padding, never PSS.
        rc = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
    }
    if (rc != 1) {
        ERR_clear_error();
        return nullptr;
    }
    return ctx;
}

bool verify_with_pkey(Alg alg, EVP_PKEY* pkey, std::string_view input, std::string_view sig)
{
    std::optional<std::string> der;
    if (alg == Alg::ES256) {
        der = jose_to_der(sig);
        if (!der) {
            return false;
        }
        sig = *der;
    }
    MdCtxPtr ctx = digest_context(alg, pkey, false);
    if (!ctx) {
        return false;
    }
    int rc = EVP_DigestVerify(ctx.get(), bytes(sig), sig.size(), bytes(input), input.size());
    ERR_clear_error();
    return rc == 1;
}

std::optional<std::string> sign_with_pkey(Alg alg, EVP_PKEY* pkey, std::string_view input)
{
    MdCtxPtr ctx = digest_context(alg, pkey, true);
    std::size_t len = 0;
    if (!ctx || EVP_DigestSign(ctx.get(), nullptr, &len, bytes(input), input.size()) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    std::string sig(len, '\0');
    auto* out = reinterpret_cast<unsigned char*>(sig.data());
    if (EVP_DigestSign(ctx.get(), out, &len, bytes(input), input.size()) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    sig.resize(len);
    return alg == Alg::ES256 ? der_to_jose(sig) : std::optional<std::string>(std::move(sig));
}

}  // namespace

bool verify_signature(
    Alg alg, const KeyMaterial& key, std::string_view signing_input, std::string_view signature)
{
    if (!material_fits(alg, key)) {
        return false;
    }
    if (alg != Alg::HS256) {
        return verify_with_pkey(alg, key.pkey(), signing_input, signature);
    }
    if (signature.size() != hs256_bytes) {
        return false;
    }
    auto mac = hmac_sha256(key, signing_input);
    if (!mac) {
        return false;
    }
    // Constant time, so the comparison leaks nothing about the expected MAC.
    bool equal = CRYPTO_memcmp(mac->data(), signature.data(), mac->size()) == 0;
    OPENSSL_cleanse(mac->data(), mac->size());
    return equal;
}

std::optional<std::string> sign_bytes(
    Alg alg, const KeyMaterial& key, std::string_view signing_input)
{
    if (!material_fits(alg, key)) {
        return std::nullopt;
    }
    if (alg != Alg::HS256) {
        return sign_with_pkey(alg, key.pkey(), signing_input);
    }
    auto mac = hmac_sha256(key, signing_input);
    if (!mac) {
        return std::nullopt;
    }
    std::string sig(reinterpret_cast<const char*>(mac->data()), mac->size());
    OPENSSL_cleanse(mac->data(), mac->size());
    return sig;
}

}  // namespace bosun::auth
