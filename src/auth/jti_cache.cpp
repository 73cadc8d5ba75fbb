#include "auth/jti_cache.hpp"

namespace bosun::auth {

JtiCache::JtiCache(std::size_t max_entries, std::chrono::seconds leeway)
    : max_entries_(max_entries)
    , leeway_(leeway)
{
}

void JtiCache::expire(UnixTime now)
{
    // At exp + leeway the verifier already answers "expired" (now >= exp +
    // leeway), so forgetting the jti then cannot let a replay through.
    auto end = by_deadline_.upper_bound(now);
    for (auto i = by_deadline_.begin(); i != end; ++i) {
        entries_.erase(i->second);
    }
    by_deadline_.erase(by_deadline_.begin(), end);
}

JtiCache::Outcome JtiCache::remember(std::string_view jti, UnixTime exp, UnixTime now)
{
    expire(now);
    if (entries_.find(jti) != entries_.end()) {
        return Outcome::replayed;
    }
    UnixTime deadline = exp + leeway_;
    if (deadline <= now) {
        return Outcome::stored;
    }
    if (entries_.size() >= max_entries_) {
        return Outcome::full;
    }
    auto it = entries_.emplace(std::string(jti), deadline).first;
    by_deadline_.emplace(deadline, it);
    return Outcome::stored;
}

}  // namespace bosun::auth
