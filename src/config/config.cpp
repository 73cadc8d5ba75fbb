#include "config/config.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bosun/expected.hpp"
#include "config/diagnostics.hpp"
#include "config/schema.hpp"

namespace bosun::config {
namespace {

Expected<std::string, std::string> read_file(const std::string& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        return unexpected(std::string("is a directory, expected a TOML file"));
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return unexpected(fmt::format("cannot open: {}", std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        return unexpected(fmt::format("cannot read: {}", std::strerror(errno)));
    return text.str();
}

} // namespace

LoadResult parse(std::string_view toml_text, std::string_view source)
{
    Diagnostics diag(source);
    LoadResult result;
    // toml++ as packaged by Debian is built with exceptions; it stops at the
    // first syntax error, so that one is all we can report. Startup code,
    // not the data path, so catching here is fine.
    try {
        const toml::table root = toml::parse(toml_text, source);
        read_config(root, result.config, diag);
        check_rules(result.config, diag);
    } catch (const toml::parse_error& e) {
        const auto& begin = e.source().begin;
        diag.error(
            {begin.line, begin.column}, "", fmt::format("syntax error: {}", e.description()));
    }
    result.errors = diag.take(Severity::error);
    result.warnings = diag.take(Severity::warning);
    return result;
}

LoadResult load_file(const std::string& path)
{
    auto text = read_file(path);
    if (!text) {
        LoadResult result;
        result.errors.push_back(fmt::format("{}: {}", path, text.error()));
        return result;
    }
    return parse(*text, path);
}

} // namespace bosun::config
