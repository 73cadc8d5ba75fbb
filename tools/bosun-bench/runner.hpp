#pragma once
// One worker's run: the ramp (log every session in at the arrival rate), the
// settle phase (idle, sessions long-polling) and the measure phase (a central
// scheduler has pairs exchange messages at the total rate), then a drain.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "options.hpp"
#include "proc_sampler.hpp"
#include "stats.hpp"

namespace bosun::bench {

using Clock = std::chrono::steady_clock;

inline std::uint64_t now_ns()
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count());
}

// State shared by every session of a worker (one thread, no locks).
struct Context {
    Context(net::io_context& io, const Options& options)
        : io(io)
        , opt(options)
        , ssl_ctx(ssl::context::tls_client)
    {
    }
    net::io_context& io;
    const Options& opt;
    ssl::context ssl_ctx;
    RunStats stats;
    Phase phase = Phase::ramp;
    Clock::time_point measure_end {};

    void error(const std::string& kind) { stats.errors[static_cast<std::size_t>(phase)].add(kind); }
    // A received chat message's body (from the partner, index `to` received it).
    void on_message(std::size_t to, std::string_view body, std::uint64_t arrival_ns);

    std::vector<std::uint64_t> last_seq;  // per receiving session
};

// Message body: "bb1 <seq> <send ns>".
std::string make_body(std::uint64_t seq, std::uint64_t sent_ns);

// A logged-in XMPP session over BOSH or TCP.
class Client {
public:
    virtual ~Client() = default;
    // Logs in; false on failure (the error is already counted).
    virtual net::awaitable<bool> login() = 0;
    // Queues a chat message; false when the session is down or its queue full.
    virtual bool send_message(const std::string& to_jid, const std::string& body) = 0;
    // Ends the session (best effort, bounded in time).
    virtual net::awaitable<void> close() = 0;
    [[nodiscard]] virtual bool alive() const = 0;
    [[nodiscard]] virtual const std::string& jid() const = 0;
};

using ClientFactory
    = std::function<std::shared_ptr<Client>(Context&, std::size_t index, std::uint32_t user)>;

// Hooks a forked worker uses to wait for its siblings between phases.
struct Barrier {
    std::function<void(const char* phase)> arrive_and_wait;  // blocking; null = no siblings
};

// Runs all phases for sessions [first_user, first_user + count) and returns
// the statistics. sampler may be null (a worker in --procs mode).
RunStats run_worker(const Options& opt, std::uint32_t first_user, std::uint32_t count, double rate,
    ProcSampler* sampler, const Barrier& barrier);

}  // namespace bosun::bench
