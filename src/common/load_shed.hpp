#pragma once
// Overload protection for the one event loop: while the loop runs late, new
// sessions are refused at once, so the sessions Bosun already carries keep
// their latency (W4, docs/benchmarks.md). A periodic tick reports how late
// it ran; a tick later than the bound starts shedding, which lasts `hold`
// after the last late tick. Sans-I/O: the runtime owns the timer and passes
// the times in.

#include <cstdint>

#include "bosun/time.hpp"

namespace bosun {

class LoadShedder {
public:
    /// `max_lag` zero: never sheds.
    LoadShedder(Duration max_lag, Duration hold);

    /// The periodic tick ran `late` after its due time, at `now`. Returns
    /// true when this tick changed the state (started or ended shedding),
    /// so the caller can log it once.
    bool on_tick(Duration late, TimePoint now);
    /// New sessions should be refused now.
    [[nodiscard]] bool shedding(TimePoint now) const;
    /// One new session refused while shedding (for the log and metrics).
    void note_refused() { ++refused_; ++refused_total_; }

    [[nodiscard]] bool enabled() const { return max_lag_.count() > 0; }
    [[nodiscard]] Duration max_lag() const { return max_lag_; }
    [[nodiscard]] Duration worst_lag() const { return worst_; }  ///< in the current episode
    [[nodiscard]] std::uint64_t refused() const { return refused_; }  ///< in the current episode
    [[nodiscard]] std::uint64_t refused_total() const { return refused_total_; }

private:
    Duration max_lag_;
    Duration hold_;
    bool active_ = false;
    TimePoint until_ {};
    Duration worst_ {0};
    std::uint64_t refused_ = 0;
    std::uint64_t refused_total_ = 0;
};

}  // namespace bosun
