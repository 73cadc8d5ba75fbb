#pragma once
// XEP-0124 §15 key sequencing, verified by the connection manager (the MAY
// of §15.3; checklist #82, #83). Keys are hex(SHA-1(...)) strings: each
// request's 'key' hashes to the previous request's 'newkey' or 'key'.
// Fixed size (no allocation), since every session carries one.

#include <array>
#include <cstdint>

#include "bosh/body.hpp"

namespace bosun::bosh {

class KeyChain {
public:
    /// The creation request: a 'newkey' starts the chain (§15.3).
    void start(std::uint64_t rid, const BodyRequest& creation);

    /// A new request, in rid order. Checks its 'key' against the previous
    /// key and moves the chain on; false when the request must be refused
    /// (item-not-found, not processed). A 'newkey' next to a valid 'key'
    /// switches chains (§15.5); a 'newkey' with no chain running starts one.
    [[nodiscard]] bool advance(std::uint64_t rid, const BodyRequest& body);

    /// A re-sent copy of the already processed request `rid` (§14.3), while
    /// `last_rid` is the last one processed: the copy must carry the key the
    /// original carried. Requests from before the current chain started
    /// cannot be checked and pass. Costs last_rid - rid hashes; callers only
    /// ask for rids still cached or held.
    [[nodiscard]] bool matches_copy(std::uint64_t rid, std::uint64_t last_rid, const BodyRequest& copy) const;

    bool active() const { return active_; }

private:
    std::array<char, 40> head_ {};  ///< the last key or newkey, as the client wrote it
    std::uint64_t start_rid_ = 0;   ///< the request whose newkey started this chain
    bool active_ = false;
};

}  // namespace bosun::bosh
