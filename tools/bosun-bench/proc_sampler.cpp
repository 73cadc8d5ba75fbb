#include "proc_sampler.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace bosun::bench {

namespace json = boost::json;

namespace {

std::optional<std::uint64_t> read_rss_kib(int pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            std::istringstream fields(line.substr(6));
            std::uint64_t kib = 0;
            if (fields >> kib)
                return kib;
        }
    }
    return std::nullopt;
}

std::optional<double> read_cpu_seconds(int pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name (field 2) may hold spaces and parentheses: count
    // fields from the last ')'. utime and stime are fields 14 and 15.
    const auto close = all.rfind(')');
    if (close == std::string::npos)
        return std::nullopt;
    std::istringstream fields(all.substr(close + 1));
    std::string f;
    std::uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14)
            utime = std::stoull(f);
        if (i == 15)
            stime = std::stoull(f);
    }
    if (!fields)
        return std::nullopt;
    const long hz = sysconf(_SC_CLK_TCK);
    return static_cast<double>(utime + stime) / static_cast<double>(hz > 0 ? hz : 100);
}

}  // namespace

std::optional<ProcReading> read_proc(int pid)
{
    try {
        auto rss = read_rss_kib(pid);
        auto cpu = read_cpu_seconds(pid);
        if (!rss || !cpu)
            return std::nullopt;
        return ProcReading {*rss, *cpu};
    } catch (...) {
        return std::nullopt;  // a malformed field: report the process as unreadable
    }
}

void ProcSampler::mark(const std::string& label, double t)
{
    for (int pid : pids_)
        marks_.push_back({label, t, pid, read_proc(pid)});
}

void ProcSampler::sample(double t)
{
    for (int pid : pids_) {
        if (series_.size() >= max_series)
            return;
        series_.push_back({"", t, pid, read_proc(pid)});
    }
}

std::optional<ProcReading> ProcSampler::at(int pid, const std::string& label) const
{
    for (const auto& p : marks_)
        if (p.pid == pid && p.label == label)
            return p.r;
    return std::nullopt;
}

json::value ProcSampler::to_json() const
{
    auto point = [](const Point& p) {
        json::object o {{"t", p.t}, {"pid", p.pid}};
        if (p.r) {
            o["rss_kib"] = p.r->rss_kib;
            o["cpu_s"] = p.r->cpu_seconds;
        } else {
            o["unreadable"] = true;
        }
        if (!p.label.empty())
            o["label"] = p.label;
        return o;
    };
    json::array marks, series;
    for (const auto& p : marks_)
        marks.push_back(point(p));
    for (const auto& p : series_)
        series.push_back(point(p));
    return json::object {{"marks", marks}, {"series", series}};
}

void SelfUsage::add(const rusage& r)
{
    auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    cpu_seconds += seconds(r.ru_utime) + seconds(r.ru_stime);
    peak_rss_kib += static_cast<std::uint64_t>(r.ru_maxrss);  // KiB on Linux
    ++processes;
}

double SelfUsage::cpu_percent_of_one_core() const
{
    return wall_seconds > 0 ? 100.0 * cpu_seconds / wall_seconds : 0.0;
}

json::value SelfUsage::to_json() const
{
    return json::object {
        {"cpu_s", cpu_seconds},
        {"wall_s", wall_seconds},
        {"cpu_pct_of_one_core", cpu_percent_of_one_core()},
        {"peak_rss_kib", peak_rss_kib},
        {"processes", processes},
    };
}

std::string SelfUsage::line() const
{
    const std::string sum
        = processes > 1 ? fmt::format(" (sum of {} processes' peaks)", processes) : "";
    return fmt::format("load generator: {:.2f} CPU-s ({:.0f} % of one core over {:.2f} s), "
                       "RSS {:.1f} MiB{}",
        cpu_seconds, cpu_percent_of_one_core(), wall_seconds,
        static_cast<double>(peak_rss_kib) / 1024.0, sum);
}

}  // namespace bosun::bench
