#include "report.hpp"

#include <fstream>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace bosun::bench {

namespace json = boost::json;

namespace {

std::optional<double> cpu_between(const ProcSampler& s, int pid, const char* from, const char* to)
{
    auto a = s.at(pid, from);
    auto b = s.at(pid, to);
    if (!a || !b)
        return std::nullopt;
    return b->cpu_seconds - a->cpu_seconds;
}

json::value opt_num(std::optional<double> v)
{
    return v ? json::value(*v) : json::value(nullptr);
}

json::object options_json(const Options& o)
{
    return json::object {
        {"mode", o.mode == Mode::bosh ? "bosh" : "tcp"},
        {"login", o.login == Login::sasl ? "sasl" : "prebind"},
        {"prebind_method",
            o.login == Login::prebind ? json::value(prebind_method_name(o.prebind_method))
                                      : json::value(nullptr)},
        {"url", o.mode == Mode::bosh ? o.url : o.server},
        {"tls", o.tls},
        {"domain", o.domain},
        {"sessions", o.sessions},
        {"arrival", o.arrival},
        {"idle", o.idle},
        {"rate", o.rate},
        {"duration", o.duration},
        {"wait", o.wait},
        {"lazy_connect", o.lazy_connect},
        {"procs", o.procs},
    };
}

}  // namespace

json::value process_figures(const Options& o, const RunStats& s, const ProcSampler& sampler)
{
    json::array out;
    const double sessions = static_cast<double>(s.logged_in);
    for (int pid : sampler.pids()) {
        json::object p {{"pid", pid}};
        auto base = sampler.at(pid, "ramp_start");
        auto loaded = sampler.at(pid, "settle_start");
        auto end = sampler.at(pid, "measure_end");
        p["rss_kib_start"] = base ? json::value(base->rss_kib) : json::value(nullptr);
        p["rss_kib_loaded"] = loaded ? json::value(loaded->rss_kib) : json::value(nullptr);
        p["rss_kib_end"] = end ? json::value(end->rss_kib) : json::value(nullptr);
        if (base && loaded && sessions > 0)
            p["rss_kib_per_session"]
                = (static_cast<double>(loaded->rss_kib) - static_cast<double>(base->rss_kib))
                / sessions;
        else
            p["rss_kib_per_session"] = nullptr;
        const auto ramp = cpu_between(sampler, pid, "ramp_start", "settle_start");
        const auto settle = cpu_between(sampler, pid, "settle_start", "measure_start");
        const auto measure = cpu_between(sampler, pid, "measure_start", "measure_end");
        p["cpu_s_ramp"] = opt_num(ramp);
        p["cpu_s_settle"] = opt_num(settle);
        p["cpu_s_measure"] = opt_num(measure);
        // W1: CPU-seconds per 1,000 sessions per minute while idle.
        if (settle && sessions > 0 && o.idle > 0)
            p["idle_cpu_s_per_1k_sessions_per_min"]
                = *settle / (sessions / 1000.0) / (o.idle / 60.0);
        else
            p["idle_cpu_s_per_1k_sessions_per_min"] = nullptr;
        // W2: CPU-seconds per 1,000 relayed messages.
        if (measure && s.delivered_in_window > 0)
            p["cpu_s_per_1k_msgs"]
                = *measure / (static_cast<double>(s.delivered_in_window) / 1000.0);
        else
            p["cpu_s_per_1k_msgs"] = nullptr;
        out.push_back(p);
    }
    return out;
}

json::value build_report(
    const Options& o, const RunStats& s, const ProcSampler& sampler, const SelfUsage& self)
{
    return json::object {
        {"tool", "bosun-bench"},
        {"version", 1},
        {"options", options_json(o)},
        {"results", s.to_json(false)},
        {"processes", process_figures(o, s, sampler)},
        {"load_generator", self.to_json()},
        {"proc_samples", sampler.to_json()},
    };
}

void print_table(const Options& o, const json::value& report)
{
    const auto& r = report.at("results").as_object();
    auto num = [](const json::value& v) {
        return v.is_null() ? std::string("-") : fmt::format("{:.3f}", v.to_number<double>());
    };
    auto lat = [&](const char* which) {
        const auto& l = r.at(which).as_object();
        return fmt::format("p50 {} ms  p90 {} ms  p99 {} ms  max {} ms  (n={}{})",
            num(l.at("p50_ms")), num(l.at("p90_ms")), num(l.at("p99_ms")), num(l.at("max_ms")),
            l.at("count").to_number<std::uint64_t>(), l.at("exact").as_bool() ? "" : ", histogram");
    };
    fmt::print("bosun-bench  mode={} login={} target={} tls={}\n",
        o.mode == Mode::bosh ? "bosh" : "tcp", login_label(o),
        o.mode == Mode::bosh ? o.url : o.server, o.tls ? "on" : "off");
    fmt::print(
        "  sessions      {} wanted, {} logged in, {} failed, {} alive at end; ramp {:.2f} s\n",
        r.at("sessions_wanted").to_number<std::uint64_t>(),
        r.at("logged_in").to_number<std::uint64_t>(),
        r.at("login_failed").to_number<std::uint64_t>(),
        r.at("alive_at_end").to_number<std::uint64_t>(), r.at("ramp_seconds").to_number<double>());
    fmt::print("  login time    {}\n", lat("login"));
    fmt::print("  messages      sent {}, delivered {}, lost {}, not sent {}, reordered {}\n",
        r.at("sent").to_number<std::uint64_t>(), r.at("delivered").to_number<std::uint64_t>(),
        r.at("lost").to_number<std::uint64_t>(), r.at("not_sent").to_number<std::uint64_t>(),
        r.at("reordered").to_number<std::uint64_t>());
    fmt::print("  throughput    {:.1f} msg/s delivered over {:.2f} s (target {} msg/s)\n",
        r.at("throughput_msg_s").to_number<double>(), r.at("measure_seconds").to_number<double>(),
        o.rate);
    fmt::print("  latency       {}\n", lat("latency"));
    const auto& errs = r.at("errors").as_object();
    fmt::print("  errors        {} total\n", errs.at("total").to_number<std::uint64_t>());
    for (const auto& [phase, kinds] : errs) {
        if (!kinds.is_object())
            continue;
        for (const auto& [kind, n] : kinds.as_object())
            fmt::print("    {:<8} {:<32} {}\n", std::string(phase), std::string(kind),
                n.to_number<std::uint64_t>());
    }
    if (const auto* g = report.as_object().if_contains("load_generator")) {
        const auto& l = g->as_object();
        SelfUsage self;
        self.cpu_seconds = l.at("cpu_s").to_number<double>();
        self.wall_seconds = l.at("wall_s").to_number<double>();
        self.peak_rss_kib = l.at("peak_rss_kib").to_number<std::uint64_t>();
        self.processes = l.at("processes").to_number<std::uint32_t>();
        fmt::print("  {}\n", self.line());
    }
    for (const auto& pv : report.at("processes").as_array()) {
        const auto& p = pv.as_object();
        fmt::print("  pid {:<8} RSS {} -> {} -> {} KiB, {} KiB/session; CPU s ramp {} settle {} "
                   "measure {}\n",
            p.at("pid").to_number<int>(), num(p.at("rss_kib_start")), num(p.at("rss_kib_loaded")),
            num(p.at("rss_kib_end")), num(p.at("rss_kib_per_session")), num(p.at("cpu_s_ramp")),
            num(p.at("cpu_s_settle")), num(p.at("cpu_s_measure")));
        fmt::print(
            "               idle CPU-s per 1k sessions per min {}; CPU-s per 1k messages {}\n",
            num(p.at("idle_cpu_s_per_1k_sessions_per_min")), num(p.at("cpu_s_per_1k_msgs")));
    }
}

bool write_json(const std::string& file, const json::value& report, std::string& error)
{
    std::ofstream out(file, std::ios::trunc);
    if (!out) {
        error = fmt::format("cannot write {}", file);
        return false;
    }
    out << json::serialize(report) << '\n';
    out.close();
    if (!out) {
        error = fmt::format("cannot write {}", file);
        return false;
    }
    return true;
}

}  // namespace bosun::bench
