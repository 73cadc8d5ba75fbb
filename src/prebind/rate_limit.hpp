#pragma once
// Rate limits of the prebind API (reference/prebind-and-auth.md §6.8): token
// buckets per key and a failed-login lockout per bare JID. Pure: time is a
// parameter, so tests drive them with any clock.

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "bosun/time.hpp"

namespace bosun::prebind {

// One token bucket per key: `per_minute` tokens a minute and a burst of
// `burst` (by default one minute's worth). Buckets that are full again are forgotten when the map
// grows past max_keys, so memory stays bounded.
class RateLimiter {
public:
    explicit RateLimiter(std::size_t max_keys = 100'000);

    // nullopt: allowed (one token taken). Otherwise the seconds until a token
    // is available, at least 1 (for Retry-After).
    std::optional<Seconds> acquire(const std::string& key, unsigned per_minute, TimePoint now);
    std::optional<Seconds> acquire(
        const std::string& key, unsigned burst, unsigned per_minute, TimePoint now);

    std::size_t size() const { return buckets_.size(); }

private:
    struct Bucket {
        double tokens = 0;
        double capacity = 0;
        double per_second = 0;
        TimePoint last;
    };
    void prune(TimePoint now);

    std::unordered_map<std::string, Bucket> buckets_;
    std::size_t max_keys_;
};

// Counts failed upstream logins per bare JID: `limit` failures within
// `window` lock the JID out for `lockout` (§6.8: the API must not become a
// password oracle). A success clears the count.
class LoginLockout {
public:
    LoginLockout(unsigned limit, Seconds window, Seconds lockout, std::size_t max_keys = 100'000);

    // Seconds left of a lockout, or nullopt.
    std::optional<Seconds> locked(const std::string& jid, TimePoint now);
    void failed(const std::string& jid, TimePoint now);
    void succeeded(const std::string& jid);

private:
    struct Entry {
        std::deque<TimePoint> failures;
        TimePoint locked_until;
    };
    void prune(TimePoint now);

    std::unordered_map<std::string, Entry> entries_;
    unsigned limit_;
    Seconds window_;
    Seconds lockout_;
    std::size_t max_keys_;
};

}  // namespace bosun::prebind
