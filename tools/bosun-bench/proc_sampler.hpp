#pragma once
// Resident memory and CPU time of target processes, from /proc/<pid>/status
// (VmRSS) and /proc/<pid>/stat (utime + stime); and bosun-bench's own, from
// getrusage/wait4 (SelfUsage).

#include <sys/resource.h>

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

// CPU and peak RSS of bosun-bench itself, every process of the run: a
// reader can tell whether the load generator was the bottleneck.
struct SelfUsage {
    double cpu_seconds = 0;  // user + system
    double wall_seconds = 0;  // the whole run, start to report
    std::uint64_t peak_rss_kib = 0;  // sum of each process's peak (ru_maxrss)
    std::uint32_t processes = 0;

    // Adds one process: the parent's RUSAGE_SELF or a worker's from wait4().
    void add(const rusage& r);
    [[nodiscard]] double cpu_percent_of_one_core() const;
    [[nodiscard]] boost::json::value to_json() const;
    // "load generator: 1.20 CPU-s (40 % of one core over 3.00 s), RSS 12.5 MiB"
    [[nodiscard]] std::string line() const;
};

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
