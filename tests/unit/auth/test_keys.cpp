#include "test_keys.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>

namespace bosun::auth::test {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string drain(BIO* bio)
{
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

PkeyPtr keygen(std::string_view type, unsigned bits, const char* curve)
{
    EVP_PKEY* pkey = nullptr;
    if (type == "RSA") {
        pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
    } else if (type == "EC") {
        pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
    } else {
        pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, std::string(type).c_str());
    }
    if (pkey == nullptr) {
        throw std::runtime_error("key generation failed");
    }
    return PkeyPtr(pkey);
}

PkeyPtr read_private(const std::string& pem)
{
    BioPtr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return PkeyPtr(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
}

}  // namespace

PemPair generate(std::string_view type, unsigned bits, const char* curve)
{
    PkeyPtr pkey = keygen(type, bits, curve);
    BioPtr pub(BIO_new(BIO_s_mem()));
    BioPtr priv(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PUBKEY(pub.get(), pkey.get()) != 1
        || PEM_write_bio_PrivateKey(priv.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr)
            != 1) {
        throw std::runtime_error("PEM export failed");
    }
    return {drain(pub.get()), drain(priv.get())};
}

const PemPair& rsa2048()
{
    static const PemPair pair = generate("RSA", 2048);
    return pair;
}

const PemPair& p256()
{
    static const PemPair pair = generate("EC", 0, "P-256");
    return pair;
}

const PemPair& ed25519()
{
    static const PemPair pair = generate("ED25519");
    return pair;
}

std::string encrypted_private_pem(const PemPair& pair, std::string_view passphrase)
{
    PkeyPtr pkey = read_private(pair.private_pem);
    BioPtr out(BIO_new(BIO_s_mem()));
    std::string pass(passphrase);
    if (!pkey
        || PEM_write_bio_PrivateKey(out.get(), pkey.get(), EVP_aes_256_cbc(),
               reinterpret_cast<const unsigned char*>(pass.data()), static_cast<int>(pass.size()),
               nullptr, nullptr)
            != 1) {
        throw std::runtime_error("encrypted PEM export failed");
    }
    return drain(out.get());
}

std::string pem_wrap(std::string_view der, std::string_view label)
{
    std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
        reinterpret_cast<const unsigned char*>(der.data()), static_cast<int>(der.size()));
    b64.resize(static_cast<std::size_t>(n));
    std::string pem = "-----BEGIN " + std::string(label) + "-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) {
        pem += b64.substr(i, 64) + "\n";
    }
    return pem + "-----END " + std::string(label) + "-----\n";
}

std::string from_hex(std::string_view hex)
{
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

}  // namespace bosun::auth::test
