#include "config/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace bosun::config {

void Diagnostics::report(
    Severity severity, Position where, std::string_view key, std::string_view message)
{
    std::string text = source_;
    if (where.line != 0)
        text += fmt::format(":{}:{}", where.line, where.column);
    text += ": ";
    if (!key.empty())
        text += fmt::format("{}: ", key);
    text += message;
    entries_.push_back({severity, where, std::move(text)});
}

Position Diagnostics::where(std::string_view key) const
{
    const auto it = positions_.find(key);
    return it == positions_.end() ? Position {} : it->second;
}

std::vector<std::string> Diagnostics::take(Severity severity)
{
    const auto order = [](const Entry& e) {
        return std::tuple(e.where.line == 0, e.where.line, e.where.column);
    };
    std::stable_sort(entries_.begin(), entries_.end(),
        [&](const Entry& a, const Entry& b) { return order(a) < order(b); });
    std::vector<std::string> out;
    std::vector<Entry> rest;
    for (Entry& e : entries_) {
        if (e.severity == severity)
            out.push_back(std::move(e.text));
        else
            rest.push_back(std::move(e));
    }
    entries_ = std::move(rest);
    return out;
}

} // namespace bosun::config
