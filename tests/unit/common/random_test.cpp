#include "common/random.hpp"

#include <gtest/gtest.h>

#include <set>

namespace bosun {
namespace {

// checklist #31, #104: SIDs are unpredictable, unique, >= 128 random bits.
TEST(Random, sid_has_160_bits_in_base32)
{
    const std::string sid = make_sid();
    EXPECT_EQ(sid.size(), 32u);
    for (char c : sid)
        EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << sid;
}

TEST(Random, thousand_sids_never_repeat)
{
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i)
        EXPECT_TRUE(seen.insert(make_sid()).second);
}

TEST(Random, consecutive_sids_share_no_long_prefix)
{
    const std::string a = make_sid(), b = make_sid();
    EXPECT_NE(a.substr(0, 8), b.substr(0, 8));
}

}  // namespace
}  // namespace bosun
