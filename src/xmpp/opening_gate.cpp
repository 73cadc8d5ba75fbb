#include "xmpp/opening_gate.hpp"

#include <algorithm>
#include <utility>

namespace bosun::xmpp {

OpeningGate::OpeningGate(std::size_t max_opening, std::size_t max_queued)
    : max_opening_(std::max<std::size_t>(max_opening, 1))
    , max_queued_(max_queued)
{
}

OpeningGate::Admission OpeningGate::arrive(Resume resume, Ticket& ticket)
{
    if (opening_ < max_opening_) {
        ++opening_;
        return Admission::enter;
    }
    if (waiters_.size() >= max_queued_) {
        ++refused_;
        return Admission::refused;
    }
    ticket = waiters_.insert(waiters_.end(), std::move(resume));
    return Admission::queued;
}

void OpeningGate::withdraw(Ticket ticket)
{
    waiters_.erase(ticket);
}

void OpeningGate::leave()
{
    if (waiters_.empty()) {
        if (opening_ > 0)
            --opening_;
        return;
    }
    // The slot passes on: `opening_` stays as it is. The waiter is out of
    // the queue before it runs, so it may arrive() or leave() again.
    Resume next = std::move(waiters_.front());
    waiters_.pop_front();
    next();
}

void OpeningGate::release()
{
    if (opening_ > 0)
        --opening_;
}

}  // namespace bosun::xmpp
