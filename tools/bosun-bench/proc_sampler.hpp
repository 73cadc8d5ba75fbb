#pragma once
// Resident memory and CPU time of target processes, from /proc/<pid>/status
// (VmRSS) and /proc/<pid>/stat (utime + stime).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace bosun::bench {

struct ProcReading {
    std::uint64_t rss_kib = 0;
    double cpu_seconds = 0;  // user + system, since the process started
};

std::optional<ProcReading> read_proc(int pid);

// Named snapshots ("ramp_start", "measure_end", ...) and a bounded series
// of periodic samples, per pid.
class ProcSampler {
public:
    static constexpr std::size_t max_series = 100'000;

    explicit ProcSampler(std::vector<int> pids)
        : pids_(std::move(pids))
    {
    }
    [[nodiscard]] const std::vector<int>& pids() const { return pids_; }
    // Reads every pid now; t is seconds since the run started.
    void mark(const std::string& label, double t);
    void sample(double t);
    [[nodiscard]] std::optional<ProcReading> at(int pid, const std::string& label) const;
    [[nodiscard]] boost::json::value to_json() const;

private:
    struct Point {
        std::string label;  // empty for periodic samples
        double t = 0;
        int pid = 0;
        std::optional<ProcReading> r;
    };
    std::vector<int> pids_;
    std::vector<Point> marks_;
    std::vector<Point> series_;
};

}  // namespace bosun::bench
