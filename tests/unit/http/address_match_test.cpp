#include "http/address_match.hpp"

#include <gtest/gtest.h>

namespace bosun::frontend {
namespace {

net::ip::address ip(const char* text)
{
    return net::ip::make_address(text);
}

AddressMatcher matcher(std::vector<std::string> entries)
{
    auto m = AddressMatcher::parse(entries);
    EXPECT_TRUE(m.has_value());
    return m ? *m : AddressMatcher {};
}

TEST(AddressMatch, single_ipv4_address_matches_only_itself)
{
    const auto m = matcher({"10.0.0.1"});
    EXPECT_TRUE(m.contains(ip("10.0.0.1")));
    EXPECT_FALSE(m.contains(ip("10.0.0.2")));
}

TEST(AddressMatch, ipv4_cidr_matches_its_block)
{
    const auto m = matcher({"192.168.0.0/16"});
    EXPECT_TRUE(m.contains(ip("192.168.0.0")));
    EXPECT_TRUE(m.contains(ip("192.168.255.255")));
    EXPECT_FALSE(m.contains(ip("192.169.0.0")));
    EXPECT_FALSE(m.contains(ip("10.0.0.1")));
}

TEST(AddressMatch, prefix_not_on_a_byte_boundary)
{
    const auto m = matcher({"10.0.0.128/25"});
    EXPECT_TRUE(m.contains(ip("10.0.0.128")));
    EXPECT_TRUE(m.contains(ip("10.0.0.255")));
    EXPECT_FALSE(m.contains(ip("10.0.0.127")));
    const auto m31 = matcher({"172.16.0.2/31"});
    EXPECT_TRUE(m31.contains(ip("172.16.0.3")));
    EXPECT_FALSE(m31.contains(ip("172.16.0.4")));
}

TEST(AddressMatch, host_bits_below_the_prefix_are_ignored)
{
    const auto m = matcher({"10.1.2.3/8"});
    EXPECT_TRUE(m.contains(ip("10.200.0.1")));
}

TEST(AddressMatch, zero_prefix_matches_the_whole_family_only)
{
    const auto v4 = matcher({"0.0.0.0/0"});
    EXPECT_TRUE(v4.contains(ip("203.0.113.5")));
    EXPECT_FALSE(v4.contains(ip("2001:db8::1")));
    const auto v6 = matcher({"::/0"});
    EXPECT_TRUE(v6.contains(ip("2001:db8::1")));
    EXPECT_FALSE(v6.contains(ip("203.0.113.5")));
}

TEST(AddressMatch, ipv6_cidr_and_single_address)
{
    const auto m = matcher({"2001:db8::/32", "::1"});
    EXPECT_TRUE(m.contains(ip("2001:db8:ffff::1")));
    EXPECT_FALSE(m.contains(ip("2001:db9::1")));
    EXPECT_TRUE(m.contains(ip("::1")));
    EXPECT_FALSE(m.contains(ip("::2")));
}

TEST(AddressMatch, ipv4_mapped_peer_matches_an_ipv4_block)
{
    const auto m = matcher({"127.0.0.0/8"});
    EXPECT_TRUE(m.contains(ip("::ffff:127.0.0.1")));
    EXPECT_EQ(normalize_address(ip("::ffff:10.1.2.3")).to_string(), "10.1.2.3");
}

TEST(AddressMatch, bad_entries_are_rejected_by_name)
{
    for (const char* bad : {"", "abc", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/8x", "::1/129",
             "10.0.0.0/-1", "example.com", "10.0.0.0/8/8"}) {
        const auto m = AddressMatcher::parse({"127.0.0.1", bad});
        ASSERT_FALSE(m.has_value()) << bad;
        EXPECT_NE(m.error().find(bad), std::string::npos) << m.error();
    }
}

TEST(AddressMatch, empty_list_matches_nothing)
{
    const auto m = matcher({});
    EXPECT_TRUE(m.empty());
    EXPECT_FALSE(m.contains(ip("127.0.0.1")));
}

TEST(ClientIp, untrusted_peer_forwarded_for_is_ignored)
{
    const auto trusted = matcher({"10.0.0.1"});
    EXPECT_EQ(resolve_client_ip(ip("198.51.100.7"), "203.0.113.9", trusted), "198.51.100.7");
}

TEST(ClientIp, trusted_peer_without_forwarded_for_is_the_client)
{
    const auto trusted = matcher({"10.0.0.1"});
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "", trusted), "10.0.0.1");
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "  ", trusted), "10.0.0.1");
}

TEST(ClientIp, right_most_untrusted_entry_wins)
{
    const auto trusted = matcher({"10.0.0.0/8"});
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "1.1.1.1, 203.0.113.9", trusted), "203.0.113.9");
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "1.1.1.1, 203.0.113.9, 10.9.9.9", trusted),
        "203.0.113.9");
}

TEST(ClientIp, spoofed_left_entries_are_not_believed)
{
    const auto trusted = matcher({"10.0.0.0/8"});
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "10.5.5.5, 198.51.100.2", trusted), "198.51.100.2");
}

TEST(ClientIp, all_trusted_gives_the_left_most)
{
    const auto trusted = matcher({"10.0.0.0/8"});
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "10.0.0.3, 10.0.0.2", trusted), "10.0.0.3");
}

TEST(ClientIp, garbage_entry_stops_at_the_last_trusted_hop)
{
    const auto trusted = matcher({"10.0.0.0/8"});
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "203.0.113.9, <script>", trusted), "10.0.0.1");
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "unknown, 10.0.0.7", trusted), "10.0.0.7");
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "203.0.113.9,,", trusted), "10.0.0.1");
}

TEST(ClientIp, ports_and_brackets_are_dropped)
{
    const auto trusted = matcher({"10.0.0.0/8"});
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "203.0.113.9:4711", trusted), "203.0.113.9");
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "[2001:db8::5]:4711", trusted), "2001:db8::5");
    EXPECT_EQ(resolve_client_ip(ip("10.0.0.1"), "2001:db8::5", trusted), "2001:db8::5");
}

TEST(ClientIp, mapped_addresses_are_reported_as_ipv4)
{
    const auto trusted = matcher({"127.0.0.1"});
    EXPECT_EQ(
        resolve_client_ip(ip("::ffff:127.0.0.1"), "::ffff:203.0.113.9", trusted), "203.0.113.9");
    EXPECT_EQ(resolve_client_ip(ip("::ffff:198.51.100.1"), "", trusted), "198.51.100.1");
}

// Checklist #9: only a trusted proxy tells Bosun that the client used TLS.
TEST(ForwardedSecure, https_from_a_trusted_proxy_counts)
{
    const auto trusted = matcher({"127.0.0.1"});
    EXPECT_TRUE(forwarded_secure(ip("127.0.0.1"), "https", trusted));
    EXPECT_TRUE(forwarded_secure(ip("127.0.0.1"), " HTTPS ", trusted));
    EXPECT_TRUE(forwarded_secure(ip("::ffff:127.0.0.1"), "https", trusted));
}

TEST(ForwardedSecure, untrusted_peer_or_other_scheme_does_not)
{
    const auto trusted = matcher({"127.0.0.1"});
    EXPECT_FALSE(forwarded_secure(ip("203.0.113.9"), "https", trusted));
    EXPECT_FALSE(forwarded_secure(ip("127.0.0.1"), "http", trusted));
    EXPECT_FALSE(forwarded_secure(ip("127.0.0.1"), "", trusted));
    EXPECT_FALSE(forwarded_secure(ip("127.0.0.1"), "httpsx", trusted));
    EXPECT_FALSE(forwarded_secure(ip("127.0.0.1"), "https", matcher({})));
}

TEST(ForwardedSecure, the_first_proxy_s_scheme_decides)
{
    const auto trusted = matcher({"127.0.0.1"});
    EXPECT_TRUE(forwarded_secure(ip("127.0.0.1"), "https, http", trusted));
    EXPECT_FALSE(forwarded_secure(ip("127.0.0.1"), "http, https", trusted));
}

}  // namespace
}  // namespace bosun::frontend
