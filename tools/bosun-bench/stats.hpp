#pragma once
// Measurements: a log-linear histogram (mergeable across worker processes),
// bounded error counts, and the per-run counters.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace bosun::bench {

// Values in nanoseconds, 64 sub-buckets per power of two: under 1.6 %
// relative error, 3,776 counters, any value up to 2^63.
class Histogram {
public:
    static constexpr int sub_bits = 6;
    static constexpr int buckets = (64 - sub_bits) * (1 << sub_bits) + (1 << sub_bits);

    void record(std::uint64_t v);
    void merge(const Histogram& other);
    [[nodiscard]] std::uint64_t count() const { return count_; }
    [[nodiscard]] std::uint64_t max() const { return max_; }
    [[nodiscard]] std::uint64_t min() const { return count_ ? min_ : 0; }
    [[nodiscard]] double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
    // Upper bound of the bucket holding the q-quantile (max for q = 1).
    [[nodiscard]] std::uint64_t quantile(double q) const;

    [[nodiscard]] boost::json::value to_json() const;  // sparse [[index, count], ...]
    bool from_json(const boost::json::value& v);

private:
    static int index_of(std::uint64_t v);
    static std::uint64_t upper_of(int index);

    std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(buckets, 0);
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t min_ = UINT64_MAX;
};

// Latency figures: the histogram always, exact samples up to a bound so that
// small runs report exact percentiles.
class Latencies {
public:
    explicit Latencies(std::size_t max_samples = 0)
        : max_samples_(max_samples)
    {
    }
    void record(std::uint64_t ns);
    void merge(const Latencies& other);
    [[nodiscard]] std::uint64_t count() const { return hist_.count(); }
    [[nodiscard]] std::uint64_t quantile(double q) const;  // exact while every sample is kept
    [[nodiscard]] std::uint64_t max() const { return hist_.max(); }
    [[nodiscard]] double mean() const { return hist_.mean(); }
    [[nodiscard]] bool exact() const { return samples_.size() == hist_.count(); }
    [[nodiscard]] boost::json::value to_json(bool with_histogram) const;
    bool from_json(const boost::json::value& v);

private:
    Histogram hist_;
    std::vector<std::uint64_t> samples_;
    std::size_t max_samples_;
    mutable bool sorted_ = true;
};

// Errors by kind ("http_503", "terminate:policy-violation", "timeout", ...).
// At most max_kinds distinct kinds; the rest count as "other".
class ErrorCounts {
public:
    static constexpr std::size_t max_kinds = 64;
    void add(const std::string& kind, std::uint64_t n = 1);
    void merge(const ErrorCounts& other);
    [[nodiscard]] std::uint64_t total() const;
    [[nodiscard]] const std::map<std::string, std::uint64_t>& kinds() const { return kinds_; }
    [[nodiscard]] boost::json::value to_json() const;
    void from_json(const boost::json::value& v);

private:
    std::map<std::string, std::uint64_t> kinds_;
};

enum class Phase { ramp, settle, measure, drain, done };
const char* phase_name(Phase p);

// Everything one worker measures; merged in the parent with --procs.
struct RunStats {
    std::uint64_t sessions_wanted = 0;
    std::uint64_t logged_in = 0;
    std::uint64_t login_failed = 0;
    std::uint64_t alive_at_end = 0;
    double ramp_seconds = 0;
    Latencies login {0};
    Latencies latency {0};
    std::uint64_t sent = 0;  // messages sent in the measure phase
    std::uint64_t delivered = 0;  // of those, received
    std::uint64_t not_sent = 0;  // scheduled while a peer was down or its queue full
    std::uint64_t reordered = 0;  // arrived with a sequence not above the last one
    double measure_seconds = 0;  // the measure phase as it ran
    std::uint64_t delivered_in_window = 0;  // received before the measure phase ended
    std::array<ErrorCounts, 5> errors;  // by Phase

    [[nodiscard]] boost::json::value to_json(bool with_histograms) const;
    bool from_json(const boost::json::value& v);
    void merge(const RunStats& other);
};

}  // namespace bosun::bench
