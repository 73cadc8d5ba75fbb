#pragma once
// Trusted-proxy matching, client-IP resolution (X-Forwarded-For) and the
// client's scheme (X-Forwarded-Proto).
// Pure: no sockets, only Asio's address types.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bosun/expected.hpp"
#include "common/asio.hpp"

namespace bosun::frontend {

// One "address" or "address/prefix" entry, IPv4 or IPv6.
struct AddressBlock {
    net::ip::address network;
    unsigned prefix = 0;
};

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket
// reports for a v4 peer) becomes the plain IPv4 address.
net::ip::address normalize_address(const net::ip::address& a);

// Parses "10.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32". Host bits below
// the prefix are ignored ("10.1.2.3/8" is 10.0.0.0/8).
[[nodiscard]] Expected<AddressBlock, std::string> parse_address_block(std::string_view text);

class AddressMatcher {
public:
    AddressMatcher() = default;
    // Every entry must parse; the error names the first bad one.
    [[nodiscard]] static Expected<AddressMatcher, std::string> parse(
        const std::vector<std::string>& entries);

    bool empty() const { return blocks_.empty(); }
    bool contains(const net::ip::address& a) const;

private:
    std::vector<AddressBlock> blocks_;
};

// The client address for a request: the TCP peer, unless the peer is a
// trusted proxy; then the right-most X-Forwarded-For entry that is not itself
// trusted. `forwarded_for` is every X-Forwarded-For field value, in order,
// joined with ",". The result is always a normalized numeric address.
std::string resolve_client_ip(
    const net::ip::address& peer, std::string_view forwarded_for, const AddressMatcher& trusted);

// Whether the client reached the front proxy over TLS (XEP-0124 §19.1,
// checklist #9). Bosun itself speaks plain HTTP behind a TLS-terminating
// proxy, so only a trusted proxy's X-Forwarded-Proto tells: true iff the
// peer is trusted and the left-most X-Forwarded-Proto element (the scheme
// the first proxy saw) is "https". `forwarded_proto` is every field value
// joined with ",".
bool forwarded_secure(
    const net::ip::address& peer, std::string_view forwarded_proto, const AddressMatcher& trusted);

}  // namespace bosun::frontend
