#pragma once
// XEP-0124 §17.2 terminal binding conditions, plus the recoverable error
// (§17.3). Values mirror the wire names; to_wire() is the one place that maps
// them to strings.

#include <optional>
#include <string_view>

namespace bosun {

enum class Condition {
    bad_request,
    host_gone,
    host_unknown,
    improper_addressing,
    internal_server_error,
    item_not_found,
    other_request,
    policy_violation,
    remote_connection_failed,
    remote_stream_error,
    see_other_uri,
    system_shutdown,
    undefined_condition,
};

/// The wire name of a condition, e.g. "item-not-found".
std::string_view to_wire(Condition c);

/// Parses a wire name; nullopt if it is not a XEP-0124 condition.
std::optional<Condition> condition_from_wire(std::string_view s);

/// XEP-0124 §17.1: the legacy HTTP status for clients that sent no 'ver'
/// (400, 403 or 404), or nullopt if the condition has no legacy equivalent.
std::optional<unsigned> legacy_http_status(Condition c);

}  // namespace bosun
