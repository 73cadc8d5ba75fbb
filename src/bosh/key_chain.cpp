#include "bosh/key_chain.hpp"

#include <algorithm>

#include "bosh/sha1.hpp"

namespace bosun::bosh {
namespace {

char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// §15.3 (checklist #83): keys compare case-insensitively.
bool same_key(std::string_view a, std::string_view b)
{
    return a.size() == b.size()
        && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view view(const std::array<char, 40>& a)
{
    return {a.data(), a.size()};
}

bool has_upper(std::string_view s)
{
    return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'F'; });
}

}  // namespace

void KeyChain::start(std::uint64_t rid, const BodyRequest& creation)
{
    if (!creation.newkey || !is_sha1_hex(*creation.newkey))
        return;
    std::copy_n(creation.newkey->begin(), head_.size(), head_.begin());
    start_rid_ = rid;
    active_ = true;
}

bool KeyChain::advance(std::uint64_t rid, const BodyRequest& body)
{
    if (active_) {
        // §15.3 (checklist #82): a missing key, or one that does not hash
        // to the previous key, is refused. Every key of a chain is itself
        // a hex SHA-1 (§15.2), so anything else cannot continue the chain.
        if (!body.key || !is_sha1_hex(*body.key) || !same_key(view(sha1_hex(*body.key)), view(head_)))
            return false;
    }
    if (body.newkey && is_sha1_hex(*body.newkey)) {
        // §15.5 (checklist #83): switch to (or start) a new chain.
        std::copy_n(body.newkey->begin(), head_.size(), head_.begin());
        start_rid_ = rid;
        active_ = true;
    } else if (active_) {
        std::copy_n(body.key->begin(), head_.size(), head_.begin());
    }
    return true;
}

bool KeyChain::matches_copy(std::uint64_t rid, std::uint64_t last_rid, const BodyRequest& copy) const
{
    if (!active_ || rid < start_rid_ || rid > last_rid)
        return true;
    // Keys run backwards: the key of request r is the hash of the key of
    // r+1, so hashing the head (last_rid's key) last_rid - rid times gives
    // the key request `rid` carried (its newkey when it started the chain).
    // The client's hex case is kept for the intermediate keys.
    const bool upper = has_upper(view(head_));
    std::array<char, 40> expected = head_;
    for (std::uint64_t i = rid; i < last_rid; ++i)
        expected = sha1_hex(view(expected), upper);
    const auto& sent = rid == start_rid_ ? copy.newkey : copy.key;
    return sent && same_key(*sent, view(expected));
}

}  // namespace bosun::bosh
