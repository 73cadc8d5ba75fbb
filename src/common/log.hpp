#pragma once
// Levelled, one-line-per-event logging to stderr. Formatting happens only
// when the level is enabled. Never pass secrets (passwords, tokens, SASL
// payloads, SIDs): log sid_tag(sid) instead of a SID.

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "bosun/config.hpp"

namespace bosun::log {

void set_level(LogLevel level);
LogLevel level();
bool enabled(LogLevel level);
void write(LogLevel level, std::string_view line);

/// A short keyed hash of a SID for logs: stable within a process, useless
/// for guessing the SID.
std::string sid_tag(std::string_view sid);

std::string_view level_name(LogLevel level);

template <class... Args>
void emit(LogLevel lv, fmt::format_string<Args...> f, Args&&... args)
{
    if (!enabled(lv))
        return;
    write(lv, fmt::format(f, std::forward<Args>(args)...));
}

template <class... Args>
void trace(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::trace, f, std::forward<Args>(a)...); }
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::debug, f, std::forward<Args>(a)...); }
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::info, f, std::forward<Args>(a)...); }
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::warn, f, std::forward<Args>(a)...); }
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::error, f, std::forward<Args>(a)...); }

}  // namespace bosun::log
