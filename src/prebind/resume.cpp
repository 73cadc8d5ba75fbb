#include "prebind/resume.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "auth/base64url.hpp"
#include "common/random.hpp"
#include "prebind/api_key.hpp"

namespace bosun::prebind {

std::size_t ResumeStore::HashOf::operator()(const Hash& h) const
{
    // SHA-256 output is uniform: its first bytes are a good bucket hash.
    std::size_t out = 0;
    std::memcpy(&out, h.data(), sizeof out);
    return out;
}

ResumeStore::ResumeStore(ResumeLimits limits)
    : limits_(limits)
{
}

ResumeStore::Hash ResumeStore::hash_of(std::string_view token)
{
    Hash out {};
    SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), out.data());
    return out;
}

ResumeStore::Issued ResumeStore::issue(
    std::string_view client_id, std::string_view jid, TimePoint now)
{
    make_room(now, 0);
    const auto id = next_family_++;
    Family family;
    family.client_id = std::string(client_id);
    family.jid = std::string(jid);
    family.hard_expiry = now + limits_.max_lifetime;
    family.expires_at = family.hard_expiry;
    families_.emplace(id, std::move(family));
    return add_token(id, std::nullopt, now);
}

Expected<ResumeStore::Holder, ResumeRefusal> ResumeStore::check(
    std::string_view token, std::string_view client_id, TimePoint now)
{
    const auto hash = hash_of(token);
    auto found = find_valid(hash, client_id, now);
    if (!found)
        return unexpected(found.error());
    const auto id = (*found)->family;
    return Holder {hash, id, families_.at(id).jid};
}

Expected<ResumeStore::Issued, ResumeRefusal> ResumeStore::rotate(
    const Hash& hash, std::string_view client_id, TimePoint now)
{
    auto found = find_valid(hash, client_id, now);
    if (!found)
        return unexpected(found.error());
    const auto id = (*found)->family;
    make_room(now, id);
    // Node-based map: references survive inserts and others' erasure.
    Entry& used = tokens_.at(hash);
    auto& family = families_.at(id);
    if (used.rotated && used.successor) {
        // Used again within its grace: the response carrying the successor
        // was lost (or raced); that successor was never used, so it goes.
        erase_token(family, *used.successor);
    }
    if (!used.rotated && used.parent) {
        // §6.7: the predecessor stays valid only until its successor is used.
        if (auto parent = tokens_.find(*used.parent); parent != tokens_.end())
            parent->second.grace_until = now;
    }
    auto issued = add_token(id, hash, now);
    if (!used.rotated)  // a retry within the grace does not extend it
        used.grace_until = now + limits_.grace;
    used.rotated = true;
    used.successor = hash_of(issued.token);
    forget_old_rotated(family, now);
    return issued;
}

bool ResumeStore::revoke(std::string_view token, std::string_view client_id)
{
    const auto it = tokens_.find(hash_of(token));
    if (it == tokens_.end() || families_.at(it->second.family).client_id != client_id)
        return false;
    erase_family(it->second.family);
    return true;
}

std::size_t ResumeStore::revoke_jid(std::string_view client_id, std::string_view jid)
{
    std::vector<std::uint64_t> ids;
    for (const auto& [id, f] : families_)
        if (f.client_id == client_id && f.jid == jid)
            ids.push_back(id);
    for (const auto id : ids)
        erase_family(id);
    return ids.size();
}

std::size_t ResumeStore::revoke_user(std::string_view jid)
{
    std::vector<std::uint64_t> ids;
    for (const auto& [id, f] : families_)
        if (f.jid == jid)
            ids.push_back(id);
    for (const auto id : ids)
        erase_family(id);
    return ids.size();
}

// The entry of `hash` if `client_id` may use it now. Another client's token
// is reported as unknown and left alone, so it cannot revoke a family.
Expected<ResumeStore::Entry*, ResumeRefusal> ResumeStore::find_valid(
    const Hash& hash, std::string_view client_id, TimePoint now)
{
    const auto it = tokens_.find(hash);
    if (it == tokens_.end())
        return unexpected(ResumeRefusal::unknown);
    Entry& entry = it->second;
    const auto id = entry.family;
    const auto& family = families_.at(id);
    if (family.client_id != client_id)
        return unexpected(ResumeRefusal::unknown);
    if (entry.rotated && now >= entry.grace_until) {
        // §6.7: a rotated token after its grace is a stolen or replayed
        // copy; whoever holds the family's newest token loses it too.
        erase_family(id);
        return unexpected(ResumeRefusal::reused);
    }
    // Within its grace a rotated token outlives its own expiry: its
    // successor (the family) is what expires.
    if (now >= family.hard_expiry || (!entry.rotated && now >= entry.expires_at)) {
        erase_family(id);  // the newest token expired: nothing in the family can be used
        return unexpected(ResumeRefusal::unknown);
    }
    return &entry;
}

ResumeStore::Issued ResumeStore::add_token(
    std::uint64_t id, std::optional<Hash> parent, TimePoint now)
{
    std::array<unsigned char, resume_token_bytes> raw {};
    random_bytes(raw.data(), raw.size());
    Issued out;
    out.token = std::string(resume_token_prefix)
        + auth::base64url_encode(
            std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    cleanse_bytes(raw.data(), raw.size());
    auto& family = families_.at(id);
    Entry entry;
    entry.family = id;
    entry.expires_at = std::min(now + limits_.idle_lifetime, family.hard_expiry);
    entry.parent = parent;
    const auto hash = hash_of(out.token);
    tokens_.emplace(hash, entry);
    family.members.push_back(hash);
    by_expiry_.erase({family.expires_at, id});
    family.expires_at = entry.expires_at;
    by_expiry_.emplace(family.expires_at, id);
    out.expires_at = entry.expires_at;
    out.family = id;
    return out;
}

// Room for one more token: expired families go first, then the ones that
// would expire soonest (the least recently used), never `keep`.
void ResumeStore::make_room(TimePoint now, std::uint64_t keep)
{
    while (!by_expiry_.empty() && by_expiry_.begin()->first <= now
        && by_expiry_.begin()->second != keep)
        erase_family(by_expiry_.begin()->second);
    while (tokens_.size() + 1 > limits_.max_tokens) {
        auto victim = std::find_if(by_expiry_.begin(), by_expiry_.end(),
            [keep](const auto& e) { return e.second != keep; });
        if (victim == by_expiry_.end())
            return;
        erase_family(victim->second);
    }
}

// Keeps the rotated hashes of a family to the newest
// resume_rotated_per_family whose grace is over.
void ResumeStore::forget_old_rotated(Family& family, TimePoint now)
{
    const auto rotated = [&](const Hash& h) {
        const auto it = tokens_.find(h);
        return it != tokens_.end() && it->second.rotated && it->second.grace_until <= now;
    };
    auto excess = static_cast<std::ptrdiff_t>(
        std::count_if(family.members.begin(), family.members.end(), rotated));
    excess -= static_cast<std::ptrdiff_t>(resume_rotated_per_family);
    for (auto it = family.members.begin(); excess > 0 && it != family.members.end();) {
        if (!rotated(*it)) {
            ++it;
            continue;
        }
        tokens_.erase(*it);
        it = family.members.erase(it);
        --excess;
    }
}

void ResumeStore::erase_token(Family& family, const Hash& hash)
{
    tokens_.erase(hash);
    family.members.erase(
        std::remove(family.members.begin(), family.members.end(), hash), family.members.end());
}

void ResumeStore::erase_family(std::uint64_t id)
{
    const auto it = families_.find(id);
    if (it == families_.end())
        return;
    for (const auto& h : it->second.members)
        tokens_.erase(h);
    by_expiry_.erase({it->second.expires_at, id});
    families_.erase(it);
}

}  // namespace bosun::prebind
