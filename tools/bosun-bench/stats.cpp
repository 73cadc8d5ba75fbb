#include "stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include <boost/json.hpp>

namespace bosun::bench {

namespace json = boost::json;

int Histogram::index_of(std::uint64_t v)
{
    constexpr std::uint64_t linear = 1u << (sub_bits + 1);
    if (v < linear)
        return static_cast<int>(v);
    const int msb = 63 - std::countl_zero(v);
    const int e = msb - sub_bits;
    return (e << sub_bits) + static_cast<int>(v >> e);
}

std::uint64_t Histogram::upper_of(int index)
{
    constexpr int linear = 1 << (sub_bits + 1);
    if (index < linear)
        return static_cast<std::uint64_t>(index);
    const int e = (index >> sub_bits) - 1;
    const std::uint64_t mantissa = static_cast<std::uint64_t>(index - (e << sub_bits));
    return ((mantissa + 1) << e) - 1;
}

void Histogram::record(std::uint64_t v)
{
    ++counts_[static_cast<std::size_t>(index_of(v))];
    ++count_;
    sum_ += v;
    max_ = std::max(max_, v);
    min_ = std::min(min_, v);
}

void Histogram::merge(const Histogram& other)
{
    for (std::size_t i = 0; i < counts_.size(); ++i)
        counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
    min_ = std::min(min_, other.min_);
}

std::uint64_t Histogram::quantile(double q) const
{
    if (count_ == 0)
        return 0;
    if (q >= 1)
        return max_;
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= std::max<std::uint64_t>(rank, 1))
            return std::min(upper_of(static_cast<int>(i)), max_);
    }
    return max_;
}

json::value Histogram::to_json() const
{
    json::array bins;
    for (std::size_t i = 0; i < counts_.size(); ++i)
        if (counts_[i])
            bins.push_back(json::array {i, counts_[i]});
    return json::object {
        {"count", count_}, {"sum", sum_}, {"max", max_}, {"min", min()}, {"bins", bins}};
}

bool Histogram::from_json(const json::value& v)
{
    const auto* o = v.if_object();
    if (!o)
        return false;
    *this = Histogram {};
    const auto* bins = o->contains("bins") ? o->at("bins").if_array() : nullptr;
    if (!bins)
        return false;
    for (const auto& b : *bins) {
        const auto& pair = b.as_array();
        const auto i = pair.at(0).to_number<std::size_t>();
        if (i >= counts_.size())
            return false;
        counts_[i] += pair.at(1).to_number<std::uint64_t>();
    }
    count_ = o->at("count").to_number<std::uint64_t>();
    sum_ = o->at("sum").to_number<std::uint64_t>();
    max_ = o->at("max").to_number<std::uint64_t>();
    min_ = count_ ? o->at("min").to_number<std::uint64_t>() : UINT64_MAX;
    return true;
}

void Latencies::record(std::uint64_t ns)
{
    hist_.record(ns);
    if (samples_.size() < max_samples_) {
        samples_.push_back(ns);
        sorted_ = false;
    }
}

void Latencies::merge(const Latencies& other)
{
    // Exact samples survive a merge only while both sides kept all of theirs.
    const bool keep
        = exact() && other.exact() && samples_.size() + other.samples_.size() <= max_samples_;
    hist_.merge(other.hist_);
    if (keep) {
        samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
        sorted_ = false;
    } else {
        samples_.clear();
        samples_.shrink_to_fit();
    }
}

std::uint64_t Latencies::quantile(double q) const
{
    if (!exact() || samples_.empty())
        return hist_.quantile(q);
    auto& s = const_cast<std::vector<std::uint64_t>&>(samples_);
    if (!sorted_) {
        std::sort(s.begin(), s.end());
        sorted_ = true;
    }
    if (q >= 1)
        return s.back();
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(s.size())));
    return s[std::max<std::size_t>(rank, 1) - 1];
}

json::value Latencies::to_json(bool with_histogram) const
{
    auto ms = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e6; };
    json::object o {
        {"count", count()},
        {"exact", exact()},
        {"p50_ms", ms(quantile(0.50))},
        {"p90_ms", ms(quantile(0.90))},
        {"p99_ms", ms(quantile(0.99))},
        {"max_ms", ms(max())},
        {"mean_ms", mean() / 1e6},
    };
    if (with_histogram) {
        o["histogram"] = hist_.to_json();
        if (exact())
            o["samples"] = json::value_from(samples_);
    }
    return o;
}

bool Latencies::from_json(const json::value& v)
{
    const auto* o = v.if_object();
    if (!o || !o->contains("histogram") || !hist_.from_json(o->at("histogram")))
        return false;
    samples_.clear();
    if (const auto* s = o->if_contains("samples"))
        samples_ = json::value_to<std::vector<std::uint64_t>>(*s);
    max_samples_ = std::max(max_samples_, samples_.size());
    sorted_ = false;
    return true;
}

void ErrorCounts::add(const std::string& kind, std::uint64_t n)
{
    if (kinds_.size() >= max_kinds && !kinds_.contains(kind)) {
        kinds_["other"] += n;
        return;
    }
    kinds_[kind] += n;
}

void ErrorCounts::merge(const ErrorCounts& other)
{
    for (const auto& [k, n] : other.kinds_)
        add(k, n);
}

std::uint64_t ErrorCounts::total() const
{
    std::uint64_t t = 0;
    for (const auto& [k, n] : kinds_)
        t += n;
    return t;
}

json::value ErrorCounts::to_json() const
{
    json::object o;
    for (const auto& [k, n] : kinds_)
        o[k] = n;
    return o;
}

void ErrorCounts::from_json(const json::value& v)
{
    if (const auto* o = v.if_object())
        for (const auto& [k, n] : *o)
            add(std::string(k), n.to_number<std::uint64_t>());
}

const char* phase_name(Phase p)
{
    switch (p) {
    case Phase::ramp:
        return "ramp";
    case Phase::settle:
        return "settle";
    case Phase::measure:
        return "measure";
    case Phase::drain:
        return "drain";
    case Phase::done:
        return "done";
    }
    return "?";
}

json::value RunStats::to_json(bool with_histograms) const
{
    json::object errs;
    std::uint64_t total = 0;
    for (std::size_t p = 0; p < errors.size(); ++p) {
        errs[phase_name(static_cast<Phase>(p))] = errors[p].to_json();
        total += errors[p].total();
    }
    errs["total"] = total;
    const double secs = measure_seconds > 0 ? measure_seconds : 1;
    return json::object {
        {"sessions_wanted", sessions_wanted},
        {"logged_in", logged_in},
        {"login_failed", login_failed},
        {"alive_at_end", alive_at_end},
        {"ramp_seconds", ramp_seconds},
        {"login", login.to_json(with_histograms)},
        {"latency", latency.to_json(with_histograms)},
        {"sent", sent},
        {"delivered", delivered},
        {"lost", sent - std::min(sent, delivered)},
        {"not_sent", not_sent},
        {"reordered", reordered},
        {"measure_seconds", measure_seconds},
        {"delivered_in_window", delivered_in_window},
        {"throughput_msg_s", static_cast<double>(delivered_in_window) / secs},
        {"errors", errs},
    };
}

bool RunStats::from_json(const json::value& v)
{
    const auto* o = v.if_object();
    if (!o)
        return false;
    auto u = [&](const char* k) { return o->at(k).to_number<std::uint64_t>(); };
    sessions_wanted = u("sessions_wanted");
    logged_in = u("logged_in");
    login_failed = u("login_failed");
    alive_at_end = u("alive_at_end");
    ramp_seconds = o->at("ramp_seconds").to_number<double>();
    sent = u("sent");
    delivered = u("delivered");
    not_sent = u("not_sent");
    reordered = u("reordered");
    measure_seconds = o->at("measure_seconds").to_number<double>();
    delivered_in_window = u("delivered_in_window");
    if (!login.from_json(o->at("login")) || !latency.from_json(o->at("latency")))
        return false;
    const auto& errs = o->at("errors").as_object();
    for (std::size_t p = 0; p < errors.size(); ++p)
        if (const auto* e = errs.if_contains(phase_name(static_cast<Phase>(p))))
            errors[p].from_json(*e);
    return true;
}

void RunStats::merge(const RunStats& other)
{
    sessions_wanted += other.sessions_wanted;
    logged_in += other.logged_in;
    login_failed += other.login_failed;
    alive_at_end += other.alive_at_end;
    ramp_seconds = std::max(ramp_seconds, other.ramp_seconds);
    login.merge(other.login);
    latency.merge(other.latency);
    sent += other.sent;
    delivered += other.delivered;
    not_sent += other.not_sent;
    reordered += other.reordered;
    measure_seconds = std::max(measure_seconds, other.measure_seconds);
    delivered_in_window += other.delivered_in_window;
    for (std::size_t p = 0; p < errors.size(); ++p)
        errors[p].merge(other.errors[p]);
}

}  // namespace bosun::bench
