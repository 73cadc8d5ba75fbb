// tools/bosun-prebind against a real ApiServer on loopback, with the fake
// runtime: the CLI sends what the API expects and exits with its codes.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "fake_service.hpp"
#include "prebind/server.hpp"

namespace bosun::prebind::test {
namespace {

struct Run {
    int code = -1;
    std::string out;
};

// Runs the CLI through /bin/sh with `input` on stdin; stdout captured,
// stderr discarded.
Run cli(const std::string& args, const std::string& input = "")
{
    Run r;
    const auto command
        = fmt::format("printf '%s\\n' '{}' | {} {} 2>/dev/null", input, BOSUN_PREBIND_CLI, args);
    FILE* p = ::popen(command.c_str(), "r");
    if (!p)
        return r;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
        r.out.append(buf, n);
    const int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

class CliTest : public ::testing::Test {
protected:
    CliTest()
    {
        config.prebind.listen = {{"127.0.0.1", 0}};
        api.emplace(config, service);
        server.emplace(ioc.get_executor(), config.prebind, *api);
        server->start();
        url = fmt::format("http://127.0.0.1:{}", server->local_endpoints().at(0).port());
        thread = std::thread([this] { ioc.run(); });
        ::setenv("BOSUN_PREBIND_KEY", app_key.c_str(), 1);
    }
    ~CliTest() override
    {
        ::unsetenv("BOSUN_PREBIND_KEY");
        server->stop();
        work.reset();
        ioc.stop();
        thread.join();
    }

    Config config = test_config();
    FakeService service;
    net::io_context ioc;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work {
        ioc.get_executor()};
    std::optional<Api> api;
    std::optional<ApiServer> server;
    std::string url;
    std::thread thread;
};

TEST_F(CliTest, keygen_prints_a_key_and_its_config_hash)
{
    const auto r = cli("keygen --id webapp");
    ASSERT_EQ(r.code, 0);
    const auto key_at = r.out.find("key: bsk_webapp_");
    ASSERT_NE(key_at, std::string::npos) << r.out;
    const auto key = r.out.substr(key_at + 5, r.out.find('\n', key_at) - key_at - 5);
    EXPECT_EQ(key.size(), std::string("bsk_webapp_").size() + 43);
    EXPECT_NE(r.out.find(fmt::format("key_hashes = [\"{}\"]", key_hash(key))), std::string::npos)
        << r.out;
}

TEST_F(CliTest, prebind_with_password_file_creates_a_session)
{
    const std::string file = ::testing::TempDir() + "bosun-prebind-pw";
    std::ofstream(file) << "pa ss\"word\n";
    const auto r = cli(
        fmt::format("prebind --url {} --method password --jid alice@example.org --password-file {}",
            url, file));
    std::remove(file.c_str());
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("\"sid\":\"SIDSIDSIDSIDSIDSIDSIDSIDSIDSID01\""), std::string::npos)
        << r.out;
    ASSERT_EQ(service.logins.size(), 1u);
    EXPECT_EQ(service.logins[0].secret, "pa ss\"word");
    EXPECT_EQ(service.logins[0].username, "alice");
}

TEST_F(CliTest, anonymous_with_display_name_and_client_ip)
{
    const auto r = cli(fmt::format("prebind --url {} --method anonymous --jid example.org "
                                   "--display-name Ann --client-ip 203.0.113.9",
        url));
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("\"display_name\":\"Ann\""), std::string::npos) << r.out;
    ASSERT_EQ(service.logins.size(), 1u);
    EXPECT_EQ(service.logins[0].client_ip, "203.0.113.9");
}

TEST_F(CliTest, problems_exit_1_and_print_the_problem)
{
    service.fail = PrebindFailure::not_authorized;
    const auto r
        = cli(fmt::format("prebind --url {} --method token --jid a@example.org --token-stdin", url),
            "tok");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("\"error\":\"invalid_credentials\""), std::string::npos) << r.out;
    ASSERT_EQ(service.logins.size(), 1u);
    EXPECT_EQ(service.logins[0].secret, "tok");
    EXPECT_EQ(service.logins[0].policy, runtime::SaslPolicy::plain_secret);
}

TEST_F(CliTest, session_and_user_sessions_commands)
{
    service.sessions["s1"] = {"alice@example.org/r", true, false};
    auto r = cli(fmt::format("session get s1 --url {}", url));
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("\"state\":\"attached\""), std::string::npos) << r.out;
    r = cli(fmt::format("session delete s1 --url {}", url));
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(service.ended, std::vector<std::string> {"s1"});
    r = cli(fmt::format("user-sessions delete alice@example.org --url {}", url));
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("\"ended\":3"), std::string::npos) << r.out;
    EXPECT_EQ(service.users_ended, std::vector<std::string> {"alice@example.org"});
}

TEST_F(CliTest, usage_errors_exit_2)
{
    EXPECT_EQ(cli("frobnicate").code, 2);
    EXPECT_EQ(
        cli(fmt::format("prebind --url {} --method password --jid a@example.org", url)).code, 2);
    EXPECT_TRUE(service.logins.empty());
}

TEST_F(CliTest, resume_and_resume_token_revocation)
{
    // The resume path itself is in resume_api_test.cpp; here: what the CLI sends.
    auto r = cli(
        fmt::format("prebind --url {} --method resume --resume-token-stdin", url), "bsr1_unknown");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("\"method resume is not allowed"), std::string::npos) << r.out;
    r = cli(fmt::format("prebind --url {} --method password --jid a@example.org --password-stdin "
                        "--issue-resume-token",
                url),
        "pw");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("\"error\":\"forbidden\""), std::string::npos) << r.out;
    r = cli(fmt::format("resume-tokens revoke --url {} --resume-token-stdin", url), "bsr1_x");
    EXPECT_EQ(r.code, 0) << r.out;
    r = cli(fmt::format("resume-tokens revoke --url {} --jid alice@example.org", url));
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(cli(fmt::format("prebind --url {} --method resume", url)).code, 2);
    EXPECT_EQ(cli(fmt::format("resume-tokens revoke --url {}", url)).code, 2);
    EXPECT_TRUE(service.logins.empty());
}

}  // namespace
}  // namespace bosun::prebind::test
