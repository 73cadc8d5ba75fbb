#include "common/load_shed.hpp"

#include <algorithm>

namespace bosun {

LoadShedder::LoadShedder(Duration max_lag, Duration hold)
    : max_lag_(max_lag)
    , hold_(hold)
{
}

bool LoadShedder::on_tick(Duration late, TimePoint now)
{
    if (!enabled())
        return false;
    if (late > max_lag_) {
        until_ = now + hold_;
        if (!active_) {
            active_ = true;
            worst_ = late;
            refused_ = 0;
            return true;
        }
        worst_ = std::max(worst_, late);
        return false;
    }
    if (active_ && now >= until_) {
        active_ = false;
        return true;
    }
    return false;
}

bool LoadShedder::shedding(TimePoint now) const
{
    return active_ && now < until_;
}

}  // namespace bosun
