// HMAC request signing (src/prebind/signing.hpp, docs/prebind.md "Request
// signing", reference/prebind-and-auth.md §6.2 item 3).
#include "prebind/signing.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace bosun::prebind {
namespace {

using namespace std::chrono_literals;

const std::string secret = "0123456789abcdef0123456789abcdef-signing";
const std::string nonce = "6f1c2a9b0d4e4f7a8c3b5d2e1f0a9b8c";
const std::string body = R"({"auth":{"method":"anonymous","jid":"example.org"}})";
const auth::UnixTime t0 {std::chrono::seconds {1'767'225'600}};

struct Signed {
    std::string method = "POST";
    std::string target = "/v1/prebind";
    std::string body_text = body;
    std::string key_id = "k1";
    std::string timestamp = std::to_string(t0.time_since_epoch().count());
    std::string nonce_text = nonce;
    std::string signature;

    Signed() { sign(); }
    void sign()
    {
        signature = sign_request(secret, method, target, timestamp, nonce_text, body_text);
    }
    SignedRequest view() const
    {
        return {method, target, body_text, key_id, timestamp, nonce_text, signature};
    }
};

class Signing : public ::testing::Test {
protected:
    Expected<void, SignatureError> verify(const Signed& s, auth::UnixTime now = t0)
    {
        return verifier.verify("app", keys, s.view(), now);
    }
    void expect_refused(const Signed& s, SignatureError why, auth::UnixTime now = t0)
    {
        const auto r = verify(s, now);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), why) << to_string(r.error());
    }

    std::vector<SigningSecret> keys {{"k0", std::string(40, 'x')}, {"k1", secret}};
    SignatureVerifier verifier {100};
};

// The documented string-to-sign and MAC, computed independently here.
TEST_F(Signing, signature_is_hmac_sha256_of_the_documented_string)
{
    const std::string body_hash
        = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";  // SHA-256("")
    EXPECT_EQ(string_to_sign("DELETE", "/v1/sessions/abc", "1767225600", nonce, ""),
        "DELETE\n/v1/sessions/abc\n1767225600\n" + nonce + "\n" + body_hash);
    const std::string input = string_to_sign("POST", "/v1/prebind", "1", nonce, body);
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac {};
    unsigned len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
        reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &len);
    std::string hex;
    for (unsigned i = 0; i < len; ++i)
        hex += fmt::format("{:02x}", mac[i]);
    EXPECT_EQ(sign_request(secret, "POST", "/v1/prebind", "1", nonce, body), "v1=" + hex);
}

TEST_F(Signing, good_signature_passes)
{
    EXPECT_TRUE(verify(Signed {}));
    EXPECT_EQ(verifier.nonce_count(), 1u);
}

TEST_F(Signing, a_second_key_of_the_client_is_found_by_id)
{
    Signed s;
    s.key_id = "k0";
    s.signature = sign_request(keys[0].secret, s.method, s.target, s.timestamp, s.nonce_text, body);
    EXPECT_TRUE(verify(s));
}

TEST_F(Signing, wrong_body_is_refused)
{
    Signed s;
    s.body_text = R"({"auth":{"method":"anonymous","jid":"evil.example"}})";
    expect_refused(s, SignatureError::bad_signature);
    EXPECT_EQ(verifier.nonce_count(), 0u);  // a forged request spends no nonce
}

TEST_F(Signing, wrong_method_or_path_is_refused)
{
    Signed s;
    s.method = "DELETE";
    expect_refused(s, SignatureError::bad_signature);
    s = Signed {};
    s.target = "/v1/tickets";
    expect_refused(s, SignatureError::bad_signature);
    s = Signed {};
    s.target = "/v1/prebind?x=1";
    expect_refused(s, SignatureError::bad_signature);
}

TEST_F(Signing, wrong_secret_or_unknown_key_is_refused)
{
    Signed s;
    s.signature = sign_request(std::string(40, 'y'), s.method, s.target, s.timestamp, nonce, body);
    expect_refused(s, SignatureError::bad_signature);
    s = Signed {};
    s.key_id = "k9";
    expect_refused(s, SignatureError::unknown_key);
}

TEST_F(Signing, stale_timestamp_is_refused_both_ways)
{
    EXPECT_TRUE(verify(Signed {}, t0 + 300s));  // the edge is allowed
    Signed s;
    s.nonce_text = std::string(32, 'a');
    s.sign();
    expect_refused(s, SignatureError::stale, t0 + 301s);
    expect_refused(s, SignatureError::stale, t0 - 301s);
    EXPECT_TRUE(verify(s, t0 - 300s));
}

TEST_F(Signing, replayed_nonce_is_refused_while_its_timestamp_could_pass)
{
    const Signed s;
    EXPECT_TRUE(verify(s, t0 - 300s));
    expect_refused(s, SignatureError::replayed, t0);
    // The last second its timestamp is accepted, the nonce is still known.
    expect_refused(s, SignatureError::replayed, t0 + 300s);
    expect_refused(s, SignatureError::stale, t0 + 301s);
}

TEST_F(Signing, nonces_are_per_client)
{
    const Signed s;
    EXPECT_TRUE(verify(s));
    EXPECT_TRUE(verifier.verify("other-app", keys, s.view(), t0));
}

TEST_F(Signing, missing_headers_are_refused)
{
    for (int i = 0; i < 4; ++i) {
        Signed s;
        (i == 0 ? s.key_id : i == 1 ? s.timestamp : i == 2 ? s.nonce_text : s.signature).clear();
        expect_refused(s, SignatureError::missing_header);
    }
}

TEST_F(Signing, malformed_headers_are_refused)
{
    Signed s;
    s.nonce_text = "short-nonce";  // fewer than 128 bits
    s.sign();
    expect_refused(s, SignatureError::malformed);
    s = Signed {};
    s.nonce_text = std::string(31, 'a') + "!";
    s.sign();
    expect_refused(s, SignatureError::malformed);
    s = Signed {};
    s.timestamp = "1767225600.5";
    s.sign();
    expect_refused(s, SignatureError::malformed);
    s = Signed {};
    s.timestamp = "-1";
    s.sign();
    expect_refused(s, SignatureError::malformed);
    s = Signed {};
    s.signature = s.signature.substr(3);  // no "v1="
    expect_refused(s, SignatureError::malformed);
    s = Signed {};
    for (auto& c : s.signature)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    expect_refused(s, SignatureError::malformed);
}

TEST_F(Signing, full_nonce_cache_refuses_instead_of_forgetting)
{
    SignatureVerifier small {2};
    for (char c : {'a', 'b'}) {
        Signed s;
        s.nonce_text = std::string(32, c);
        s.sign();
        EXPECT_TRUE(small.verify("app", keys, s.view(), t0));
    }
    Signed s;
    s.nonce_text = std::string(32, 'c');
    s.sign();
    const auto r = small.verify("app", keys, s.view(), t0 + 10s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SignatureError::cache_full);
    // Once the first nonces have lived their 10 minutes, room is made.
    Signed late;
    late.nonce_text = std::string(32, 'c');
    late.timestamp = std::to_string((t0 + 602s).time_since_epoch().count());
    late.sign();
    EXPECT_TRUE(small.verify("app", keys, late.view(), t0 + 602s));
}

TEST(SigningSecret, short_or_missing_files_are_errors_that_do_not_echo_bytes)
{
    const auto missing = read_signing_secret("/nonexistent/bosun-signing.secret");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().find("/nonexistent/bosun-signing.secret"), std::string::npos);
}

}  // namespace
}  // namespace bosun::prebind
