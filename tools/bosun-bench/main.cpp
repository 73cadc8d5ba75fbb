// bosun-bench: a BOSH / XMPP c2s load generator (docs/benchmarks.md).
//
//   bosun-bench --url http://127.0.0.1:5280/http-bind --sessions 1000 --idle 60 --rate 200 --pid
//   $(pidof bosun) bosun-bench --mode tcp --server 127.0.0.1:5222 --sessions 1000 --rate 200
//
// One io_context per process. With --procs K the sessions (in pairs) are
// split over K forked workers; the parent holds the phase barriers, samples
// /proc and merges the workers' statistics.

#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "options.hpp"
#include "report.hpp"
#include "runner.hpp"

namespace {

using namespace bosun::bench;
namespace json = boost::json;

constexpr rlim_t fd_margin = 64;
constexpr const char* labels[] = {"ramp_start", "settle_start", "measure_start", "measure_end"};

// Descriptors one process needs for `sessions` sessions: BOSH holds two
// keep-alive connections per session (plus one per prebind call), TCP one.
rlim_t fds_needed(const Options& o, std::uint32_t sessions)
{
    rlim_t per = o.mode == Mode::bosh ? 2 : 1;
    rlim_t extra = o.login == Login::prebind ? o.max_logins_in_flight : 0;
    return static_cast<rlim_t>(sessions) * per + extra + fd_margin;
}

// Raises the soft NOFILE limit to what is needed (up to the hard limit);
// false, with a message, when the largest worker still does not fit.
bool check_fd_limit(const Options& o)
{
    const std::uint32_t pairs = o.sessions / 2;
    const std::uint32_t largest = 2 * ((pairs + o.procs - 1) / o.procs);
    const rlim_t need = fds_needed(o, largest);
    rlimit lim {};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return true;
    if (lim.rlim_cur < need && lim.rlim_max >= need) {
        rlimit raised = lim;
        raised.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            return true;
    }
    if (lim.rlim_cur >= need)
        return true;
    const rlim_t cap = std::max(lim.rlim_cur, lim.rlim_max);
    const rlim_t per_session = o.mode == Mode::bosh ? 2 : 1;
    const rlim_t fit
        = cap > fd_margin + 2 * per_session ? (cap - fd_margin) / per_session / 2 * 2 : 2;
    const auto procs
        = static_cast<unsigned long>((o.sessions + fit - 1) / std::max<rlim_t>(fit, 1));
    fmt::print(stderr,
        "bosun-bench: {} sessions in {} process(es) need {} file descriptors per process ({} per "
        "{} session + {}),\n"
        "but the open-file limit is {} (hard {}). Use --procs {} or more (at most ~{} sessions per "
        "process),\n"
        "or raise the limit (ulimit -n).\n",
        o.sessions, o.procs, static_cast<unsigned long>(need),
        static_cast<unsigned long>(per_session), o.mode == Mode::bosh ? "BOSH" : "TCP",
        static_cast<unsigned long>(fd_margin), static_cast<unsigned long>(lim.rlim_cur),
        static_cast<unsigned long>(lim.rlim_max), procs, static_cast<unsigned long>(fit));
    return false;
}

bool write_all(int fd, std::string_view data)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

struct Child {
    pid_t pid = -1;
    int up = -1;  // child -> parent: barrier labels, then the result
    int down = -1;  // parent -> child: 'g' releases a barrier
    std::string in;  // bytes read from up
    bool eof = false;
};

[[noreturn]] void run_child(
    const Options& o, std::uint32_t first, std::uint32_t count, double rate, int up, int down)
{
    Barrier barrier;
    barrier.arrive_and_wait = [up, down](const char* label) {
        write_all(up, std::string(label) + "\n");
        char c = 0;
        while (::read(down, &c, 1) < 0 && errno == EINTR) { }
    };
    RunStats s = run_worker(o, first, count, rate, nullptr, barrier);
    write_all(up, "RESULT " + json::serialize(s.to_json(true)) + "\n");
    std::fflush(nullptr);
    _exit(0);
}

// Reads what is available from each child; samples /proc while waiting.
void pump_children(
    std::vector<Child>& kids, ProcSampler& sampler, Clock::time_point t0, double interval)
{
    std::vector<pollfd> fds;
    for (auto& k : kids)
        if (!k.eof)
            fds.push_back({k.up, POLLIN, 0});
    if (fds.empty())
        return;
    const int rc = ::poll(fds.data(), fds.size(), static_cast<int>(interval * 1000));
    if (rc == 0) {
        sampler.sample(std::chrono::duration<double>(Clock::now() - t0).count());
        return;
    }
    for (auto& k : kids) {
        if (k.eof)
            continue;
        for (const auto& p : fds) {
            if (p.fd != k.up || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[65536];
            const ssize_t n = ::read(k.up, buf, sizeof buf);
            if (n > 0)
                k.in.append(buf, static_cast<std::size_t>(n));
            else if (n == 0 || errno != EINTR)
                k.eof = true;
        }
    }
}

// `workers` gets each worker's CPU and peak RSS (wait4).
int run_forked(const Options& o, ProcSampler& sampler, RunStats& merged, SelfUsage& workers)
{
    const std::uint32_t pairs = o.sessions / 2;
    std::vector<Child> kids(o.procs);
    std::uint32_t first = o.user_start;
    std::fflush(nullptr);
    for (std::uint32_t i = 0; i < o.procs; ++i) {
        const std::uint32_t my_pairs = pairs / o.procs + (i < pairs % o.procs ? 1 : 0);
        int up[2], down[2];
        if (::pipe(up) != 0 || ::pipe(down) != 0) {
            fmt::print(stderr, "bosun-bench: pipe failed\n");
            return 2;
        }
        const pid_t pid = ::fork();
        if (pid < 0) {
            fmt::print(stderr, "bosun-bench: fork failed\n");
            return 2;
        }
        const double rate = o.rate * my_pairs / pairs;
        if (pid == 0) {
            ::close(up[0]);
            ::close(down[1]);
            for (std::uint32_t j = 0; j < i; ++j) {
                ::close(kids[j].up);
                ::close(kids[j].down);
            }
            // This worker's share of the ramp, like its share of the rate:
            // K workers together log in at --arrival, with at most
            // --max-logins in flight, not K times that.
            Options mine = o;
            mine.arrival = o.arrival * my_pairs / pairs;
            mine.max_logins_in_flight = std::max<std::uint32_t>(
                1, static_cast<std::uint32_t>(
                       std::uint64_t {o.max_logins_in_flight} * my_pairs / pairs));
            run_child(mine, first, 2 * my_pairs, rate, up[1], down[0]);
        }
        ::close(up[1]);
        ::close(down[0]);
        kids[i] = Child {pid, up[0], down[1], {}, false};
        first += 2 * my_pairs;
    }
    const auto t0 = Clock::now();
    for (const char* label : labels) {
        // A barrier: every live worker has written the label line.
        for (;;) {
            bool all = true;
            for (auto& k : kids)
                if (!k.eof && k.in.find(std::string(label) + "\n") == std::string::npos)
                    all = false;
            if (all)
                break;
            pump_children(kids, sampler, t0, o.sample_interval);
        }
        sampler.mark(label, std::chrono::duration<double>(Clock::now() - t0).count());
        for (auto& k : kids)
            if (!k.eof)
                write_all(k.down, "g");
    }
    for (;;) {
        bool all = true;
        for (auto& k : kids)
            all = all && k.eof;
        if (all)
            break;
        pump_children(kids, sampler, t0, o.sample_interval);
    }
    int rc = 0;
    for (auto& k : kids) {
        int status = 0;
        rusage usage {};
        if (::wait4(k.pid, &status, 0, &usage) == k.pid)
            workers.add(usage);
        ::close(k.up);
        ::close(k.down);
        const auto at = k.in.find("RESULT ");
        RunStats s;
        boost::system::error_code ec;
        auto v = at == std::string::npos ? json::value() : json::parse(k.in.substr(at + 7), ec);
        if (at == std::string::npos || ec || !s.from_json(v)) {
            fmt::print(
                stderr, "bosun-bench: worker {} gave no result (status {})\n", k.pid, status);
            merged.errors[static_cast<std::size_t>(Phase::done)].add("worker_failed");
            rc = 1;
            continue;
        }
        merged.merge(s);
    }
    return rc;
}

}  // namespace

int main(int argc, char** argv)
{
    Options o;
    std::string error;
    if (!parse_options(argc, argv, o, error)) {
        fmt::print(stderr, "bosun-bench: {}\n{}", error, usage_text);
        return 2;
    }
    if (o.help) {
        fmt::print("{}", usage_text);
        return 0;
    }
    if (!validate_options(o, error)) {
        fmt::print(stderr, "bosun-bench: {}\n", error);
        return 2;
    }
    if (!check_fd_limit(o))
        return 2;
    ::signal(SIGPIPE, SIG_IGN);
    const auto started = Clock::now();

    ProcSampler sampler(o.pids);
    SelfUsage self;
    RunStats stats;
    int rc = 0;
    try {
        if (o.procs == 1) {
            Barrier none;
            stats = run_worker(o, o.user_start, o.sessions, o.rate, &sampler, none);
        } else {
            stats.latency = Latencies(o.max_samples);
            stats.login = Latencies(o.max_samples);
            rc = run_forked(o, sampler, stats, self);
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "bosun-bench: {}\n", e.what());
        return 2;
    }
    rusage own {};
    ::getrusage(RUSAGE_SELF, &own);
    self.add(own);
    self.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    const auto report = build_report(o, stats, sampler, self);
    print_table(o, report);
    if (!o.json_file.empty() && !write_json(o.json_file, report, error)) {
        fmt::print(stderr, "bosun-bench: {}\n", error);
        return 2;
    }
    std::uint64_t errors = 0;
    for (const auto& e : stats.errors)
        errors += e.total();
    return rc != 0 ? rc : (errors > 0 || stats.login_failed > 0 ? 1 : 0);
}
