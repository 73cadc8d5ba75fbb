// Method `resume`, `issue_resume_token` and POST /v1/resume-tokens/revoke
// through prebind::Api with the fake runtime (docs/prebind.md "resume";
// reference/prebind-and-auth.md §6.3, §6.7). A resume logs in upstream by
// the domain's assertion strategy (here: a one-time ticket), so the fake
// service sees a ticket valid for the token's JID.
#include "prebind/api.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "auth/jwt.hpp"
#include "common/log.hpp"
#include "common/random.hpp"
#include "fake_service.hpp"
#include "prebind/ticket.hpp"

namespace bosun::prebind::test {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

class ResumeApiTest : public ApiFixture {
protected:
    ResumeApiTest()
        : dir_(fs::temp_directory_path() / fmt::format("bosun-resume-{:016x}", random_u64()))
    {
        fs::create_directories(dir_);
        wall_follows_now = true;
        AssertionIssuer web;
        web.id = "web";
        web.issuer = std::string(issuer_url);
        web.keys.push_back({"hs-1", "HS256", write_file(dir_, "hs.secret", hs_secret), ""});
        config.prebind.issuers = {web};
        auto& app = config.prebind.clients[0];
        app.assertion_issuers = {"web"};
        app.allowed_methods.push_back("resume");
        auto& other = config.prebind.clients[1];
        other.allowed_domains = {"example.org"};
        other.allowed_methods = {"resume"};
        UpstreamConfig up;
        up.domain = "example.org";
        up.prebind_login = AssertionLogin::ticket;
        up.ticket_secret_file = write_file(dir_, "ticket.secret", ticket_secret);
        config.upstreams["example.org"] = up;
        hs_ = *auth::load_signing_key_hs256(hs_secret, "hs-1");
        rebuild();
    }
    ~ResumeApiTest() override
    {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    std::string jwt(const std::string& sub = "alice@example.org")
    {
        const auto wall
            = wall_now + std::chrono::duration_cast<Seconds>(now - TimePoint {}).count();
        auth::MintClaims c {.exp = auth::UnixTime(std::chrono::seconds(wall + 60))};
        c.iat = auth::UnixTime(std::chrono::seconds(wall));
        c.aud = {"bosun:prebind"};
        c.strings = {{"iss", std::string(issuer_url)}, {"sub", sub},
            {"jti", fmt::format("{:016x}", random_u64())}};
        return *auth::mint_jwt(c, hs_);
    }
    // An assertion prebind that asks for a resume token; the token.
    std::string first_token(const std::string& sub = "alice@example.org")
    {
        const auto r = send(post(fmt::format(
            R"({{"auth":{{"method":"assertion","assertion":"{}"}},"issue_resume_token":true}})",
            jwt(sub))));
        EXPECT_EQ(r.status, 201u) << r.body;
        return r.status == 201 ? std::string(body_of(r).at("resume_token").as_string()) : "";
    }
    ApiResponse resume(const std::string& token, std::string key = app_key, std::string extra = "")
    {
        return send(post(
            fmt::format(R"({{"auth":{{"method":"resume","resume_token":"{}"{}}}}})", token, extra),
            std::move(key)));
    }
    ApiResponse revoke(const std::string& body, std::string key = app_key)
    {
        auto r = post(body, std::move(key));
        r.target = "/v1/resume-tokens/revoke";
        return send(std::move(r));
    }

    fs::path dir_;
    auth::SigningKey hs_;
};

TEST_F(ResumeApiTest, assertion_with_issue_resume_token_returns_a_token_and_its_expiry)
{
    const auto r = send(post(fmt::format(
        R"({{"auth":{{"method":"assertion","assertion":"{}"}},"issue_resume_token":true}})",
        jwt())));
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto b = body_of(r);
    EXPECT_TRUE(std::string(b.at("resume_token").as_string()).starts_with("bsr1_"));
    EXPECT_EQ(b.at("resume_token").as_string().size(), 5u + 43u);
    EXPECT_EQ(b.at("resume_token_expires_at").as_string(), "2025-01-02T12:00:00Z");  // +24 h
    EXPECT_EQ(b.at("jid").as_string(), "alice@example.org/srv-1");
}

TEST_F(ResumeApiTest, no_token_unless_asked)
{
    const auto r = send(post(fmt::format(
        R"({{"auth":{{"method":"assertion","assertion":"{}"}},"issue_resume_token":false}})",
        jwt())));
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_FALSE(body_of(r).contains("resume_token"));
    EXPECT_FALSE(body_of(r).contains("resume_token_expires_at"));
}

TEST_F(ResumeApiTest, resume_logs_the_same_user_in_by_the_domain_strategy_and_rotates)
{
    const auto first = first_token();
    now += 1h;
    const auto r = resume(first);
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto b = body_of(r);
    EXPECT_EQ(b.at("jid").as_string(), "alice@example.org/srv-1");
    const std::string next(b.at("resume_token").as_string());
    EXPECT_NE(next, first);
    EXPECT_EQ(b.at("resume_token_expires_at").as_string(), "2025-01-02T13:00:00Z");  // slid
    ASSERT_EQ(service.logins.size(), 2u);
    const auto& login = service.logins[1];
    EXPECT_EQ(login.username, "alice");
    EXPECT_EQ(login.domain, "example.org");
    EXPECT_EQ(login.policy, runtime::SaslPolicy::plain_secret);
    EXPECT_NE(login.secret, first);  // the token never goes upstream
    EXPECT_TRUE(check_ticket(ticket_secret, login.secret, "alice", "example.org", wall_now + 3600));
    EXPECT_EQ(r.body.find(first), std::string::npos);  // never echoed
    EXPECT_EQ(resume(next).status, 201u);  // and the successor works in turn
}

TEST_F(ResumeApiTest, auth_jid_may_repeat_the_tokens_user_but_not_name_another)
{
    const auto token = first_token();
    EXPECT_EQ(error_of(resume(token, app_key, R"(,"jid":"bob@example.org")")), "forbidden");
    EXPECT_EQ(service.logins.size(), 1u);
    EXPECT_EQ(resume(token, app_key, R"(,"jid":"alice@EXAMPLE.org")").status, 201u);
}

TEST_F(ResumeApiTest, reuse_after_the_grace_revokes_the_family)
{
    const auto first = first_token();
    ASSERT_EQ(resume(first).status, 201u);  // its answer "got lost"
    now += 30s;
    const auto retry = resume(first);
    ASSERT_EQ(retry.status, 201u) << "within the grace a retry works";
    const auto newest = std::string(body_of(retry).at("resume_token").as_string());
    now += 31s;
    const auto r = resume(first);
    EXPECT_EQ(r.status, 403u);
    EXPECT_EQ(error_of(r), "invalid_credentials");
    EXPECT_NE(std::string(body_of(r).at("detail").as_string()).find("replaced"), std::string::npos);
    // Every token of the family is gone, whoever holds it.
    EXPECT_EQ(error_of(resume(newest)), "invalid_credentials");
    EXPECT_EQ(service.logins.size(), 3u);  // nothing went upstream for the refusals
}

TEST_F(ResumeApiTest, token_expires_idle_lifetime_after_issue)
{
    const auto token = first_token();
    now += 24h;
    const auto r = resume(token);
    EXPECT_EQ(r.status, 403u);
    EXPECT_EQ(error_of(r), "invalid_credentials");
    EXPECT_EQ(service.logins.size(), 1u);
}

TEST_F(ResumeApiTest, another_client_gets_the_answer_for_an_unknown_token_and_changes_nothing)
{
    const auto first = first_token();
    const auto second = std::string(body_of(resume(first)).at("resume_token").as_string());
    now += 2min;
    const auto theirs = resume(second, other_key);
    const auto unknown = resume("bsr1_" + std::string(43, 'A'), other_key);
    EXPECT_EQ(theirs.status, 403u);
    EXPECT_EQ(body_of(theirs).at("detail"), body_of(unknown).at("detail"));
    // Not even a rotated token of the family lets another client revoke it.
    EXPECT_EQ(resume(first, other_key).status, 403u);
    EXPECT_EQ(resume(second).status, 201u);
}

TEST_F(ResumeApiTest, methods_bosun_cannot_repeat_answer_resume_unsupported)
{
    for (const auto* auth : {R"({"method":"password","jid":"alice@example.org","password":"pw"})",
             R"({"method":"token","jid":"alice@example.org","token":"tk"})",
             R"({"method":"anonymous","jid":"example.org"})"}) {
        const auto r = send(post(fmt::format(R"({{"auth":{},"issue_resume_token":true}})", auth)));
        EXPECT_EQ(r.status, 403u) << auth;
        EXPECT_EQ(error_of(r), "resume_unsupported") << auth;
        EXPECT_EQ(r.header("Content-Type"), problem_content_type);
    }
    EXPECT_TRUE(service.logins.empty()) << "refused before any upstream login";
}

TEST_F(ResumeApiTest, client_without_method_resume_can_neither_ask_for_nor_use_tokens)
{
    const auto token = first_token();
    auto& methods = config.prebind.clients[0].allowed_methods;
    methods.erase(std::find(methods.begin(), methods.end(), "resume"));
    rebuild();
    const auto ask = send(post(fmt::format(
        R"({{"auth":{{"method":"assertion","assertion":"{}"}},"issue_resume_token":true}})",
        jwt())));
    EXPECT_EQ(ask.status, 403u);
    EXPECT_EQ(error_of(ask), "forbidden");
    EXPECT_EQ(error_of(resume(token)), "forbidden");
    EXPECT_EQ(service.logins.size(), 1u);
}

TEST_F(ResumeApiTest, failed_upstream_login_keeps_the_token)
{
    const auto token = first_token();
    service.fail = PrebindFailure::upstream_unavailable;
    EXPECT_EQ(resume(token).status, 502u);
    service.fail.reset();
    EXPECT_EQ(resume(token).status, 201u);
}

TEST_F(ResumeApiTest, revoke_by_token_then_resume_is_refused)
{
    const auto token = first_token();
    const auto r = revoke(fmt::format(R"({{"resume_token":"{}"}})", token));
    EXPECT_EQ(r.status, 204u);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
    EXPECT_EQ(error_of(resume(token)), "invalid_credentials");
}

TEST_F(ResumeApiTest, revoke_is_204_for_an_unknown_or_foreign_token_and_revokes_nothing)
{
    const auto token = first_token();
    EXPECT_EQ(revoke(R"({"resume_token":"bsr1_nope"})").status, 204u);
    EXPECT_EQ(revoke(fmt::format(R"({{"resume_token":"{}"}})", token), other_key).status, 204u);
    EXPECT_EQ(resume(token).status, 201u);
}

TEST_F(ResumeApiTest, revoke_by_jid_ends_every_family_of_the_user_for_this_client)
{
    const auto a1 = first_token();
    const auto a2 = first_token();
    const auto b = first_token("bob@example.org");
    EXPECT_EQ(revoke(R"({"jid":"Alice@example.org"})").status, 204u);
    EXPECT_EQ(resume(a1).status, 403u);
    EXPECT_EQ(resume(a2).status, 403u);
    EXPECT_EQ(resume(b).status, 201u);
}

TEST_F(ResumeApiTest, revoke_bodies_are_strict)
{
    EXPECT_EQ(revoke(R"({})").status, 400u);
    EXPECT_EQ(revoke(R"({"jid":"a@example.org","resume_token":"x"})").status, 400u);
    EXPECT_EQ(revoke(R"({"jid":"example.org"})").status, 400u);
    EXPECT_EQ(revoke(R"({"resume_token":""})").status, 400u);
    EXPECT_EQ(revoke(R"({"resume_token":1})").status, 400u);
    EXPECT_EQ(revoke(R"({"token":"x"})").status, 400u);
    EXPECT_EQ(error_of(revoke(R"({"jid":"a@other.example"})")), "forbidden");
    auto get = call("GET", "/v1/resume-tokens/revoke");
    EXPECT_EQ(send(std::move(get)).status, 405u);
}

TEST_F(ResumeApiTest, issue_resume_token_must_be_a_boolean)
{
    const auto r = send(post(fmt::format(
        R"({{"auth":{{"method":"assertion","assertion":"{}"}},"issue_resume_token":"yes"}})",
        jwt())));
    EXPECT_EQ(r.status, 400u);
}

TEST_F(ResumeApiTest, deleting_a_users_sessions_revokes_their_resume_tokens)
{
    const auto token = first_token();
    EXPECT_EQ(send(call("DELETE", "/v1/users/alice%40example.org/sessions")).status, 200u);
    EXPECT_EQ(error_of(resume(token)), "invalid_credentials");
}

TEST_F(ResumeApiTest, revoked_during_the_login_ends_the_new_session)
{
    const auto token = first_token();
    service.hold = 50ms;
    net::io_context ioc;
    std::optional<ApiResponse> resumed;
    std::optional<ApiResponse> revoked;
    net::co_spawn(ioc,
        api->handle(
            post(fmt::format(R"({{"auth":{{"method":"resume","resume_token":"{}"}}}})", token))),
        [&](std::exception_ptr, ApiResponse r) { resumed = std::move(r); });
    auto rv = post(R"({"jid":"alice@example.org"})");
    rv.target = "/v1/resume-tokens/revoke";
    net::co_spawn(ioc, api->handle(std::move(rv)),
        [&](std::exception_ptr, ApiResponse r) { revoked = std::move(r); });
    ioc.run();
    ASSERT_TRUE(resumed && revoked);
    EXPECT_EQ(revoked->status, 204u);
    EXPECT_EQ(resumed->status, 403u) << resumed->body;
    EXPECT_EQ(service.ended, std::vector<std::string> {"SIDSIDSIDSIDSIDSIDSIDSIDSIDSID01"});
}

TEST_F(ResumeApiTest, logs_never_hold_a_resume_token)
{
    const auto saved = log::level();
    log::set_level(LogLevel::trace);
    ::testing::internal::CaptureStderr();
    const auto first = first_token();
    const auto r = resume(first);
    const auto second = std::string(body_of(r).at("resume_token").as_string());
    (void)revoke(fmt::format(R"({{"resume_token":"{}"}})", second));
    const std::string logs = ::testing::internal::GetCapturedStderr();
    log::set_level(saved);
    EXPECT_NE(logs.find("resume token"), std::string::npos) << "nothing was logged";
    EXPECT_EQ(logs.find(first.substr(5)), std::string::npos) << logs;
    EXPECT_EQ(logs.find(second.substr(5)), std::string::npos) << logs;
}

}  // namespace
}  // namespace bosun::prebind::test
