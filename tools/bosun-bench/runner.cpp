#include "runner.hpp"

#include <atomic>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "bosh_client.hpp"
#include "tcp_client.hpp"

namespace bosun::bench {

namespace {

using net::as_tuple;
using net::use_awaitable;

double seconds_since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

net::awaitable<void> sleep_until(Clock::time_point t)
{
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_at(t);
    co_await timer.async_wait(as_tuple(use_awaitable));
}

net::awaitable<void> sleep_for(double seconds)
{
    co_await sleep_until(Clock::now()
        + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
}

void progress(const Options& o, const std::string& line)
{
    if (!o.quiet)
        fmt::print(stderr, "bosun-bench[{}]: {}\n", getpid(), line);
}

struct Worker {
    Context& ctx;
    std::vector<std::shared_ptr<Client>> clients;
    std::vector<std::uint64_t> next_seq;
    ProcSampler* sampler;
    const Barrier& barrier;
    double rate;
    Clock::time_point t0 = Clock::now();
    bool finished = false;

    // Runs the (blocking) barrier on a thread so the sessions keep polling.
    net::awaitable<void> phase_boundary(const char* label)
    {
        if (sampler)
            sampler->mark(label, seconds_since(t0));
        if (!barrier.arrive_and_wait)
            co_return;
        std::atomic<bool> done {false};
        std::thread waiter([&] {
            barrier.arrive_and_wait(label);
            done = true;
        });
        while (!done)
            co_await sleep_for(0.005);
        waiter.join();
    }

    net::awaitable<void> sample_loop()
    {
        while (!finished && sampler) {
            sampler->sample(seconds_since(t0));
            co_await sleep_for(ctx.opt.sample_interval);
        }
    }

    net::awaitable<void> ramp();
    net::awaitable<void> measure();
    net::awaitable<void> drain();
    net::awaitable<void> run();
};

net::awaitable<void> Worker::ramp()
{
    const auto& o = ctx.opt;
    const auto start = Clock::now();
    std::size_t in_flight = 0, done = 0;
    for (std::size_t i = 0; i < clients.size(); ++i) {
        co_await sleep_until(start
            + std::chrono::duration_cast<Clock::duration>(
                std::chrono::duration<double>(static_cast<double>(i) / o.arrival)));
        while (in_flight >= o.max_logins_in_flight)
            co_await sleep_for(0.002);
        ++in_flight;
        auto client = clients[i];
        net::co_spawn(
            ctx.io,
            [this, client, &in_flight, &done]() -> net::awaitable<void> {
                const auto t = now_ns();
                if (co_await client->login()) {
                    ++ctx.stats.logged_in;
                    ctx.stats.login.record(now_ns() - t);
                } else {
                    ++ctx.stats.login_failed;
                }
                --in_flight;
                ++done;
            },
            [this, &in_flight, &done](std::exception_ptr e) {
                // Whatever escaped a login still ends it, so the ramp ends.
                if (e) {
                    ctx.error("exception");
                    ++ctx.stats.login_failed;
                    --in_flight;
                    ++done;
                }
            });
    }
    while (done < clients.size())
        co_await sleep_for(0.01);
    ctx.stats.ramp_seconds = seconds_since(start);
}

// The central scheduler: message k goes at start + k/rate, pairs taken in
// turn and the direction alternating, so the load is spread evenly.
net::awaitable<void> Worker::measure()
{
    const auto& o = ctx.opt;
    const std::size_t pairs = clients.size() / 2;
    const auto start = Clock::now();
    ctx.measure_end = start
        + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
    ctx.phase = Phase::measure;
    if (rate <= 0 || pairs == 0) {
        co_await sleep_until(ctx.measure_end);
    } else {
        const double interval = 1.0 / rate;
        std::uint64_t k = 0;
        for (;;) {
            const auto due = start
                + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(static_cast<double>(k) * interval));
            if (due >= ctx.measure_end)
                break;
            if (due > Clock::now())
                co_await sleep_until(due);
            const std::size_t pair = k % pairs;
            const std::size_t dir = (k / pairs) % 2;
            auto& from = clients[2 * pair + dir];
            auto& to = clients[2 * pair + 1 - dir];
            const std::size_t sender = 2 * pair + dir;
            if (from->alive() && to->alive()
                && from->send_message(to->jid(), make_body(next_seq[sender] + 1, now_ns()))) {
                ++next_seq[sender];
                ++ctx.stats.sent;
            } else {
                ++ctx.stats.not_sent;
            }
            ++k;
        }
        co_await sleep_until(ctx.measure_end);
    }
    ctx.stats.measure_seconds = seconds_since(start);
}

net::awaitable<void> Worker::drain()
{
    ctx.phase = Phase::drain;
    const auto until = Clock::now()
        + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(ctx.opt.drain));
    while (ctx.stats.delivered < ctx.stats.sent && Clock::now() < until)
        co_await sleep_for(0.01);
    const auto lost = ctx.stats.sent - std::min(ctx.stats.sent, ctx.stats.delivered);
    if (lost)
        ctx.stats.errors[static_cast<std::size_t>(Phase::measure)].add("lost", lost);
}

net::awaitable<void> Worker::run()
{
    const auto& o = ctx.opt;
    co_await phase_boundary("ramp_start");
    progress(o, fmt::format("ramp: {} sessions at {}/s", clients.size(), o.arrival));
    co_await ramp();
    progress(o,
        fmt::format("ramp done in {:.2f} s: {} logged in, {} failed", ctx.stats.ramp_seconds,
            ctx.stats.logged_in, ctx.stats.login_failed));
    ctx.phase = Phase::settle;
    co_await phase_boundary("settle_start");
    if (o.idle > 0) {
        progress(o, fmt::format("settle: idle {} s", o.idle));
        co_await sleep_for(o.idle);
    }
    co_await phase_boundary("measure_start");
    progress(o, fmt::format("measure: {} msg/s for {} s", rate, o.duration));
    co_await measure();
    co_await phase_boundary("measure_end");
    co_await drain();
    ctx.phase = Phase::done;
    for (const auto& c : clients)
        ctx.stats.alive_at_end += c->alive() ? 1 : 0;
    progress(o,
        fmt::format(
            "done: sent {}, delivered {}; closing sessions", ctx.stats.sent, ctx.stats.delivered));
    std::size_t closed = 0;
    for (const auto& c : clients) {
        net::co_spawn(
            ctx.io,
            [c, &closed]() -> net::awaitable<void> {
                co_await c->close();
                ++closed;
            },
            [](std::exception_ptr) {});
    }
    const auto until = Clock::now() + std::chrono::seconds(5);
    while (closed < clients.size() && Clock::now() < until)
        co_await sleep_for(0.01);
    finished = true;
}

}  // namespace

void Context::on_message(std::size_t to, std::string_view body, std::uint64_t arrival_ns)
{
    // "bb1 <seq> <sent ns>"
    if (!body.starts_with("bb1 "))
        return;
    body.remove_prefix(4);
    const auto space = body.find(' ');
    if (space == std::string_view::npos)
        return;
    const std::uint64_t seq
        = std::strtoull(std::string(body.substr(0, space)).c_str(), nullptr, 10);
    const std::uint64_t sent
        = std::strtoull(std::string(body.substr(space + 1)).c_str(), nullptr, 10);
    if (phase != Phase::measure && phase != Phase::drain)
        return;
    ++stats.delivered;
    if (phase == Phase::measure)
        ++stats.delivered_in_window;
    stats.latency.record(arrival_ns > sent ? arrival_ns - sent : 0);
    if (to < last_seq.size()) {
        if (seq <= last_seq[to])
            ++stats.reordered;
        else
            last_seq[to] = seq;
    }
}

std::string make_body(std::uint64_t seq, std::uint64_t sent_ns)
{
    return fmt::format("bb1 {} {}", seq, sent_ns);
}

RunStats run_worker(const Options& opt, std::uint32_t first_user, std::uint32_t count, double rate,
    ProcSampler* sampler, const Barrier& barrier)
{
    net::io_context io(1);
    Context ctx(io, opt);
    ctx.stats.sessions_wanted = count;
    ctx.stats.latency = Latencies(opt.max_samples);
    ctx.stats.login = Latencies(opt.max_samples);
    ctx.last_seq.assign(count, 0);
    if (!opt.ca_file.empty()) {
        ctx.ssl_ctx.set_verify_mode(ssl::verify_peer);
        error_code ec;
        ctx.ssl_ctx.load_verify_file(opt.ca_file, ec);
        if (ec) {
            ctx.error("ca_file");
            return ctx.stats;
        }
    } else {
        ctx.ssl_ctx.set_verify_mode(ssl::verify_none);  // loopback benchmarks; --ca-file verifies
    }

    BoshTargets bosh;
    TcpTarget tcp_target;
    std::string error;
    bool ok = true;
    if (opt.mode == Mode::bosh) {
        ok = resolve_http_url(io, opt.url, bosh.bosh, error);
        if (ok && opt.login == Login::prebind) {
            ok = resolve_http_url(io, opt.prebind_url, bosh.prebind, error);
            const char* key = std::getenv(opt.api_key_env.c_str());
            if (ok && (!key || !*key)) {
                ok = false;
                error = fmt::format("--login prebind: ${} holds no API key", opt.api_key_env);
            }
            if (ok)
                bosh.api_key = key;
        }
    } else {
        ok = resolve_host_port(io, opt.server, tcp_target, error);
    }
    if (!ok) {
        fmt::print(stderr, "bosun-bench: {}\n", error);
        ctx.error("setup");
        return ctx.stats;
    }

    Worker w {ctx, {}, std::vector<std::uint64_t>(count, 0), sampler, barrier, rate};
    w.clients.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        w.clients.push_back(opt.mode == Mode::bosh
                ? make_bosh_client(ctx, bosh, i, first_user + i)
                : make_tcp_client(ctx, tcp_target, i, first_user + i));
    }
    net::co_spawn(io, w.run(), [&](std::exception_ptr e) {
        if (e) {
            ctx.error("exception");
            w.finished = true;
        }
    });
    if (sampler)
        net::co_spawn(io, w.sample_loop(), [&](std::exception_ptr e) {
            if (e)
                ctx.error("exception");
        });
    // Every session's coroutines end once closed; stop the loop after run().
    while (!w.finished && !io.stopped())
        io.run_one();
    io.stop();
    return ctx.stats;
}

}  // namespace bosun::bench
