#include "config/config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bosun::config {
namespace {

CommandLine parse_args(std::vector<const char*> args)
{
    args.insert(args.begin(), "bosun");
    return parse_command_line(static_cast<int>(args.size()), args.data());
}

std::string joined(const std::vector<std::string>& lines)
{
    std::string out;
    for (const auto& line : lines)
        out += line + "\n";
    return out;
}

TEST(CommandLine, no_arguments_gives_the_defaults)
{
    const CommandLine cl = parse_args({});
    EXPECT_EQ(cl.config_path, "/etc/bosun/bosun.toml");
    EXPECT_FALSE(cl.check_config);
    EXPECT_FALSE(cl.version);
    EXPECT_FALSE(cl.help);
    EXPECT_TRUE(cl.errors.empty());
}

TEST(CommandLine, config_path_is_accepted_in_all_three_spellings)
{
    EXPECT_EQ(parse_args({"--config", "/a.toml"}).config_path, "/a.toml");
    EXPECT_EQ(parse_args({"--config=/b.toml"}).config_path, "/b.toml");
    EXPECT_EQ(parse_args({"-c", "/c.toml"}).config_path, "/c.toml");
    EXPECT_TRUE(parse_args({"-c", "/c.toml"}).errors.empty());
}

TEST(CommandLine, value_after_equals_may_itself_contain_equals)
{
    EXPECT_EQ(parse_args({"--config=/etc/a=b.toml"}).config_path, "/etc/a=b.toml");
}

TEST(CommandLine, flags_set_their_fields)
{
    const CommandLine cl = parse_args({"--check-config", "--version", "--help"});
    EXPECT_TRUE(cl.check_config);
    EXPECT_TRUE(cl.version);
    EXPECT_TRUE(cl.help);
    EXPECT_TRUE(cl.errors.empty()) << joined(cl.errors);
    EXPECT_TRUE(parse_args({"-h"}).help);
}

TEST(CommandLine, check_config_combines_with_a_config_path)
{
    const CommandLine cl = parse_args({"--check-config", "-c", "conf/bosun.example.toml"});
    EXPECT_TRUE(cl.check_config);
    EXPECT_EQ(cl.config_path, "conf/bosun.example.toml");
    EXPECT_TRUE(cl.errors.empty()) << joined(cl.errors);
}

TEST(CommandLine, unknown_options_are_errors)
{
    const CommandLine cl = parse_args({"--verbose", "-x", "--conf=/a.toml"});
    ASSERT_EQ(cl.errors.size(), 3u) << joined(cl.errors);
    EXPECT_EQ(cl.errors[0], "unknown option '--verbose'");
    EXPECT_EQ(cl.errors[1], "unknown option '-x'");
    EXPECT_EQ(cl.errors[2], "unknown option '--conf'");
}

TEST(CommandLine, positional_argument_is_an_error)
{
    const CommandLine cl = parse_args({"bosun.toml"});
    ASSERT_EQ(cl.errors.size(), 1u);
    EXPECT_EQ(cl.errors[0], "unexpected argument 'bosun.toml'");
    EXPECT_EQ(cl.config_path, "/etc/bosun/bosun.toml");
}

TEST(CommandLine, missing_config_value_is_an_error)
{
    for (const auto& args : {std::vector<const char*> {"--config"}, std::vector<const char*> {"-c"},
             std::vector<const char*> {"--config="}}) {
        const CommandLine cl = parse_args(args);
        ASSERT_EQ(cl.errors.size(), 1u) << args[0];
        EXPECT_NE(cl.errors[0].find("needs a value (FILE)"), std::string::npos) << cl.errors[0];
    }
}

TEST(CommandLine, option_after_config_is_a_forgotten_value_not_a_file_name)
{
    const CommandLine cl = parse_args({"--config", "--check-config"});
    ASSERT_EQ(cl.errors.size(), 1u) << joined(cl.errors);
    EXPECT_EQ(cl.errors[0], "--config needs a value (FILE)");
    EXPECT_TRUE(cl.check_config);
    EXPECT_EQ(cl.config_path, "/etc/bosun/bosun.toml");
}

TEST(CommandLine, flag_given_a_value_is_an_error)
{
    const CommandLine cl = parse_args({"--help=yes"});
    ASSERT_EQ(cl.errors.size(), 1u);
    EXPECT_EQ(cl.errors[0], "--help takes no value");
    EXPECT_FALSE(cl.help);
}

TEST(CommandLine, every_error_is_collected)
{
    const CommandLine cl = parse_args({"--bogus", "extra", "--version=1", "-c"});
    EXPECT_EQ(cl.errors.size(), 4u) << joined(cl.errors);
}

TEST(CommandLine, last_config_path_wins)
{
    EXPECT_EQ(parse_args({"-c", "/a.toml", "--config=/b.toml"}).config_path, "/b.toml");
}

TEST(Usage, usage_text_describes_every_option_and_the_default_path)
{
    const std::string text = usage_text();
    for (std::string_view s : {"Usage: bosun", "-c, --config FILE", "--check-config", "--version",
             "-h, --help", "/etc/bosun/bosun.toml"})
        EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
}

} // namespace
} // namespace bosun::config
