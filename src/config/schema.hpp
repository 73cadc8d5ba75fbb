#pragma once
// The schema: every key Bosun accepts, each with its reader, bounds and
// meaning, and the checks that span more than one key.

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "bosun/config.hpp"
#include "config/diagnostics.hpp"

namespace bosun::config {

// Fills `config` from a parsed document. Unknown keys, wrong types and
// out-of-range values go to `diag`; the field keeps its default.
void read_config(const toml::table& root, Config& config, Diagnostics& diag);

// Checks between keys (default_wait <= max_wait, ...), run after reading.
void check_rules(const Config& config, Diagnostics& diag);

// Every accepted key as a dotted path; upstream keys as "upstream.*.host".
std::vector<std::string> key_paths();

// How a key is named in messages: "http.path"; keys that are not bare
// TOML keys are quoted.
std::string key_path(std::string_view parent, std::string_view key);

// `upstream."example.org"`: always quoted, as in the file's table headers.
std::string upstream_path(std::string_view domain);

} // namespace bosun::config
