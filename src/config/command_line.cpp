// The bosun command line: a table of options drives both parsing and
// usage_text(), so the help cannot drift from what is accepted.

#include "config/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <span>

namespace bosun::config {
namespace {

struct Option {
    std::string_view long_name;
    char short_name; // 0: none
    std::string_view value_name; // empty: a flag without a value
    void (*apply)(CommandLine&, std::string_view value);
    std::string_view doc;
};

constexpr std::array options {
    Option {"config", 'c', "FILE",
        [](CommandLine& c, std::string_view v) { c.config_path = std::string(v); },
        "read the configuration from FILE"},
    Option {"check-config", 0, "", [](CommandLine& c, std::string_view) { c.check_config = true; },
        "check the configuration, print every problem, exit 0 if it is usable"},
    Option {"version", 0, "", [](CommandLine& c, std::string_view) { c.version = true; },
        "print the version and exit"},
    Option {"help", 'h', "", [](CommandLine& c, std::string_view) { c.help = true; },
        "print this help and exit"},
};

// One argument split into the option it names and a value given with '='.
struct Spelling {
    const Option* option = nullptr;
    std::string_view name; // as typed, without "=value"
    std::optional<std::string_view> value; // from "--config=FILE"
};

Spelling identify(std::string_view arg)
{
    Spelling s;
    const bool long_form = arg.starts_with("--");
    const auto eq = long_form ? arg.find('=') : std::string_view::npos;
    s.name = arg.substr(0, eq);
    if (eq != std::string_view::npos)
        s.value = arg.substr(eq + 1);
    const auto it = std::find_if(options.begin(), options.end(), [&](const Option& o) {
        if (long_form)
            return s.name.substr(2) == o.long_name;
        return o.short_name != 0 && arg.size() == 2 && arg[0] == '-' && arg[1] == o.short_name;
    });
    if (it != options.end())
        s.option = &*it;
    return s;
}

// Applies argv[i] (and its value, which may be argv[i + 1]); returns the
// index of the last argument consumed.
int apply_one(std::span<const char* const> args, int i, CommandLine& cl)
{
    const std::string_view arg = args[i];
    const Spelling s = identify(arg);
    if (!arg.starts_with('-') || arg == "-" || arg == "--") {
        cl.errors.push_back(fmt::format("unexpected argument '{}'", arg));
        return i;
    }
    if (!s.option) {
        cl.errors.push_back(fmt::format("unknown option '{}'", s.name));
        return i;
    }
    const Option& o = *s.option;
    if (o.value_name.empty()) {
        if (s.value)
            cl.errors.push_back(fmt::format("{} takes no value", s.name));
        else
            o.apply(cl, {});
        return i;
    }
    // A following option is a forgotten value, not a file named "--check-config".
    const bool next_is_value
        = i + 1 < static_cast<int>(args.size()) && !std::string_view(args[i + 1]).starts_with('-');
    const std::string_view value = s.value ? *s.value : next_is_value ? args[i + 1] : "";
    if (value.empty())
        cl.errors.push_back(fmt::format("{} needs a value ({})", s.name, o.value_name));
    else
        o.apply(cl, value);
    return !s.value && next_is_value ? i + 1 : i;
}

} // namespace

CommandLine parse_command_line(int argc, const char* const* argv)
{
    CommandLine cl;
    const std::span<const char* const> args(argv, argc > 0 ? static_cast<std::size_t>(argc) : 0);
    for (int i = 1; i < static_cast<int>(args.size()); ++i)
        i = apply_one(args, i, cl);
    return cl;
}

std::string usage_text()
{
    std::string text = "Usage: bosun [OPTIONS]\n"
                       "Bosun, an XMPP BOSH connection manager (XEP-0124, XEP-0206).\n\n"
                       "Options:\n";
    for (const Option& o : options) {
        const std::string flags
            = fmt::format("{}--{}{}{}", o.short_name ? fmt::format("-{}, ", o.short_name) : "    ",
                o.long_name, o.value_name.empty() ? "" : " ", o.value_name);
        text += fmt::format("  {:<22} {}\n", flags, o.doc);
    }
    text += fmt::format("\nThe configuration file defaults to {}.\n", CommandLine {}.config_path);
    return text;
}

} // namespace bosun::config
