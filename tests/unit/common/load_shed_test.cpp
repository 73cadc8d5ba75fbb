#include "common/load_shed.hpp"

#include <gtest/gtest.h>

// Overload protection (bosh.overload_lag_ms; W4 in docs/benchmarks.md).

namespace bosun {
namespace {

using std::chrono::milliseconds;

const TimePoint t0 {};

TEST(LoadShedder, ticks_within_the_bound_never_shed)
{
    LoadShedder s(milliseconds(100), milliseconds(1000));
    EXPECT_FALSE(s.on_tick(milliseconds(5), t0));
    EXPECT_FALSE(s.on_tick(milliseconds(100), t0 + milliseconds(50)));
    EXPECT_FALSE(s.shedding(t0 + milliseconds(60)));
}

TEST(LoadShedder, a_late_tick_sheds_for_the_hold_after_it_then_recovers)
{
    LoadShedder s(milliseconds(100), milliseconds(1000));
    EXPECT_TRUE(s.on_tick(milliseconds(250), t0));  // started: the caller logs
    EXPECT_TRUE(s.shedding(t0));
    EXPECT_TRUE(s.shedding(t0 + milliseconds(999)));
    EXPECT_FALSE(s.shedding(t0 + milliseconds(1000)));
    EXPECT_EQ(s.worst_lag(), milliseconds(250));
    EXPECT_FALSE(s.on_tick(milliseconds(3), t0 + milliseconds(500)));  // still within the hold
    EXPECT_TRUE(s.on_tick(milliseconds(3), t0 + milliseconds(1020)));  // ended: the caller logs
    EXPECT_FALSE(s.shedding(t0 + milliseconds(1020)));
}

TEST(LoadShedder, each_late_tick_extends_the_hold_and_the_worst_lag)
{
    LoadShedder s(milliseconds(100), milliseconds(1000));
    s.on_tick(milliseconds(150), t0);
    EXPECT_FALSE(s.on_tick(milliseconds(400), t0 + milliseconds(800)));  // no new episode
    EXPECT_TRUE(s.shedding(t0 + milliseconds(1500)));
    EXPECT_FALSE(s.shedding(t0 + milliseconds(1800)));
    EXPECT_EQ(s.worst_lag(), milliseconds(400));
}

TEST(LoadShedder, refusals_are_counted_per_episode_and_in_total)
{
    LoadShedder s(milliseconds(100), milliseconds(1000));
    s.on_tick(milliseconds(150), t0);
    s.note_refused();
    s.note_refused();
    EXPECT_EQ(s.refused(), 2u);
    s.on_tick(milliseconds(1), t0 + milliseconds(2000));
    s.on_tick(milliseconds(150), t0 + milliseconds(3000));
    s.note_refused();
    EXPECT_EQ(s.refused(), 1u);
    EXPECT_EQ(s.refused_total(), 3u);
}

TEST(LoadShedder, a_zero_bound_is_off)
{
    LoadShedder s(milliseconds(0), milliseconds(1000));
    EXPECT_FALSE(s.enabled());
    EXPECT_FALSE(s.on_tick(milliseconds(5000), t0));
    EXPECT_FALSE(s.shedding(t0));
}

}  // namespace
}  // namespace bosun
