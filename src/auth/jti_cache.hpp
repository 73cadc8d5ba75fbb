#pragma once
// One-time use of assertion JWTs (RFC 7519 §4.1.7 jti). Pure: time is a
// parameter and nothing is locked; the runtime owns one cache per process and
// calls it from one strand. Memory is bounded twice over: an entry is dropped
// once its token would be refused as expired anyway (exp + leeway), and the
// number of live entries is capped.

#include "auth/unix_time.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace bosun::auth {

class JtiCache {
public:
    // A bool cannot say "full", and a full cache must fail closed (refuse the
    // token) without being mistaken for a replay.
    enum class Outcome { stored, replayed, full };

    JtiCache(std::size_t max_entries, std::chrono::seconds leeway);

    /// `stored` the first time `jti` is seen before its expiry, `replayed`
    /// while an earlier entry lives, `full` when max_entries live entries
    /// remain after dropping expired ones. A token already past exp + leeway
    /// is not stored (the verifier refuses it as expired before asking).
    [[nodiscard]] Outcome remember(std::string_view jti, UnixTime exp, UnixTime now);

    /// Drops every entry whose token is past exp + leeway at `now`.
    void expire(UnixTime now);

    std::size_t size() const { return entries_.size(); }
    std::size_t max_entries() const { return max_entries_; }

private:
    using Entries = std::map<std::string, UnixTime, std::less<>>;

    std::size_t max_entries_;
    std::chrono::seconds leeway_;
    Entries entries_;  // jti -> forget-after time
    std::multimap<UnixTime, Entries::iterator> by_deadline_;
};

}  // namespace bosun::auth
