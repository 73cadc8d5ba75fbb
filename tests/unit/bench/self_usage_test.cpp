#include "proc_sampler.hpp"

#include <sys/resource.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace bosun::bench {
namespace {

rusage usage(long user_s, long sys_us, long maxrss_kib)
{
    rusage r {};
    r.ru_utime.tv_sec = user_s;
    r.ru_stime.tv_usec = sys_us;
    r.ru_maxrss = maxrss_kib;
    return r;
}

TEST(SelfUsage, one_process_cpu_share_and_rss_make_the_table_line)
{
    SelfUsage u;
    u.add(usage(1, 500'000, 12'800));  // 1.5 CPU-s, 12.5 MiB
    u.wall_seconds = 3;
    EXPECT_DOUBLE_EQ(u.cpu_seconds, 1.5);
    EXPECT_DOUBLE_EQ(u.cpu_percent_of_one_core(), 50);
    EXPECT_EQ(u.line(), "load generator: 1.50 CPU-s (50 % of one core over 3.00 s), RSS 12.5 MiB");
    const auto j = u.to_json().as_object();
    EXPECT_DOUBLE_EQ(j.at("cpu_s").to_number<double>(), 1.5);
    EXPECT_DOUBLE_EQ(j.at("cpu_pct_of_one_core").to_number<double>(), 50);
    EXPECT_EQ(j.at("peak_rss_kib").to_number<std::uint64_t>(), 12'800u);
    EXPECT_EQ(j.at("processes").to_number<std::uint32_t>(), 1u);
}

TEST(SelfUsage, workers_add_up_and_can_exceed_one_core)
{
    SelfUsage u;
    u.add(usage(0, 100'000, 4'096));  // the parent
    u.add(usage(2, 0, 10'240));
    u.add(usage(2, 0, 10'240));
    u.wall_seconds = 2;
    EXPECT_NEAR(u.cpu_seconds, 4.1, 1e-9);
    EXPECT_NEAR(u.cpu_percent_of_one_core(), 205, 1e-6);
    EXPECT_EQ(u.peak_rss_kib, 24'576u);
    EXPECT_EQ(u.line(),
        "load generator: 4.10 CPU-s (205 % of one core over 2.00 s), RSS 24.0 MiB (sum of 3 "
        "processes' peaks)");
}

TEST(SelfUsage, getrusage_of_this_process_is_nonzero)
{
    volatile double x = 0;
    for (int i = 0; i < 20'000'000; ++i)
        x = x + i * 0.5;
    rusage r {};
    ASSERT_EQ(getrusage(RUSAGE_SELF, &r), 0);
    SelfUsage u;
    u.add(r);
    EXPECT_GT(u.cpu_seconds, 0);
    EXPECT_GT(u.peak_rss_kib, 1'000u);  // a gtest binary is more than 1 MiB
    EXPECT_EQ(u.cpu_percent_of_one_core(), 0);  // no wall time yet
}

}  // namespace
}  // namespace bosun::bench
