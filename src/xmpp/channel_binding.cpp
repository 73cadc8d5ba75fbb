#include "xmpp/channel_binding.hpp"

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <memory>

namespace bosun::xmpp {
namespace {

constexpr std::string_view exporter_label = "EXPORTER-Channel-Binding";
constexpr std::size_t exporter_bytes = 32;
// RFC 5929 §3.1: the Finished message is 12 bytes for TLS 1.2 suites;
// room for any verify_data length.
constexpr std::size_t max_finished_bytes = 64;

std::optional<std::string> tls_exporter(SSL* ssl)
{
    // RFC 9266 §3: defined for TLS 1.3 (TLS 1.2 would need EMS; not used).
    if (SSL_version(ssl) != TLS1_3_VERSION)
        return std::nullopt;
    std::array<unsigned char, exporter_bytes> out;
    if (SSL_export_keying_material(ssl, out.data(), out.size(), exporter_label.data(),
            exporter_label.size(), nullptr, 0, 0)
        != 1)
        return std::nullopt;
    return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
};

std::optional<std::string> tls_server_end_point(SSL* ssl)
{
    std::unique_ptr<X509, X509Free> cert {SSL_get1_peer_certificate(ssl)};
    if (!cert)
        return std::nullopt;
    int md_nid = NID_undef;
    if (X509_get_signature_info(cert.get(), &md_nid, nullptr, nullptr, nullptr) != 1)
        return std::nullopt;
    // RFC 5929 §4.1: MD5 and SHA-1 become SHA-256; a signature without a
    // separate hash (Ed25519) has no defined binding.
    if (md_nid == NID_md5 || md_nid == NID_sha1)
        md_nid = NID_sha256;
    const EVP_MD* md = md_nid == NID_undef ? nullptr : EVP_get_digestbynid(md_nid);
    if (md == nullptr)
        return std::nullopt;
    std::array<unsigned char, EVP_MAX_MD_SIZE> out;
    unsigned int len = 0;
    if (X509_digest(cert.get(), md, out.data(), &len) != 1)
        return std::nullopt;
    return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::optional<std::string> tls_unique(SSL* ssl)
{
    // Undefined for TLS 1.3 (RFC 8446 §C.5), unsafe without EMS (RFC 7627 §5.4).
    if (SSL_version(ssl) != TLS1_2_VERSION || SSL_get_extms_support(ssl) != 1)
        return std::nullopt;
    // The first Finished of the latest handshake: ours on a full handshake,
    // the server's on resumption.
    std::array<unsigned char, max_finished_bytes> out;
    std::size_t len = SSL_session_reused(ssl) ? SSL_get_peer_finished(ssl, out.data(), out.size())
                                              : SSL_get_finished(ssl, out.data(), out.size());
    if (len == 0 || len > out.size())
        return std::nullopt;
    return std::string(reinterpret_cast<const char*>(out.data()), len);
}

}  // namespace

std::optional<std::string> channel_binding_data(ssl_st* ssl, std::string_view type)
{
    if (ssl == nullptr || SSL_is_init_finished(ssl) != 1)
        return std::nullopt;
    if (type == "tls-exporter")
        return tls_exporter(ssl);
    if (type == "tls-server-end-point")
        return tls_server_end_point(ssl);
    if (type == "tls-unique")
        return tls_unique(ssl);
    return std::nullopt;
}

}  // namespace bosun::xmpp
