#pragma once
// A bound on upstream connections being opened at once (TCP connect,
// STARTTLS handshake, stream features), shared by every session and prebind
// of one process. A storm of new sessions then reaches the XMPP server as a
// steady stream it can serve between the messages of existing sessions,
// instead of thousands of TLS handshakes at once that overflow its accept
// queue (W4, docs/benchmarks.md). Connections beyond the bound wait in a
// FIFO queue, itself bounded; beyond that a new session is refused at once
// and its client is told so (policy-violation, or HTTP 503 for a prebind).
//
// Plain C++ with no I/O: the caller supplies the resume callbacks. Not
// thread-safe; Bosun runs it on its one event loop.

#include <cstddef>
#include <functional>
#include <list>

namespace bosun::xmpp {

class OpeningGate {
public:
    using Resume = std::function<void()>;
    using Ticket = std::list<Resume>::iterator;

    enum class Admission {
        enter,    ///< a slot is the caller's: open now, call leave() when done
        queued,   ///< `resume` will be called when a slot passes to the caller
        refused,  ///< the queue is full
    };

    /// `max_opening` >= 1 slots; `max_queued` waiters (0: none wait).
    OpeningGate(std::size_t max_opening, std::size_t max_queued);

    /// Asks for a slot. On `queued`, `ticket` names the caller's place, for
    /// withdraw(); `resume` is then called once, from leave(), and the slot
    /// is the caller's when it runs.
    Admission arrive(Resume resume, Ticket& ticket);
    /// Leaves the queue without a slot (the caller closed or timed out).
    void withdraw(Ticket ticket);
    /// Gives a slot back; the first waiter, if any, gets it.
    void leave();
    /// Gives a slot back without handing it on (teardown: nothing may start).
    void release();

    [[nodiscard]] std::size_t opening() const { return opening_; }
    [[nodiscard]] std::size_t queued() const { return waiters_.size(); }
    [[nodiscard]] std::size_t refused_total() const { return refused_; }

private:
    std::size_t max_opening_;
    std::size_t max_queued_;
    std::size_t opening_ = 0;
    std::size_t refused_ = 0;
    std::list<Resume> waiters_;
};

}  // namespace bosun::xmpp
