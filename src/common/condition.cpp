#include "bosun/condition.hpp"

#include <array>
#include <utility>

namespace bosun {
namespace {

constexpr std::array<std::pair<Condition, std::string_view>, 13> k_names{{
    {Condition::bad_request, "bad-request"},
    {Condition::host_gone, "host-gone"},
    {Condition::host_unknown, "host-unknown"},
    {Condition::improper_addressing, "improper-addressing"},
    {Condition::internal_server_error, "internal-server-error"},
    {Condition::item_not_found, "item-not-found"},
    {Condition::other_request, "other-request"},
    {Condition::policy_violation, "policy-violation"},
    {Condition::remote_connection_failed, "remote-connection-failed"},
    {Condition::remote_stream_error, "remote-stream-error"},
    {Condition::see_other_uri, "see-other-uri"},
    {Condition::system_shutdown, "system-shutdown"},
    {Condition::undefined_condition, "undefined-condition"},
}};

}  // namespace

std::string_view to_wire(Condition c)
{
    for (const auto& [cond, name] : k_names)
        if (cond == c)
            return name;
    return "undefined-condition";
}

std::optional<Condition> condition_from_wire(std::string_view s)
{
    for (const auto& [cond, name] : k_names)
        if (name == s)
            return cond;
    return std::nullopt;
}

std::optional<unsigned> legacy_http_status(Condition c)
{
    // XEP-0124 §17.1 / §17.2 footnote (checklist #24).
    switch (c) {
    case Condition::bad_request: return 400;
    case Condition::policy_violation: return 403;
    case Condition::item_not_found: return 404;
    default: return std::nullopt;
    }
}

}  // namespace bosun
