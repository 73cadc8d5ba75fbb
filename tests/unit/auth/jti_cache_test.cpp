#include "auth/jti_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bosun::auth {
namespace {

using namespace std::chrono_literals;
using Outcome = JtiCache::Outcome;

const UnixTime t0 {std::chrono::seconds(1'700'000'000)};

TEST(JtiCache, second_use_of_a_jti_is_a_replay)
{
    JtiCache cache(10, 30s);
    EXPECT_EQ(cache.remember("a", t0 + 60s, t0), Outcome::stored);
    EXPECT_EQ(cache.remember("a", t0 + 60s, t0 + 1s), Outcome::replayed);
    EXPECT_EQ(cache.remember("b", t0 + 60s, t0 + 1s), Outcome::stored);
    EXPECT_EQ(cache.size(), 2u);
}

TEST(JtiCache, entry_lives_until_exp_plus_leeway)
{
    JtiCache cache(10, 30s);
    ASSERT_EQ(cache.remember("a", t0 + 60s, t0), Outcome::stored);
    EXPECT_EQ(cache.remember("a", t0 + 60s, t0 + 89s), Outcome::replayed);
    // At exp + leeway the verifier refuses the token as expired, so the
    // entry is no longer needed.
    cache.expire(t0 + 90s);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(JtiCache, token_already_past_exp_plus_leeway_is_not_stored)
{
    JtiCache cache(10, 30s);
    EXPECT_EQ(cache.remember("a", t0, t0 + 30s), Outcome::stored);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(JtiCache, full_cache_refuses_new_jtis_until_entries_expire)
{
    JtiCache cache(2, 0s);
    ASSERT_EQ(cache.remember("a", t0 + 10s, t0), Outcome::stored);
    ASSERT_EQ(cache.remember("b", t0 + 20s, t0), Outcome::stored);
    EXPECT_EQ(cache.remember("c", t0 + 20s, t0), Outcome::full);
    // A replay is still a replay when full.
    EXPECT_EQ(cache.remember("a", t0 + 10s, t0 + 1s), Outcome::replayed);
    // "a" expires at t0 + 10 s and frees its slot.
    EXPECT_EQ(cache.remember("c", t0 + 20s, t0 + 10s), Outcome::stored);
    EXPECT_EQ(cache.size(), 2u);
}

TEST(JtiCache, refused_for_fullness_is_not_remembered)
{
    JtiCache cache(1, 0s);
    ASSERT_EQ(cache.remember("a", t0 + 10s, t0), Outcome::stored);
    ASSERT_EQ(cache.remember("b", t0 + 20s, t0), Outcome::full);
    EXPECT_EQ(cache.remember("b", t0 + 20s, t0 + 10s), Outcome::stored);
}

TEST(JtiCache, memory_stays_bounded_under_steady_traffic)
{
    JtiCache cache(100, 30s);
    for (int i = 0; i < 10'000; ++i) {
        UnixTime now = t0 + std::chrono::seconds(i);
        ASSERT_EQ(cache.remember(std::to_string(i), now + 60s, now), Outcome::stored) << i;
        ASSERT_LE(cache.size(), 90u);  // 60 s lifetime + 30 s leeway, one a second
    }
}

}  // namespace
}  // namespace bosun::auth
