#include "bosun/condition.hpp"

#include <gtest/gtest.h>

namespace bosun {
namespace {

TEST(Condition, wire_names_round_trip)
{
    for (auto c : {Condition::bad_request, Condition::host_gone, Condition::host_unknown,
                   Condition::improper_addressing, Condition::internal_server_error,
                   Condition::item_not_found, Condition::other_request, Condition::policy_violation,
                   Condition::remote_connection_failed, Condition::remote_stream_error,
                   Condition::see_other_uri, Condition::system_shutdown,
                   Condition::undefined_condition})
        EXPECT_EQ(condition_from_wire(to_wire(c)), c);
    EXPECT_EQ(to_wire(Condition::item_not_found), "item-not-found");
    EXPECT_FALSE(condition_from_wire("not-a-condition"));
}

// checklist #24: legacy clients get 400/403/404.
TEST(Condition, legacy_status_only_for_three_conditions)
{
    EXPECT_EQ(legacy_http_status(Condition::bad_request), 400u);
    EXPECT_EQ(legacy_http_status(Condition::policy_violation), 403u);
    EXPECT_EQ(legacy_http_status(Condition::item_not_found), 404u);
    EXPECT_FALSE(legacy_http_status(Condition::remote_stream_error));
}

}  // namespace
}  // namespace bosun
