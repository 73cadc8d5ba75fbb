#include "xmpp/channel_binding.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <memory>
#include <optional>
#include <string>

// A TLS client and server in memory (a BIO pair, no socket), so the binding
// data of the client side can be checked against what the server computes.

namespace bosun::xmpp {
namespace {

struct Free {
    void operator()(SSL* p) const { SSL_free(p); }
    void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
    void operator()(X509* p) const { X509_free(p); }
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
template <class T> using Ptr = std::unique_ptr<T, Free>;

struct Credentials {
    Ptr<EVP_PKEY> key;
    Ptr<X509> cert;
};

// A self-signed certificate for a new key, signed with `md`.
Credentials make_credentials(const char* key_type, const EVP_MD* md)
{
    Credentials c;
    c.key.reset(std::string(key_type) == "EC" ? EVP_EC_gen("P-256")
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, key_type));
    c.cert.reset(X509_new());
    X509* cert = c.cert.get();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, c.key.get());
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, c.key.get(), md);
    return c;
}

std::string digest(X509* cert, const EVP_MD* md)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out;
    unsigned int len = 0;
    X509_digest(cert, md, out.data(), &len);
    return std::string(reinterpret_cast<const char*>(out.data()), len);
}

class TlsPair {
public:
    TlsPair(int version, const Credentials& creds)
    {
        client_ctx_.reset(SSL_CTX_new(TLS_client_method()));
        server_ctx_.reset(SSL_CTX_new(TLS_server_method()));
        for (SSL_CTX* ctx : {client_ctx_.get(), server_ctx_.get()}) {
            SSL_CTX_set_min_proto_version(ctx, version);
            SSL_CTX_set_max_proto_version(ctx, version);
        }
        SSL_CTX_use_certificate(server_ctx_.get(), creds.cert.get());
        SSL_CTX_use_PrivateKey(server_ctx_.get(), creds.key.get());
        client.reset(SSL_new(client_ctx_.get()));
        server.reset(SSL_new(server_ctx_.get()));
        BIO* client_bio = nullptr;
        BIO* server_bio = nullptr;
        BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
        SSL_set_bio(client.get(), client_bio, client_bio);
        SSL_set_bio(server.get(), server_bio, server_bio);
        SSL_set_connect_state(client.get());
        SSL_set_accept_state(server.get());
    }

    bool handshake()
    {
        for (int i = 0; i < 100; ++i) {
            int c = SSL_do_handshake(client.get());
            int s = SSL_do_handshake(server.get());
            if (c == 1 && s == 1)
                return true;
        }
        return false;
    }

    Ptr<SSL> client;
    Ptr<SSL> server;

private:
    Ptr<SSL_CTX> client_ctx_;
    Ptr<SSL_CTX> server_ctx_;
};

TEST(ChannelBinding, rfc9266_tls_exporter_matches_the_server_under_tls13)
{
    auto creds = make_credentials("EC", EVP_sha256());
    TlsPair tls(TLS1_3_VERSION, creds);
    EXPECT_FALSE(channel_binding_data(tls.client.get(), "tls-exporter"));  // before the handshake
    ASSERT_TRUE(tls.handshake());
    auto data = channel_binding_data(tls.client.get(), "tls-exporter");
    ASSERT_TRUE(data);
    ASSERT_EQ(data->size(), 32u);
    std::array<unsigned char, 32> expected;
    const std::string label = "EXPORTER-Channel-Binding";
    ASSERT_EQ(SSL_export_keying_material(tls.server.get(), expected.data(), expected.size(),
                  label.data(), label.size(), nullptr, 0, 0),
        1);
    EXPECT_EQ(*data, std::string(reinterpret_cast<const char*>(expected.data()), expected.size()));
    // RFC 5929 tls-unique is not defined for TLS 1.3 (RFC 8446 §C.5).
    EXPECT_FALSE(channel_binding_data(tls.client.get(), "tls-unique"));
}

TEST(ChannelBinding, rfc5929_section3_tls_unique_is_the_client_finished_under_tls12)
{
    auto creds = make_credentials("EC", EVP_sha256());
    TlsPair tls(TLS1_2_VERSION, creds);
    ASSERT_TRUE(tls.handshake());
    auto data = channel_binding_data(tls.client.get(), "tls-unique");
    ASSERT_TRUE(data);
    std::array<unsigned char, 64> expected;
    std::size_t len = SSL_get_peer_finished(tls.server.get(), expected.data(), expected.size());
    EXPECT_EQ(len, 12u);
    EXPECT_EQ(*data, std::string(reinterpret_cast<const char*>(expected.data()), len));
    // RFC 9266: tls-exporter is only used under TLS 1.3 here.
    EXPECT_FALSE(channel_binding_data(tls.client.get(), "tls-exporter"));
}

TEST(ChannelBinding, rfc5929_section4_1_server_end_point_uses_the_signature_hash)
{
    auto creds = make_credentials("EC", EVP_sha384());
    TlsPair tls(TLS1_3_VERSION, creds);
    ASSERT_TRUE(tls.handshake());
    auto data = channel_binding_data(tls.client.get(), "tls-server-end-point");
    ASSERT_TRUE(data);
    EXPECT_EQ(*data, digest(creds.cert.get(), EVP_sha384()));
}

TEST(ChannelBinding, rfc5929_section4_1_server_end_point_sha1_becomes_sha256)
{
    auto creds = make_credentials("EC", EVP_sha1());
    TlsPair tls(TLS1_3_VERSION, creds);
    ASSERT_TRUE(tls.handshake());  // self-signed: its signature is not checked
    auto data = channel_binding_data(tls.client.get(), "tls-server-end-point");
    ASSERT_TRUE(data);
    EXPECT_EQ(*data, digest(creds.cert.get(), EVP_sha256()));
}

TEST(ChannelBinding, unknown_type_or_no_connection_gives_nothing)
{
    auto creds = make_credentials("EC", EVP_sha256());
    TlsPair tls(TLS1_3_VERSION, creds);
    ASSERT_TRUE(tls.handshake());
    EXPECT_FALSE(channel_binding_data(tls.client.get(), "tls-bogus"));
    EXPECT_FALSE(channel_binding_data(nullptr, "tls-exporter"));
}

}  // namespace
}  // namespace bosun::xmpp
