#include "http/address_match.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

namespace bosun::frontend {
namespace {

constexpr unsigned v4_bits = 32;
constexpr unsigned v6_bits = 128;

std::string_view trim(std::string_view s)
{
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    const auto last = s.find_last_not_of(" \t");
    return s.substr(first, last - first + 1);
}

std::optional<net::ip::address> parse_ip(std::string_view text)
{
    error_code ec;
    const auto a = net::ip::make_address(std::string(text), ec);
    if (ec)
        return std::nullopt;
    return normalize_address(a);
}

std::array<unsigned char, 16> to_bytes(const net::ip::address& a)
{
    std::array<unsigned char, 16> out {};
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), out.begin());
    } else {
        out = a.to_v6().to_bytes();
    }
    return out;
}

bool prefix_equal(const net::ip::address& a, const net::ip::address& b, unsigned prefix)
{
    const auto x = to_bytes(a);
    const auto y = to_bytes(b);
    const unsigned whole = prefix / 8;
    for (unsigned i = 0; i < whole; ++i) {
        if (x[i] != y[i])
            return false;
    }
    const unsigned rest = prefix % 8;
    if (rest == 0)
        return true;
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (x[whole] & mask) == (y[whole] & mask);
}

// One X-Forwarded-For element. Proxies write a bare address; some add a port
// ("203.0.113.7:4711", "[2001:db8::1]:4711"), which we drop.
std::optional<net::ip::address> parse_forwarded_element(std::string_view text)
{
    text = trim(text);
    if (auto a = parse_ip(text))
        return a;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        return parse_ip(text.substr(1, close - 1));
    }
    const auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos)
        return parse_ip(text.substr(0, colon));
    return std::nullopt;
}

std::vector<std::string_view> split_commas(std::string_view s)
{
    std::vector<std::string_view> out;
    for (;;) {
        const auto comma = s.find(',');
        out.push_back(s.substr(0, comma));
        if (comma == std::string_view::npos)
            return out;
        s.remove_prefix(comma + 1);
    }
}

}  // namespace

net::ip::address normalize_address(const net::ip::address& a)
{
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
    return a;
}

Expected<AddressBlock, std::string> parse_address_block(std::string_view text)
{
    text = trim(text);
    const auto slash = text.find('/');
    const auto address = parse_ip(text.substr(0, slash));
    if (!address)
        return unexpected(std::string("not an IP address: '") + std::string(text) + "'");
    const unsigned width = address->is_v4() ? v4_bits : v6_bits;
    if (slash == std::string_view::npos)
        return AddressBlock {*address, width};
    const auto digits = text.substr(slash + 1);
    unsigned prefix = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc {} || end != digits.data() + digits.size()
        || prefix > width)
        return unexpected(std::string("bad prefix length in '") + std::string(text) + "'");
    return AddressBlock {*address, prefix};
}

Expected<AddressMatcher, std::string> AddressMatcher::parse(const std::vector<std::string>& entries)
{
    AddressMatcher m;
    for (const auto& entry : entries) {
        auto block = parse_address_block(entry);
        if (!block)
            return unexpected(block.error());
        m.blocks_.push_back(*block);
    }
    return m;
}

bool AddressMatcher::contains(const net::ip::address& raw) const
{
    const auto a = normalize_address(raw);
    for (const auto& b : blocks_) {
        if (b.network.is_v4() == a.is_v4() && prefix_equal(b.network, a, b.prefix))
            return true;
    }
    return false;
}

std::string resolve_client_ip(
    const net::ip::address& peer, std::string_view forwarded_for, const AddressMatcher& trusted)
{
    auto client = normalize_address(peer);
    if (!trusted.contains(client) || trim(forwarded_for).empty())
        return client.to_string();
    // Walk right to left: each hop appended the address it received from.
    // The first untrusted one is the client; anything left of it is whatever
    // that client chose to write, so it is not believed.
    const auto elements = split_commas(forwarded_for);
    for (auto it = elements.rbegin(); it != elements.rend(); ++it) {
        const auto hop = parse_forwarded_element(*it);
        if (!hop)
            break;  // garbage from the hop we trust least: keep that hop
        client = *hop;
        if (!trusted.contains(client))
            break;
    }
    return client.to_string();
}

bool forwarded_secure(
    const net::ip::address& peer, std::string_view forwarded_proto, const AddressMatcher& trusted)
{
    if (!trusted.contains(peer))
        return false;
    const auto elements = split_commas(forwarded_proto);
    if (elements.empty())
        return false;
    return beast::iequals(trim(elements.front()), "https");
}

}  // namespace bosun::frontend
