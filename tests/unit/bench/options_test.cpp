#include "options.hpp"

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

}  // namespace
}  // namespace bosun::bench
