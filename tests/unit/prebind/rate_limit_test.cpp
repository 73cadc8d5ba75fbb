#include "prebind/rate_limit.hpp"

#include <gtest/gtest.h>

namespace bosun::prebind {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, allows_a_minutes_burst_then_asks_to_retry)
{
    RateLimiter limits;
    const TimePoint t0 {};
    for (int i = 0; i < 6; ++i)
        EXPECT_FALSE(limits.acquire("app", 6, t0)) << i;
    const auto wait = limits.acquire("app", 6, t0);
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 10s);  // 6 a minute: one token every 10 s
}

TEST(RateLimiter, refills_with_time)
{
    RateLimiter limits;
    const TimePoint t0 {};
    for (int i = 0; i < 6; ++i)
        (void)limits.acquire("app", 6, t0);
    EXPECT_TRUE(limits.acquire("app", 6, t0 + 9s));
    EXPECT_FALSE(limits.acquire("app", 6, t0 + 10s));
    EXPECT_TRUE(limits.acquire("app", 6, t0 + 11s));
}

// Reference §6.8 per (client, bare JID): burst 5, then 12 a minute.
TEST(RateLimiter, burst_then_steady_rate)
{
    RateLimiter limits;
    const TimePoint t0 {};
    for (int i = 0; i < 5; ++i)
        EXPECT_FALSE(limits.acquire("app\nalice@example.org", 5, 12, t0)) << i;
    const auto wait = limits.acquire("app\nalice@example.org", 5, 12, t0);
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 5s);  // 12 a minute: one token every 5 s
    EXPECT_TRUE(limits.acquire("app\nalice@example.org", 5, 12, t0 + 4s));
    EXPECT_FALSE(limits.acquire("app\nalice@example.org", 5, 12, t0 + 5s));
    EXPECT_TRUE(limits.acquire("app\nalice@example.org", 5, 12, t0 + 6s));
    // A full minute later only the burst is back, not 12.
    for (int i = 0; i < 5; ++i)
        EXPECT_FALSE(limits.acquire("app\nalice@example.org", 5, 12, t0 + 120s)) << i;
    EXPECT_TRUE(limits.acquire("app\nalice@example.org", 5, 12, t0 + 120s));
}

TEST(RateLimiter, keys_are_independent)
{
    RateLimiter limits;
    const TimePoint t0 {};
    EXPECT_FALSE(limits.acquire("a", 1, t0));
    EXPECT_TRUE(limits.acquire("a", 1, t0));
    EXPECT_FALSE(limits.acquire("b", 1, t0));
}

TEST(RateLimiter, forgets_full_buckets_to_stay_bounded)
{
    RateLimiter limits(2);
    const TimePoint t0 {};
    (void)limits.acquire("a", 60, t0);
    (void)limits.acquire("b", 60, t0);
    (void)limits.acquire("c", 60, t0 + 5s);
    EXPECT_LE(limits.size(), 2u);
}

TEST(LoginLockout, locks_after_limit_failures_within_window)
{
    LoginLockout lockout(3, 300s, 600s);
    const TimePoint t0 {};
    lockout.failed("a@x", t0);
    lockout.failed("a@x", t0 + 1s);
    EXPECT_FALSE(lockout.locked("a@x", t0 + 2s));
    lockout.failed("a@x", t0 + 2s);
    const auto left = lockout.locked("a@x", t0 + 2s);
    ASSERT_TRUE(left);
    EXPECT_EQ(*left, 600s);
    EXPECT_FALSE(lockout.locked("b@x", t0 + 2s));
    EXPECT_FALSE(lockout.locked("a@x", t0 + 602s));
}

TEST(LoginLockout, old_failures_fall_out_of_the_window)
{
    LoginLockout lockout(2, 60s, 600s);
    const TimePoint t0 {};
    lockout.failed("a@x", t0);
    lockout.failed("a@x", t0 + 61s);
    EXPECT_FALSE(lockout.locked("a@x", t0 + 61s));
}

TEST(LoginLockout, success_clears_the_count)
{
    LoginLockout lockout(2, 60s, 600s);
    const TimePoint t0 {};
    lockout.failed("a@x", t0);
    lockout.succeeded("a@x");
    lockout.failed("a@x", t0 + 1s);
    EXPECT_FALSE(lockout.locked("a@x", t0 + 1s));
}

}  // namespace
}  // namespace bosun::prebind
