#pragma once
// Test keys made at run time with the OpenSSL C API, so the repository holds
// no key files. The expensive ones are made once per process.

#include <string>
#include <string_view>

namespace bosun::auth::test {

struct PemPair {
    std::string public_pem;
    std::string private_pem;
};

/// type: "RSA" (bits used), "EC" (curve used, e.g. "P-256"), "ED25519", "ED448".
PemPair generate(std::string_view type, unsigned bits = 0, const char* curve = nullptr);

const PemPair& rsa2048();
const PemPair& p256();
const PemPair& ed25519();

/// The private key PEM encrypted with a passphrase (AES-256-CBC).
std::string encrypted_private_pem(const PemPair& pair, std::string_view passphrase);

/// Wraps DER in a PEM block with the given label.
std::string pem_wrap(std::string_view der, std::string_view label);

std::string from_hex(std::string_view hex);

}  // namespace bosun::auth::test
