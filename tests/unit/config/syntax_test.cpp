#include "config/syntax.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace bosun::config {
namespace {

using CheckFn = Check (*)(std::string_view);

void expect_accepts(CheckFn check, std::initializer_list<std::string_view> values)
{
    for (std::string_view v : values) {
        const Check ok = check(v);
        EXPECT_TRUE(ok.has_value()) << "'" << v << "': " << (ok ? "" : ok.error());
    }
}

void expect_rejects(CheckFn check, std::initializer_list<std::string_view> values)
{
    for (std::string_view v : values)
        EXPECT_FALSE(check(v).has_value()) << "'" << v << "'";
}

TEST(ListenAddress, numeric_ipv4_and_bracketed_ipv6_with_port_parse)
{
    const auto v4 = parse_listen_address("0.0.0.0:80");
    ASSERT_TRUE(v4.has_value());
    EXPECT_EQ(v4->host, "0.0.0.0");
    EXPECT_EQ(v4->port, 80);
    const auto v6 = parse_listen_address("[::1]:65535");
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 65535);
}

TEST(ListenAddress, names_missing_ports_and_bad_ports_are_rejected)
{
    for (std::string_view bad :
        {"localhost:5280", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
            "127.0.0.1:+80", "127.0.0.1:80x", "127.0.0.1:-1", "::1:5280", "[::1]", "[127.0.0.1]:80",
            "1.2.3:80", "01.2.3.4:80", "[fe80::1%eth0]:80", ":5280", "", "[::1]:99999"})
        EXPECT_FALSE(parse_listen_address(bad).has_value()) << "'" << bad << "'";
}

TEST(ListenAddress, ipv6_without_brackets_gets_a_hint)
{
    const auto r = parse_listen_address("::1:5280");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().find("[::1]:5280"), std::string::npos) << r.error();
}

TEST(ListenAddress, embedded_nul_is_rejected)
{
    EXPECT_FALSE(parse_listen_address(std::string_view("127.0.0.1\0x:80", 14)).has_value());
}

TEST(HttpPath, absolute_paths_without_query_fragment_or_spaces_pass)
{
    expect_accepts(check_http_path, {"/", "/http-bind", "/xmpp/http-bind", "/bosh/"});
    expect_rejects(
        check_http_path, {"", "http-bind", "/a?b", "/a#b", "/a b", "/a\tb", "http://x/http-bind"});
}

TEST(Origin, exact_http_and_https_origins_pass)
{
    expect_accepts(check_origin,
        {"https://app.example", "http://localhost:8080", "https://[::1]:8443",
            "http://127.0.0.1:3000", "https://xn--bcher-kva.example", "http://app.example:443",
            "https://app.example:80"});
}

TEST(Origin, wildcards_paths_case_default_ports_and_other_schemes_are_rejected)
{
    expect_rejects(check_origin,
        {"*", "null", "app.example", "ftp://app.example", "HTTPS://app.example", "https://",
            "https://app.example/", "https://app.example/app", "https://app.example?x",
            "https://app.example#x", "https://user@app.example", "https://App.example",
            "https://app.example:443", "http://app.example:80", "https://app.example:0",
            "https://app.example:", "https://[::1", "https://[zz]:1", "https://under_score.example",
            "https://:8080"});
}

TEST(Origin, default_port_rejection_says_what_to_write)
{
    const Check r = check_origin("https://app.example:443");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().find("drop ':443'"), std::string::npos) << r.error();
}

TEST(Proxy, addresses_and_cidr_blocks_with_valid_prefixes_pass)
{
    expect_accepts(check_proxy,
        {"127.0.0.1", "::1", "10.0.0.0/8", "192.168.1.0/24", "0.0.0.0/0", "10.1.2.3/32", "fd00::/8",
            "::/0", "2001:db8::1/128"});
    expect_rejects(check_proxy,
        {"", "*", "proxy.example", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8",
            "fd00::/129", "10.0.0/8", "/8"});
}

TEST(Domain, lowercase_dns_names_pass)
{
    expect_accepts(check_domain,
        {"localhost", "example.org", "chat.example.org", "xn--bcher-kva.example", "a-b.example",
            "1.example"});
}

TEST(Domain, uppercase_trailing_dots_and_bad_labels_are_rejected)
{
    const std::string long_label(64, 'a');
    const std::string long_name = std::string(63, 'a') + "." + std::string(63, 'b') + "."
        + std::string(63, 'c') + "." + std::string(63, 'd');
    expect_rejects(check_domain,
        {"", "Example.org", "example.org.", "a..example", ".example", "-a.example", "a-.example",
            "under_score.example", "a b.example", "jid@example.org"});
    EXPECT_FALSE(check_domain(long_label + ".example").has_value());
    EXPECT_FALSE(check_domain(long_name).has_value()); // 255 characters
}

TEST(Host, addresses_and_names_in_any_case_pass)
{
    expect_accepts(check_host,
        {"127.0.0.1", "::1", "2001:db8::5", "xmpp.example.org", "XMPP.Example.org", "localhost"});
    expect_rejects(check_host, {"", "xmpp server", "[::1]", "host:5222", "*.example"});
}

TEST(Loopback, loopback_addresses_and_localhost_are_loopback)
{
    for (std::string_view h :
        {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1", "localhost", "LocalHost"})
        EXPECT_TRUE(is_loopback_host(h)) << h;
    for (std::string_view h : {"10.0.0.1", "::", "::2", "::ffff:10.0.0.1", "0.0.0.0",
             "localhost.example", "xmpp.example", "128.0.0.1"})
        EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(CaFileCheck, empty_path_means_the_system_store)
{
    EXPECT_TRUE(check_ca_file("").has_value());
}

// Checklist #20: the operator's route allow-list holds "xmpp:host:port".
TEST(Route, xmpp_host_port_parses)
{
    expect_accepts(check_route, {"xmpp:chat.example.org:5222", "xmpp:127.0.0.1:5222", "xmpp:[::1]:5223"});
    const auto r = parse_route("xmpp:[::1]:5223");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->host, "::1");
    EXPECT_EQ(r->port, 5223);
}

TEST(Route, other_schemes_missing_or_bad_ports_and_bad_hosts_are_rejected)
{
    expect_rejects(check_route, {"", "chat.example.org:5222", "http://chat.example.org:5222", "xmpp:chat.example.org",
                                    "xmpp::5222", "xmpp:chat.example.org:0", "xmpp:chat.example.org:65536",
                                    "xmpp:chat.example.org:52x", "xmpp:bad host:5222"});
}

} // namespace
} // namespace bosun::config
