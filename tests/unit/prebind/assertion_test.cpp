// The `assertion` method and POST /v1/tickets through prebind::Api with the
// fake runtime (docs/prebind.md; reference/prebind-and-auth.md §6.3, §6.4;
// docs/auth.md for the JWT profile). Every refused assertion must leave the
// fake service untouched: no upstream connection for a bad token.
#include "prebind/api.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "../auth/test_keys.hpp"
#include "auth/base64url.hpp"
#include "auth/jwt.hpp"
#include "common/random.hpp"
#include "fake_service.hpp"
#include "prebind/ticket.hpp"

namespace bosun::prebind::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

std::string b64(std::string_view s)
{
    return auth::base64url_encode(s);
}

class AssertionTest : public ApiFixture {
protected:
    AssertionTest()
        : dir_(fs::temp_directory_path() / fmt::format("bosun-assertion-{:016x}", random_u64()))
    {
        fs::create_directories(dir_);
        AssertionIssuer web;
        web.id = "web";
        web.issuer = std::string(issuer_url);
        web.keys.push_back({"hs-1", "HS256", write_file(dir_, "hs.secret", hs_secret + "\n"), ""});
        web.keys.push_back(
            {"rs-1", "RS256", "", write_file(dir_, "rs.pub", auth::test::rsa2048().public_pem)});
        config.prebind.issuers = {web};
        config.prebind.clients[0].assertion_issuers = {"web"};
        config.prebind.clients[0].allowed_domains = {"example.org", "plain.example"};
        UpstreamConfig up;
        up.domain = "example.org";
        up.prebind_login = AssertionLogin::ticket;
        up.ticket_secret_file = write_file(dir_, "ticket.secret", ticket_secret + "\r\n");
        config.upstreams["example.org"] = up;
        UpstreamConfig plain;
        plain.domain = "plain.example";
        config.upstreams["plain.example"] = plain;
        hs_ = *auth::load_signing_key_hs256(hs_secret, "hs-1");
        rs_ = *auth::load_signing_key_pem(auth::test::rsa2048().private_pem, "rs-1");
        rebuild();
    }
    ~AssertionTest() override
    {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    // Valid claims; tests change one thing at a time.
    auth::MintClaims claims(std::string sub = "alice@example.org")
    {
        auth::MintClaims c {.exp = auth::UnixTime(std::chrono::seconds(wall_now + 60))};
        c.iat = auth::UnixTime(std::chrono::seconds(wall_now));
        c.aud = {"bosun:prebind"};
        c.strings = {{"iss", std::string(issuer_url)}, {"sub", std::move(sub)},
            {"jti", fmt::format("{:016x}", random_u64())}};
        return c;
    }
    std::string jwt(const auth::MintClaims& c) { return *auth::mint_jwt(c, hs_); }
    std::string jwt() { return jwt(claims()); }

    static std::string prebind_body(const std::string& token, std::string_view extra = "")
    {
        return fmt::format(
            R"({{"auth":{{"method":"assertion","assertion":"{}"{}}}}})", token, extra);
    }
    ApiResponse prebind(const std::string& token) { return send(post(prebind_body(token))); }
    ApiResponse tickets(const std::string& body, std::string key = app_key)
    {
        auto r = post(body, std::move(key));
        r.target = "/v1/tickets";
        return send(std::move(r));
    }

    void expect_refused(const ApiResponse& r, unsigned status, std::string_view error)
    {
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_EQ(r.header("Content-Type"), problem_content_type);
        EXPECT_EQ(body_of(r).at("error").as_string(), error) << r.body;
        EXPECT_TRUE(service.logins.empty()) << "no upstream login for a refused assertion";
    }

    fs::path dir_;
    auth::SigningKey hs_;
    auth::SigningKey rs_;
};

// ---- success ----------------------------------------------------------------

TEST_F(AssertionTest, assertion_prebind_logs_in_with_a_one_time_ticket_as_plain_secret)
{
    const std::string token = jwt();
    const auto r = prebind(token);
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(body_of(r).at("jid").as_string(), "alice@example.org/srv-1");
    ASSERT_EQ(service.logins.size(), 1u);
    const auto& login = service.logins[0];
    EXPECT_EQ(login.domain, "example.org");
    EXPECT_EQ(login.username, "alice");
    EXPECT_EQ(login.policy, runtime::SaslPolicy::plain_secret);
    EXPECT_NE(login.secret, token);  // the JWT never goes upstream
    // The ticket is genuine for alice@example.org and valid for 30 s (default).
    EXPECT_TRUE(check_ticket(ticket_secret, login.secret, "alice", "example.org", wall_now + 29));
    EXPECT_FALSE(check_ticket(ticket_secret, login.secret, "alice", "example.org", wall_now + 30));
    EXPECT_EQ(r.body.find(login.secret), std::string::npos);
    EXPECT_EQ(r.body.find(token), std::string::npos);
}

TEST_F(AssertionTest, tickets_carry_at_least_128_random_bits_and_differ_each_time)
{
    ASSERT_EQ(prebind(jwt()).status, 201u);
    ASSERT_EQ(prebind(jwt()).status, 201u);
    ASSERT_EQ(service.logins.size(), 2u);
    EXPECT_NE(service.logins[0].secret, service.logins[1].secret);
    const auto nonce
        = check_ticket(ticket_secret, service.logins[0].secret, "alice", "example.org", wall_now);
    ASSERT_TRUE(nonce);
    EXPECT_GE(auth::base64url_decode(*nonce)->size(), 16u);
}

TEST_F(AssertionTest, rsa_signed_assertion_is_accepted_under_its_kid)
{
    ASSERT_EQ(prebind(*auth::mint_jwt(claims(), rs_)).status, 201u);
}

TEST_F(AssertionTest, sub_localpart_is_lowercased_like_the_servers_nodeprep)
{
    ASSERT_EQ(prebind(jwt(claims("Alice@Example.ORG"))).status, 201u);
    EXPECT_EQ(service.logins.at(0).username, "alice");
    EXPECT_EQ(service.logins.at(0).domain, "example.org");
}

TEST_F(AssertionTest, auth_jid_may_repeat_the_sub)
{
    const auto r = send(post(prebind_body(jwt(), R"(,"jid":"alice@example.org")")));
    EXPECT_EQ(r.status, 201u) << r.body;
}

// ---- policy: 403 forbidden (§6.3) ------------------------------------------

TEST_F(AssertionTest, auth_jid_other_than_sub_is_403_forbidden)
{
    expect_refused(
        send(post(prebind_body(jwt(), R"(,"jid":"mallory@example.org")"))), 403, "forbidden");
}

TEST_F(AssertionTest, sub_in_a_domain_the_client_may_not_use_is_403)
{
    expect_refused(prebind(jwt(claims("alice@other.example"))), 403, "forbidden");
}

TEST_F(AssertionTest, domain_without_an_upstream_strategy_is_403)
{
    expect_refused(prebind(jwt(claims("alice@plain.example"))), 403, "forbidden");
}

TEST_F(AssertionTest, issuer_not_named_by_the_client_is_403_forbidden)
{
    config.prebind.clients[0].assertion_issuers.clear();
    rebuild();
    expect_refused(prebind(jwt()), 403, "forbidden");
}

TEST_F(AssertionTest, client_without_method_assertion_is_403)
{
    config.prebind.clients[0].allowed_methods = {"password"};
    rebuild();
    expect_refused(prebind(jwt()), 403, "forbidden");
}

TEST_F(AssertionTest, sub_that_is_not_a_bare_jid_is_refused)
{
    expect_refused(prebind(jwt(claims("example.org"))), 403, "invalid_credentials");
    expect_refused(prebind(jwt(claims("alice@example.org/res"))), 403, "invalid_credentials");
}

// ---- hostile tokens: refused before any upstream connection (docs/auth.md)

TEST_F(AssertionTest, alg_none_is_refused)
{
    const auto header = b64(R"({"alg":"none","kid":"hs-1","typ":"JWT"})");
    const auto payload = b64(fmt::format(
        R"({{"iss":"{}","sub":"alice@example.org","aud":"bosun:prebind","exp":{},"jti":"n1"}})",
        issuer_url, wall_now + 60));
    expect_refused(prebind(header + "." + payload + "."), 403, "invalid_credentials");
}

TEST_F(AssertionTest, hs256_signed_with_the_rsa_public_key_is_refused)
{
    // RFC 8725 §2.1 HS/RS confusion: the public PEM used as an HMAC secret.
    const auth::SigningKey confused {
        auth::Alg::HS256, "rs-1", auth::KeyMaterial::copy_secret(auth::test::rsa2048().public_pem)};
    expect_refused(prebind(*auth::mint_jwt(claims(), confused)), 403, "invalid_credentials");
}

TEST_F(AssertionTest, rs256_header_on_the_hmac_kid_is_refused)
{
    auto swapped = rs_;
    swapped.kid = "hs-1";
    expect_refused(prebind(*auth::mint_jwt(claims(), swapped)), 403, "invalid_credentials");
}

TEST_F(AssertionTest, expired_assertion_is_refused)
{
    auto c = claims();
    c.iat = auth::UnixTime(std::chrono::seconds(wall_now - 120));
    c.exp = auth::UnixTime(std::chrono::seconds(wall_now - 31));  // past the 30 s leeway
    expect_refused(prebind(jwt(c)), 403, "invalid_credentials");
}

TEST_F(AssertionTest, not_yet_valid_assertion_is_refused)
{
    auto c = claims();
    c.nbf = auth::UnixTime(std::chrono::seconds(wall_now + 45));
    expect_refused(prebind(jwt(c)), 403, "invalid_credentials");
}

TEST_F(AssertionTest, wrong_audience_is_refused)
{
    auto c = claims();
    c.aud = {"someone-else"};
    expect_refused(prebind(jwt(c)), 403, "invalid_credentials");
}

TEST_F(AssertionTest, unknown_issuer_is_refused)
{
    auto c = claims();
    c.strings["iss"] = "https://evil.example";
    expect_refused(prebind(jwt(c)), 403, "forbidden");
}

TEST_F(AssertionTest, unknown_kid_is_refused)
{
    auto key = hs_;
    key.kid = "hs-2";
    expect_refused(prebind(*auth::mint_jwt(claims(), key)), 403, "invalid_credentials");
}

TEST_F(AssertionTest, missing_kid_is_refused)
{
    auto key = hs_;
    key.kid.clear();
    expect_refused(prebind(*auth::mint_jwt(claims(), key)), 403, "invalid_credentials");
}

TEST_F(AssertionTest, replayed_jti_is_refused_and_logs_in_once)
{
    const std::string token = jwt();
    ASSERT_EQ(prebind(token).status, 201u);
    const auto again = prebind(token);
    EXPECT_EQ(again.status, 403u);
    EXPECT_EQ(body_of(again).at("error").as_string(), "invalid_credentials");
    EXPECT_NE(body_of(again).at("detail").as_string().find("replayed"), std::string::npos);
    EXPECT_EQ(service.logins.size(), 1u);
}

// docs/prebind.md "When the jti is spent": a request refused for policy or a
// limit does not spend the assertion; it works once the policy is fixed, and
// only once.
TEST_F(AssertionTest, jti_is_spent_only_after_the_client_policy_passed)
{
    const std::string token = jwt();
    // Refused by the client's policy (may_set_resource is off), then by the
    // sub check: neither spends the jti, so the corrected request logs in.
    expect_refused(
        send(post(fmt::format(
            R"({{"auth":{{"method":"assertion","assertion":"{}"}},"resource":"web-1"}})", token))),
        403, "forbidden");
    expect_refused(
        send(post(prebind_body(token, R"(,"jid":"mallory@example.org")"))), 403, "forbidden");
    EXPECT_EQ(prebind(token).status, 201u);
    const auto again = prebind(token);
    EXPECT_EQ(again.status, 403u);
    EXPECT_NE(body_of(again).at("detail").as_string().find("replayed"), std::string::npos);
}

TEST_F(AssertionTest, jti_refused_for_policy_can_be_retried_in_the_same_process)
{
    // The per-JID limit refuses the second request before its jti is spent.
    config.prebind.clients[0].jid_burst = 1;
    config.prebind.clients[0].jid_per_minute = 1;
    rebuild();
    ASSERT_EQ(prebind(jwt()).status, 201u);
    const std::string token = jwt();
    const auto limited = prebind(token);
    EXPECT_EQ(limited.status, 429u) << limited.body;
    now += 60s;
    EXPECT_EQ(prebind(token).status, 201u);  // not spent by the refused request
    now += 60s;
    const auto again = prebind(token);
    EXPECT_EQ(again.status, 403u);
    EXPECT_NE(body_of(again).at("detail").as_string().find("replayed"), std::string::npos)
        << again.body;
    EXPECT_EQ(service.logins.size(), 2u);
}

TEST_F(AssertionTest, tickets_spend_the_jti_once)
{
    const auto body = fmt::format(R"({{"assertion":"{}"}})", jwt());
    EXPECT_EQ(tickets(body).status, 201u);
    const auto again = tickets(body);
    EXPECT_EQ(again.status, 403u);
    EXPECT_NE(body_of(again).at("detail").as_string().find("replayed"), std::string::npos);
}

TEST_F(AssertionTest, oversized_token_is_refused)
{
    auto c = claims();
    c.strings["pad"] = std::string(9000, 'x');
    expect_refused(prebind(jwt(c)), 403, "invalid_credentials");
}

TEST_F(AssertionTest, bad_signature_is_refused)
{
    const auto other = *auth::load_signing_key_hs256(std::string(40, 'o'), "hs-1");
    expect_refused(prebind(*auth::mint_jwt(claims(), other)), 403, "invalid_credentials");
    std::string token = jwt();
    token.back() = token.back() == 'A' ? 'B' : 'A';
    expect_refused(prebind(token), 403, "invalid_credentials");
}

TEST_F(AssertionTest, lifetime_over_max_is_refused)
{
    auto c = claims();
    c.exp = auth::UnixTime(std::chrono::seconds(wall_now + 121));  // max_lifetime 120
    expect_refused(prebind(jwt(c)), 403, "invalid_credentials");
}

TEST_F(AssertionTest, garbage_is_refused_and_never_echoed)
{
    for (const std::string token : {"eyJ", "a.b.c", "not a jwt at all"}) {
        const auto r = prebind(token);
        expect_refused(r, 403, "invalid_credentials");
        EXPECT_EQ(r.body.find(token), std::string::npos);
    }
}

// ---- POST /v1/tickets ---------------------------------------------------------

TEST_F(AssertionTest, tickets_with_an_assertion_return_jid_and_one_time_password)
{
    const auto r = tickets(fmt::format(R"({{"assertion":"{}"}})", jwt()));
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
    const auto b = body_of(r);
    EXPECT_EQ(b.at("jid").as_string(), "alice@example.org");
    const std::string password(b.at("password").as_string());
    EXPECT_TRUE(check_ticket(ticket_secret, password, "alice", "example.org", wall_now));
    EXPECT_FALSE(check_ticket(ticket_secret, password, "bob", "example.org", wall_now));
    EXPECT_EQ(b.at("expires_at").as_string(), "2025-01-01T12:00:30Z");
    EXPECT_TRUE(service.logins.empty());  // no upstream login: the browser logs in itself
}

TEST_F(AssertionTest, tickets_by_jid_need_the_client_flag)
{
    expect_refused(tickets(R"({"jid":"bob@example.org"})"), 403, "forbidden");
    config.prebind.clients[0].tickets_by_jid = true;
    rebuild();
    const auto r = tickets(R"({"jid":"Bob@example.org"})");
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(body_of(r).at("jid").as_string(), "bob@example.org");
    expect_refused(tickets(R"({"jid":"bob@other.example"})"), 403, "forbidden");
}

TEST_F(AssertionTest, tickets_refuse_bad_assertions_and_bodies)
{
    auto c = claims();
    c.aud = {"nope"};
    expect_refused(
        tickets(fmt::format(R"({{"assertion":"{}"}})", jwt(c))), 403, "invalid_credentials");
    for (const char* body : {"{}", "[]", R"({"jid":"a@example.org","assertion":"x"})",
             R"({"jid":"example.org"})", R"({"password":"x"})", R"({"assertion":""})"})
        expect_refused(tickets(body), 400, "invalid_request");
    expect_refused(tickets(R"({"jid":"a@example.org"})", ""), 401, "unauthenticated");
    auto get = call("GET", "/v1/tickets");
    EXPECT_EQ(send(get).status, 405u);
}

// ---- startup --------------------------------------------------------------

TEST_F(AssertionTest, missing_key_file_or_short_ticket_secret_stops_startup)
{
    auto bad = config;
    bad.prebind.issuers[0].keys[0].secret_file = (dir_ / "absent").string();
    EXPECT_THROW(Api(bad, service), std::runtime_error);
    bad = config;
    bad.upstreams["example.org"].ticket_secret_file = write_file(dir_, "short", "short\n");
    EXPECT_THROW(Api(bad, service), std::runtime_error);
    bad = config;
    bad.prebind.issuers[0].keys[0].secret_file = write_file(dir_, "weak", "too-short");
    EXPECT_THROW(Api(bad, service), std::runtime_error);
}

TEST_F(AssertionTest, check_secret_files_reports_what_startup_would_refuse)
{
    EXPECT_TRUE(check_secret_files(config).empty());
    auto bad = config;
    bad.prebind.issuers[0].keys[0].secret_file = (dir_ / "absent").string();
    bad.prebind.issuers[0].keys[1].public_key_file
        = write_file(dir_, "priv.pem", auth::test::rsa2048().private_pem);  // not a public key
    bad.upstreams["example.org"].ticket_secret_file = write_file(dir_, "short", "short\n");
    const auto problems = check_secret_files(bad);
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_NE(problems[0].find("hs-1"), std::string::npos);
    EXPECT_NE(problems[1].find("rs-1"), std::string::npos);
    EXPECT_NE(problems[2].find("example.org"), std::string::npos);
    for (const auto& p : problems)
        EXPECT_EQ(p.find("PRIVATE KEY-----\n"), std::string::npos);  // no key bytes
}

// ---- the ticket format (mirrored by conf/prosody/mod_auth_bosun.lua) --------

TEST(Ticket, known_vector_matches_the_lua_module)
{
    // Same inputs as the comment in conf/prosody/mod_auth_bosun.lua.
    const auto t = sign_ticket(std::string(32, 'k'), "alice", "localhost", 1700000000, "nonce");
    // printf 'bt1\nalice\nlocalhost\n1700000000\nnonce' | openssl dgst -sha256 -hmac kkk...k
    EXPECT_EQ(t,
        "bt1.1700000000.nonce."
        "f2f46199184d3501ee78f43c9d53fd89621d3e9c0096effa3f1788ef0c3a9e9f");
    EXPECT_TRUE(check_ticket(std::string(32, 'k'), t, "alice", "localhost", 1699999999));
}

TEST(Ticket, check_refuses_other_user_domain_secret_expiry_and_tampering)
{
    const std::string secret(32, 's');
    const auto t = mint_ticket(secret, "alice", "example.org", 100);
    EXPECT_TRUE(check_ticket(secret, t, "alice", "example.org", 99));
    EXPECT_FALSE(check_ticket(secret, t, "bob", "example.org", 99));
    EXPECT_FALSE(check_ticket(secret, t, "alice", "example.com", 99));
    EXPECT_FALSE(check_ticket(std::string(32, 't'), t, "alice", "example.org", 99));
    EXPECT_FALSE(check_ticket(secret, t, "alice", "example.org", 100));
    auto tampered = t;
    tampered[4] = '2';  // exp 100 -> 200
    EXPECT_FALSE(check_ticket(secret, tampered, "alice", "example.org", 99));
    EXPECT_FALSE(check_ticket(secret, "bt1.100.x", "alice", "example.org", 99));
}

}  // namespace
}  // namespace bosun::prebind::test
