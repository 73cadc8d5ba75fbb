// prebind::Api: request signing (§6.2 item 3) and the per-(client, JID)
// rate limit (§6.8), driven with a fake runtime.
#include "prebind/api.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "fake_service.hpp"
#include "prebind/signing.hpp"

namespace bosun::prebind::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const std::string anonymous_body = R"({"auth":{"method":"anonymous","jid":"example.org"}})";
const std::string password_body
    = R"({"auth":{"method":"password","jid":"alice@example.org","password":"pw"}})";
const std::string signing_secret = "signing-secret-signing-secret-0123456789";

std::string write_secret(const std::string& name, const std::string& bytes)
{
    const auto path = std::filesystem::path(::testing::TempDir()) / name;
    std::ofstream(path, std::ios::binary) << bytes << "\n";
    return path.string();
}

class ApiSecurityTest : public ApiFixture {
protected:
    ApiSecurityTest() { rebuild(); }

    void require_signatures()
    {
        auto& app = config.prebind.clients[0];
        app.require_signature = true;
        app.signing_keys = {{"k1", write_secret("apisec-k1.secret", signing_secret)}};
        rebuild();
    }

    static ApiRequest sign(ApiRequest r, std::string nonce, std::int64_t ts = wall_now)
    {
        const auto stamp = std::to_string(ts);
        r.headers.emplace_back("X-Bosun-Key-Id", "k1");
        r.headers.emplace_back("X-Bosun-Timestamp", stamp);
        r.headers.emplace_back("X-Bosun-Nonce", nonce);
        r.headers.emplace_back("X-Bosun-Signature",
            sign_request(signing_secret, r.method, r.target, stamp, nonce, r.body));
        return r;
    }
};

const std::string nonce_a(32, 'a');
const std::string nonce_b(32, 'b');

TEST_F(ApiSecurityTest, signed_request_passes_when_signatures_are_required)
{
    require_signatures();
    const auto r = send(sign(post(anonymous_body), nonce_a));
    EXPECT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(service.logins.size(), 1u);
}

TEST_F(ApiSecurityTest, unsigned_request_is_401_when_signatures_are_required)
{
    require_signatures();
    const auto r = send(post(anonymous_body));
    EXPECT_EQ(r.status, 401u);
    EXPECT_EQ(error_of(r), "unauthenticated");
    EXPECT_NE(r.body.find("missing_header"), std::string::npos) << r.body;
    EXPECT_FALSE(r.header("WWW-Authenticate").empty());
    EXPECT_TRUE(service.logins.empty());
}

TEST_F(ApiSecurityTest, replayed_or_tampered_signed_requests_are_401)
{
    require_signatures();
    const auto signed_request = sign(post(anonymous_body), nonce_a);
    EXPECT_EQ(send(signed_request).status, 201u);
    auto replay = send(signed_request);
    EXPECT_EQ(replay.status, 401u);
    EXPECT_NE(replay.body.find("replayed"), std::string::npos) << replay.body;
    auto tampered = sign(post(anonymous_body), nonce_b);
    tampered.body = R"({"auth":{"method":"anonymous","jid":"other.example"}})";
    const auto r = send(tampered);
    EXPECT_EQ(r.status, 401u);
    EXPECT_NE(r.body.find("bad_signature"), std::string::npos) << r.body;
    auto stale = send(sign(post(anonymous_body), nonce_b, wall_now - 301));
    EXPECT_NE(stale.body.find("stale"), std::string::npos) << stale.body;
    EXPECT_EQ(service.logins.size(), 1u);
}

TEST_F(ApiSecurityTest, signature_covers_delete_and_get_without_body)
{
    require_signatures();
    EXPECT_EQ(send(call("GET", "/v1/sessions/abc")).status, 401u);
    EXPECT_EQ(send(sign(call("GET", "/v1/sessions/abc"), nonce_a)).status, 404u);
}

TEST_F(ApiSecurityTest, the_api_key_is_still_required_on_a_signed_request)
{
    require_signatures();
    EXPECT_EQ(send(sign(post(anonymous_body, app_key + "x"), nonce_a)).status, 401u);
    EXPECT_EQ(send(sign(post(anonymous_body, ""), nonce_b)).status, 401u);
    EXPECT_TRUE(service.logins.empty());
}

TEST_F(ApiSecurityTest, signatures_are_checked_when_sent_even_if_not_required)
{
    auto& app = config.prebind.clients[0];
    app.signing_keys = {{"k1", write_secret("apisec-k1b.secret", signing_secret)}};
    rebuild();
    EXPECT_EQ(send(post(anonymous_body)).status, 201u);  // unsigned: fine
    EXPECT_EQ(send(sign(post(anonymous_body), nonce_a)).status, 201u);
    auto bad = sign(post(anonymous_body), nonce_b);
    bad.body += " ";
    EXPECT_EQ(send(bad).status, 401u);
}

TEST_F(ApiSecurityTest, unreadable_signing_secret_stops_startup_naming_the_file)
{
    config.prebind.clients[0].signing_keys = {{"k1", "/nonexistent/apisec.secret"}};
    try {
        rebuild();
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/apisec.secret"), std::string::npos);
    }
}

// ---- RFC 4013 SASLprep of usernames and passwords ------------------------

TEST_F(ApiSecurityTest, password_is_saslprepped_before_it_goes_upstream)
{
    // U+00A0 NO-BREAK SPACE becomes U+0020, U+00AD SOFT HYPHEN goes, U+2168 is NFKC'd.
    const auto r = send(post(
        R"({"auth":{"method":"password","jid":"alice@example.org","password":"a\u00a0b\u00adc\u2168"}})"));
    ASSERT_EQ(r.status, 201u) << r.body;
    ASSERT_EQ(service.logins.size(), 1u);
    EXPECT_EQ(service.logins[0].secret, "a bcIX");
    EXPECT_EQ(service.logins[0].username, "alice");
}

TEST_F(ApiSecurityTest, password_saslprep_prohibits_is_400_and_not_echoed)
{
    const auto r = send(post(
        R"({"auth":{"method":"password","jid":"alice@example.org","password":"secret\u0007bell"}})"));
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(error_of(r), "invalid_request");
    EXPECT_NE(r.body.find("SASLprep"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("password"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("bell"), std::string::npos) << r.body;
    EXPECT_TRUE(service.logins.empty());
    const auto token = send(
        post(R"({"auth":{"method":"token","jid":"alice@example.org","token":"\u0627\u0031"}})"));
    EXPECT_EQ(token.status, 400u);
    EXPECT_NE(token.body.find("right-to-left"), std::string::npos) << token.body;
}

// ---- §6.8 per (client, bare JID): burst 5, then 12 a minute ----------------

TEST_F(ApiSecurityTest, per_jid_limit_is_429_after_the_burst_and_refills)
{
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(send(post(password_body)).status, 201u) << i;
    const auto r = send(post(password_body));
    EXPECT_EQ(r.status, 429u);
    EXPECT_EQ(error_of(r), "rate_limited");
    EXPECT_EQ(r.header("Retry-After"), "5");
    EXPECT_EQ(service.logins.size(), 5u);
    // Another user of the same client, and the same user's case variant.
    EXPECT_EQ(send(post(R"({"auth":{"method":"password","jid":"bob@example.org","password":"p"}})"))
                  .status,
        201u);
    EXPECT_EQ(
        send(post(R"({"auth":{"method":"password","jid":"ALICE@example.org","password":"p"}})"))
            .status,
        429u);
    now += 5s;
    EXPECT_EQ(send(post(password_body)).status, 201u);
}

TEST_F(ApiSecurityTest, per_jid_limit_is_configurable_per_client)
{
    config.prebind.clients[0].jid_burst = 1;
    config.prebind.clients[0].jid_per_minute = 1;
    rebuild();
    EXPECT_EQ(send(post(password_body)).status, 201u);
    const auto r = send(post(password_body));
    EXPECT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("Retry-After"), "60");
}

}  // namespace
}  // namespace bosun::prebind::test
