#include "stats.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>

namespace bosun::bench {
namespace {

TEST(Histogram, quantiles_within_two_percent_over_many_magnitudes)
{
    Histogram h;
    for (std::uint64_t v = 1; v <= 100'000; ++v)
        h.record(v * 1000);  // 1 us .. 100 ms
    EXPECT_EQ(h.count(), 100'000u);
    EXPECT_EQ(h.max(), 100'000'000u);
    for (double q : {0.5, 0.9, 0.99}) {
        const double exact = q * 100'000 * 1000;
        EXPECT_NEAR(static_cast<double>(h.quantile(q)), exact, exact * 0.02) << q;
    }
    EXPECT_EQ(h.quantile(1.0), h.max());
}

TEST(Histogram, small_values_are_exact_and_empty_is_zero)
{
    Histogram h;
    EXPECT_EQ(h.quantile(0.5), 0u);
    for (std::uint64_t v : {0u, 1u, 2u, 127u})
        h.record(v);
    EXPECT_EQ(h.quantile(0.25), 0u);
    EXPECT_EQ(h.quantile(0.75), 2u);
    EXPECT_EQ(h.quantile(1.0), 127u);
    h.record(UINT64_MAX / 2);  // the largest magnitudes have a bucket too
    EXPECT_EQ(h.max(), UINT64_MAX / 2);
}

TEST(Histogram, merge_and_json_round_trip_keep_the_figures)
{
    Histogram a, b;
    for (std::uint64_t v = 1; v <= 1000; ++v)
        (v % 2 ? a : b).record(v * 997);
    Histogram merged = a;
    merged.merge(b);
    Histogram back;
    ASSERT_TRUE(back.from_json(boost::json::parse(boost::json::serialize(merged.to_json()))));
    EXPECT_EQ(back.count(), 1000u);
    EXPECT_EQ(back.max(), merged.max());
    EXPECT_EQ(back.quantile(0.99), merged.quantile(0.99));
    EXPECT_DOUBLE_EQ(back.mean(), merged.mean());
}

TEST(Latencies, exact_percentiles_while_samples_fit_then_histogram)
{
    Latencies exact(1000);
    for (std::uint64_t v = 1; v <= 100; ++v)
        exact.record(v * 1'000'003);
    EXPECT_TRUE(exact.exact());
    EXPECT_EQ(exact.quantile(0.5), 50u * 1'000'003);
    EXPECT_EQ(exact.quantile(0.99), 99u * 1'000'003);

    Latencies bounded(10);
    for (std::uint64_t v = 1; v <= 100; ++v)
        bounded.record(v * 1'000'003);
    EXPECT_FALSE(bounded.exact());
    EXPECT_NEAR(
        static_cast<double>(bounded.quantile(0.5)), 50.0 * 1'000'003, 50.0 * 1'000'003 * 0.02);
}

TEST(ErrorCounts, distinct_kinds_are_bounded)
{
    ErrorCounts e;
    for (std::size_t i = 0; i < ErrorCounts::max_kinds + 10; ++i)
        e.add("http_" + std::to_string(i));
    e.add("http_0", 4);
    EXPECT_EQ(e.kinds().size(), ErrorCounts::max_kinds + 1);  // + "other"
    EXPECT_EQ(e.kinds().at("other"), 10u);
    EXPECT_EQ(e.kinds().at("http_0"), 5u);
    EXPECT_EQ(e.total(), ErrorCounts::max_kinds + 14);
}

TEST(RunStats, json_round_trip_and_merge_add_up)
{
    RunStats a;
    a.latency = Latencies(100);
    a.sessions_wanted = 4;
    a.logged_in = 4;
    a.sent = 10;
    a.delivered = 9;
    a.delivered_in_window = 9;
    a.measure_seconds = 2;
    a.latency.record(1'000'000);
    a.errors[static_cast<std::size_t>(Phase::measure)].add("lost");
    RunStats b;
    ASSERT_TRUE(b.from_json(a.to_json(true)));
    b.merge(a);
    const auto j = b.to_json(false);
    EXPECT_EQ(j.at("sent").as_uint64(), 20u);
    EXPECT_EQ(j.at("lost").as_uint64(), 2u);
    EXPECT_EQ(j.at("latency").at("count").as_uint64(), 2u);
    EXPECT_EQ(j.at("errors").at("total").as_uint64(), 2u);
    EXPECT_DOUBLE_EQ(j.at("throughput_msg_s").as_double(), 9.0);
}

}  // namespace
}  // namespace bosun::bench
