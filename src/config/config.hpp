#pragma once
// Configuration loading: a TOML file -> typed Config, with every error
// collected (not just the first) so an operator fixes them in one go.

#include <string>
#include <string_view>
#include <vector>

#include "bosun/config.hpp"

namespace bosun::config {

struct LoadResult {
    Config config;
    std::vector<std::string> errors;    ///< "file:line:col: key: message"; non-empty = unusable
    std::vector<std::string> warnings;  ///< usable but worth telling the operator
    bool ok() const { return errors.empty(); }
};

/// Parses TOML text. `source` names it in messages (usually the file path).
LoadResult parse(std::string_view toml_text, std::string_view source);

/// Reads and parses a file; a missing or unreadable file is an error.
LoadResult load_file(const std::string& path);

/// Command line of the bosun binary.
struct CommandLine {
    std::string config_path = "/etc/bosun/bosun.toml";
    bool check_config = false;
    bool version = false;
    bool help = false;
    std::vector<std::string> errors;
};

CommandLine parse_command_line(int argc, const char* const* argv);
std::string usage_text();

}  // namespace bosun::config
