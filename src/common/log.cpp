#include "common/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/random.hpp"

namespace bosun::log {
namespace {

LogLevel g_level = LogLevel::info;

// FNV-1a over a per-process random key and the SID. Not cryptographic, but the
// key is secret and the tag is 32 bits, so it cannot be turned back into a SID.
std::uint64_t keyed_hash(std::string_view s)
{
    static const std::uint64_t key = random_u64();
    std::uint64_t h = 14695981039346656037ull ^ key;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

}  // namespace

void set_level(LogLevel level) { g_level = level; }
LogLevel level() { return g_level; }
bool enabled(LogLevel lv) { return static_cast<int>(lv) >= static_cast<int>(g_level); }

std::string_view level_name(LogLevel lv)
{
    switch (lv) {
    case LogLevel::trace: return "trace";
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    }
    return "?";
}

void write(LogLevel lv, std::string_view line)
{
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto t = system_clock::to_time_t(now);
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    const std::string out = fmt::format("{}.{:03}Z {} {}\n", stamp, ms, level_name(lv), line);
    std::fwrite(out.data(), 1, out.size(), stderr);
}

std::string sid_tag(std::string_view sid)
{
    return fmt::format("{:08x}", static_cast<std::uint32_t>(keyed_hash(sid)));
}

}  // namespace bosun::log
