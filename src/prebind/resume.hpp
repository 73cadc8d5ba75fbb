#pragma once
// Resume tokens for the prebind `resume` method (docs/prebind.md "resume",
// reference/prebind-and-auth.md §6.7): opaque bearer tokens that let the web
// app's back end prebind the same user again without re-proving who it is.
//
//   bsr1_<base64url(32 random bytes)>
//
// Only SHA-256 of a token is kept, in memory. A token belongs to a *family*:
// the first one issued to a (client, bare JID) and every token that replaced
// it. Lifetimes: each token is valid `idle_lifetime` after it was issued
// (sliding: each use issues a fresh one), never past `max_lifetime` after
// the family's first issue.
//
// Rotation (the FAST rule "don't invalidate the old token until the new one
// is used"): using a token issues its successor. The used token stays valid
// for `grace` (a lost response may be retried) or until the successor is
// used; presented after that, it is a reuse and the whole family is revoked.
//
// Sans-I/O: `now` is a parameter (steady clock). Bounded: at most
// `max_tokens` records (live tokens and remembered rotated ones); when full,
// expired families go first, then the least recently used.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "bosun/expected.hpp"
#include "bosun/time.hpp"

namespace bosun::prebind {

inline constexpr std::string_view resume_token_prefix = "bsr1_";
inline constexpr std::size_t resume_token_bytes = 32;  // 256 bits
// Rotated hashes remembered per family for reuse detection; older ones are
// forgotten (presenting them is then "unknown", still refused).
inline constexpr std::size_t resume_rotated_per_family = 16;

struct ResumeLimits {
    Seconds idle_lifetime {24 * 3600};
    Seconds max_lifetime {7 * 24 * 3600};
    Seconds grace {60};
    std::size_t max_tokens = 100'000;
};

// Why a token was refused. Both map to the same answer for the caller
// except in the detail text; a token of another client is `unknown`.
enum class ResumeRefusal { unknown, reused };

class ResumeStore {
public:
    using Hash = std::array<unsigned char, 32>;

    struct Issued {
        std::string token;  // the caller's copy; wipe it once sent
        TimePoint expires_at;
        std::uint64_t family = 0;  // for logs: a counter, not a secret
    };
    struct Holder {
        Hash hash {};
        std::uint64_t family = 0;
        std::string jid;  // the bare JID the family was issued for
    };

    explicit ResumeStore(ResumeLimits limits);

    static Hash hash_of(std::string_view token);

    // A new family for `jid`, held by `client_id`.
    Issued issue(std::string_view client_id, std::string_view jid, TimePoint now);

    // Whether `token` may be used by `client_id` now. Changes nothing,
    // except that a reuse revokes the family and an expired family is
    // dropped. Another client's token is `unknown` and is left alone.
    [[nodiscard]] Expected<Holder, ResumeRefusal> check(
        std::string_view token, std::string_view client_id, TimePoint now);

    // After a successful resume: check again (the family may have gone
    // meanwhile), then issue the successor of the token hashed `hash`.
    [[nodiscard]] Expected<Issued, ResumeRefusal> rotate(
        const Hash& hash, std::string_view client_id, TimePoint now);

    // Revokes the family of `token` if `client_id` holds it.
    bool revoke(std::string_view token, std::string_view client_id);
    // Revokes every family of `jid` held by `client_id`; how many.
    std::size_t revoke_jid(std::string_view client_id, std::string_view jid);
    // Revokes every family of `jid`, whoever holds it; how many.
    std::size_t revoke_user(std::string_view jid);

    std::size_t size() const { return tokens_.size(); }
    std::size_t families() const { return families_.size(); }

private:
    struct HashOf {
        std::size_t operator()(const Hash& h) const;
    };
    struct Entry {
        std::uint64_t family = 0;
        TimePoint expires_at;
        bool rotated = false;
        TimePoint grace_until;  // rotated: valid until then
        std::optional<Hash> parent;  // the token this one replaced
        std::optional<Hash> successor;
    };
    struct Family {
        std::string client_id;
        std::string jid;
        TimePoint hard_expiry;  // first issue + max_lifetime
        TimePoint expires_at;  // of its newest token: the family is dead after it
        std::deque<Hash> members;  // oldest first
    };

    Expected<Entry*, ResumeRefusal> find_valid(
        const Hash& hash, std::string_view client_id, TimePoint now);
    Issued add_token(std::uint64_t family, std::optional<Hash> parent, TimePoint now);
    void make_room(TimePoint now, std::uint64_t keep);
    void forget_old_rotated(Family& family, TimePoint now);
    void erase_token(Family& family, const Hash& hash);
    void erase_family(std::uint64_t id);

    ResumeLimits limits_;
    std::unordered_map<Hash, Entry, HashOf> tokens_;
    std::map<std::uint64_t, Family> families_;
    std::set<std::pair<TimePoint, std::uint64_t>> by_expiry_;  // soonest first
    std::uint64_t next_family_ = 1;
};

}  // namespace bosun::prebind
