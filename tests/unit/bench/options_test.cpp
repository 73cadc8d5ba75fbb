#include "options.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bosun::bench {
namespace {

bool parse(std::vector<std::string> args, Options& o, std::string& error)
{
    std::vector<char*> argv {const_cast<char*>("bosun-bench")};
    for (auto& a : args)
        argv.push_back(a.data());
    return parse_options(static_cast<int>(argv.size()), argv.data(), o, error)
        && validate_options(o, error);
}

TEST(Options, a_bosh_run_parses_with_repeated_pids)
{
    Options o;
    std::string error;
    ASSERT_TRUE(parse({"--url", "http://127.0.0.1:5280/http-bind", "--sessions", "8", "--rate",
                          "2.5", "--pid", "10", "--pid", "11", "--lazy-connect"},
        o, error))
        << error;
    EXPECT_EQ(o.sessions, 8u);
    EXPECT_DOUBLE_EQ(o.rate, 2.5);
    EXPECT_EQ(o.pids, (std::vector<int> {10, 11}));
    EXPECT_TRUE(o.lazy_connect);
    EXPECT_EQ(user_jid(o, 7), "user7@localhost");
}

TEST(Options, bad_configurations_are_refused_with_a_reason)
{
    const std::vector<std::vector<std::string>> bad = {
        {"--url", "http://h:1/x", "--sessions", "7"},  // not pairs
        {"--url", "https://h:1/x"},  // no TLS client for HTTP
        {"--mode", "tcp"},  // no --server
        {"--url", "http://h:1/x", "--login", "prebind"},  // no --prebind-url
        {"--url", "http://h:1/x", "--user-format", "bob"},  // no %d
        {"--url", "http://h:1/x", "--rate", "fast"},
        {"--url", "http://h:1/x", "--sessions", "4", "--procs", "3"},  // more workers than pairs
        {"--url", "http://h:1/x", "--bogus", "1"},
    };
    for (const auto& args : bad) {
        Options o;
        std::string error;
        EXPECT_FALSE(parse(args, o, error)) << args.back();
        EXPECT_FALSE(error.empty());
    }
}

TEST(Options, a_bad_password_value_is_not_echoed)
{
    Options o;
    std::string error;
    EXPECT_FALSE(parse({"--url", "http://h:1/x", "--password", ""}, o, error));
    EXPECT_EQ(error, "bad --password");
}

TEST(Options, a_user_format_with_a_domain_is_a_full_jid)
{
    Options o;
    o.user_format = "load%d@other.example";
    EXPECT_EQ(user_jid(o, 3), "load3@other.example");
}

// --prebind-method: the auth.method of POST /v1/prebind (docs/prebind.md).
const std::vector<std::string> prebind_base
    = {"--url", "http://h:1/x", "--login", "prebind", "--prebind-url", "http://h:2"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

TEST(Options, prebind_method_defaults_to_password)
{
    Options o;
    std::string error;
    ASSERT_TRUE(parse(prebind_base, o, error)) << error;
    EXPECT_EQ(o.prebind_method, PrebindMethod::password);
    EXPECT_FALSE(o.prebind_method_set);
    EXPECT_EQ(login_label(o), "prebind");
    EXPECT_EQ(boost::json::serialize(prebind_auth(o, "user1@localhost")),
        R"({"method":"password","jid":"user1@localhost","password":"bench"})");
}

TEST(Options, prebind_method_token_sends_the_password_as_the_token)
{
    Options o;
    std::string error;
    ASSERT_TRUE(
        parse(with(prebind_base, {"--prebind-method", "token", "--password", "s3cret"}), o, error))
        << error;
    EXPECT_EQ(o.prebind_method, PrebindMethod::token);
    EXPECT_EQ(login_label(o), "prebind/token");
    EXPECT_EQ(boost::json::serialize(prebind_auth(o, user_jid(o, 4))),
        R"({"method":"token","jid":"user4@localhost","token":"s3cret"})");
}

TEST(Options, prebind_method_anonymous_names_the_domain_alone)
{
    Options o;
    std::string error;
    ASSERT_TRUE(
        parse(with(prebind_base, {"--prebind-method", "anonymous", "--domain", "anon.localhost"}),
            o, error))
        << error;
    EXPECT_EQ(o.prebind_method, PrebindMethod::anonymous);
    EXPECT_EQ(login_label(o), "prebind/anonymous");
    // No password, no localpart: SASL ANONYMOUS on that host.
    EXPECT_EQ(boost::json::serialize(prebind_auth(o, user_jid(o, 1))),
        R"({"method":"anonymous","jid":"anon.localhost"})");
}

TEST(Options, prebind_method_combinations_are_refused_with_a_reason)
{
    struct Case {
        std::vector<std::string> args;
        std::string error;
    };
    const std::vector<Case> bad = {
        {{"--url", "http://h:1/x", "--prebind-method", "token"},
            "--prebind-method needs --login prebind"},
        {{"--mode", "tcp", "--server", "h:1", "--prebind-method", "password"},
            "--prebind-method needs --login prebind"},
        {with(prebind_base, {"--prebind-method", "scram"}),
            "bad value for --prebind-method: 'scram'"},
        {with(prebind_base, {"--prebind-method", "assertion"}),
            "bad value for --prebind-method: 'assertion'"},
        {with(prebind_base, {"--prebind-method", "anonymous", "--user-format", "u%d@x.example"}),
            "--prebind-method anonymous logs in to --domain; --user-format must not name a "
            "domain"},
        {with(prebind_base, {"--prebind-method"}), "--prebind-method needs a value"},
    };
    for (const auto& c : bad) {
        Options o;
        std::string error;
        EXPECT_FALSE(parse(c.args, o, error)) << c.error;
        EXPECT_EQ(error, c.error);
    }
}

}  // namespace
}  // namespace bosun::bench
