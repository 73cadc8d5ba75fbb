#include "prebind/rate_limit.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace bosun::prebind {
namespace {

double seconds_between(TimePoint from, TimePoint to)
{
    return std::chrono::duration<double>(to - from).count();
}

Seconds at_least_one_second(double seconds)
{
    return Seconds {std::max<long long>(1, static_cast<long long>(std::ceil(seconds)))};
}

}  // namespace

RateLimiter::RateLimiter(std::size_t max_keys)
    : max_keys_(max_keys)
{
}

std::optional<Seconds> RateLimiter::acquire(
    const std::string& key, unsigned per_minute, TimePoint now)
{
    return acquire(key, per_minute, per_minute, now);
}

std::optional<Seconds> RateLimiter::acquire(
    const std::string& key, unsigned burst, unsigned per_minute, TimePoint now)
{
    const double capacity = burst;
    const double per_second = per_minute / 60.0;
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_keys_)
            prune(now);
        it = buckets_.emplace(key, Bucket {capacity, capacity, per_second, now}).first;
    }
    auto& b = it->second;
    b.capacity = capacity;
    b.per_second = per_second;
    b.tokens = std::min(capacity, b.tokens + seconds_between(b.last, now) * per_second);
    b.last = std::max(b.last, now);
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return std::nullopt;
    }
    return at_least_one_second((1.0 - b.tokens) / per_second);
}

void RateLimiter::prune(TimePoint now)
{
    std::erase_if(buckets_, [now](const auto& entry) {
        const auto& b = entry.second;
        return b.tokens + seconds_between(b.last, now) * b.per_second >= b.capacity;
    });
}

LoginLockout::LoginLockout(unsigned limit, Seconds window, Seconds lockout, std::size_t max_keys)
    : limit_(limit)
    , window_(window)
    , lockout_(lockout)
    , max_keys_(max_keys)
{
}

std::optional<Seconds> LoginLockout::locked(const std::string& jid, TimePoint now)
{
    const auto it = entries_.find(jid);
    if (it == entries_.end() || it->second.locked_until <= now)
        return std::nullopt;
    return at_least_one_second(seconds_between(now, it->second.locked_until));
}

void LoginLockout::failed(const std::string& jid, TimePoint now)
{
    if (entries_.size() >= max_keys_ && entries_.find(jid) == entries_.end())
        prune(now);
    auto& e = entries_[jid];
    while (!e.failures.empty() && e.failures.front() <= now - window_)
        e.failures.pop_front();
    e.failures.push_back(now);
    if (e.failures.size() >= limit_) {
        e.locked_until = now + lockout_;
        e.failures.clear();
    }
}

void LoginLockout::succeeded(const std::string& jid)
{
    entries_.erase(jid);
}

void LoginLockout::prune(TimePoint now)
{
    std::erase_if(entries_, [this, now](const auto& entry) {
        const auto& e = entry.second;
        const bool stale = e.failures.empty() || e.failures.back() <= now - window_;
        return stale && e.locked_until <= now;
    });
}

}  // namespace bosun::prebind
