#pragma once
// Collects every configuration problem as "file:line:col: key: message" so
// the operator sees all of them at once, and remembers where each key was
// set so that checks spanning two keys can still point at a line.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::config {

struct Position {
    std::uint32_t line = 0; // 0: unknown (a default, or a whole-file problem)
    std::uint32_t column = 0;
};

enum class Severity { error, warning };

class Diagnostics {
public:
    explicit Diagnostics(std::string_view source)
        : source_(source)
    {
    }

    void report(Severity severity, Position where, std::string_view key, std::string_view message);
    void error(Position where, std::string_view key, std::string_view message)
    {
        report(Severity::error, where, key, message);
    }

    void remember(std::string key, Position where) { positions_[std::move(key)] = where; }
    Position where(std::string_view key) const;

    // Removes and returns the messages of one severity in file order
    // (toml++ hands table entries out sorted by key, not by line); those
    // without a position come last.
    std::vector<std::string> take(Severity severity);

private:
    struct Entry {
        Severity severity;
        Position where;
        std::string text;
    };

    std::string source_;
    std::vector<Entry> entries_;
    std::map<std::string, Position, std::less<>> positions_;
};

} // namespace bosun::config
