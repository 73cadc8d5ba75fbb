// The [prebind] section of the configuration (docs/configuration.md).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "config/config.hpp"
#include "prebind/api_key.hpp"

namespace bosun::prebind {
namespace {

using config::LoadResult;

const std::string upstream = "[upstream.\"example.org\"]\n";
const std::string hash_a = key_hash("bsk_app_a");
const std::string hash_b = key_hash("bsk_app_b");

LoadResult load(const std::string& text)
{
    return config::parse(upstream + text, "test.toml");
}

bool mentions(const std::vector<std::string>& lines, std::string_view text)
{
    for (const auto& l : lines)
        if (l.find(text) != std::string::npos)
            return true;
    return false;
}

TEST(PrebindConfig, defaults_are_disabled_on_loopback_5281)
{
    const auto r = load("");
    ASSERT_TRUE(r.ok());
    const auto& p = r.config.prebind;
    EXPECT_FALSE(p.enabled);
    ASSERT_EQ(p.listen.size(), 1u);
    EXPECT_EQ(p.listen[0].host, "127.0.0.1");
    EXPECT_EQ(p.listen[0].port, 5281);
    EXPECT_EQ(p.attach_timeout, Seconds(45));
    EXPECT_EQ(p.handshake_timeout, Seconds(10));
    EXPECT_EQ(p.max_body_bytes, 16u * 1024);
    EXPECT_EQ(p.max_in_flight, 64u);
    EXPECT_TRUE(p.clients.empty());
}

TEST(PrebindConfig, reads_every_key_and_clients)
{
    const auto r = load(R"(
[prebind]
enabled = true
listen = ["127.0.0.1:7000", "[::1]:7000"]
attach_timeout = 30
handshake_timeout = 5
read_timeout = 4
idle_timeout = 20
max_header_bytes = 4096
max_body_bytes = 8192
max_connections = 10
max_in_flight = 3
failed_login_limit = 7
failed_login_window = 120
lockout_time = 900
anonymous_per_ip_per_minute = 4

[[prebind.clients]]
id = "app"
key_hashes = [")"
        + hash_a + R"(", ")" + hash_b + R"("]
allowed_domains = ["example.org"]
allowed_methods = ["password", "anonymous"]
rate_per_minute = 120
may_set_resource = true
)");
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
    EXPECT_TRUE(r.warnings.empty()) << r.warnings[0];
    const auto& p = r.config.prebind;
    EXPECT_TRUE(p.enabled);
    ASSERT_EQ(p.listen.size(), 2u);
    EXPECT_EQ(p.listen[1].host, "::1");
    EXPECT_EQ(p.attach_timeout, Seconds(30));
    EXPECT_EQ(p.handshake_timeout, Seconds(5));
    EXPECT_EQ(p.read_timeout, Seconds(4));
    EXPECT_EQ(p.idle_timeout, Seconds(20));
    EXPECT_EQ(p.max_header_bytes, 4096u);
    EXPECT_EQ(p.max_body_bytes, 8192u);
    EXPECT_EQ(p.max_connections, 10u);
    EXPECT_EQ(p.max_in_flight, 3u);
    EXPECT_EQ(p.failed_login_limit, 7u);
    EXPECT_EQ(p.failed_login_window, Seconds(120));
    EXPECT_EQ(p.lockout_time, Seconds(900));
    EXPECT_EQ(p.anonymous_per_ip_per_minute, 4u);
    ASSERT_EQ(p.clients.size(), 1u);
    const auto& c = p.clients[0];
    EXPECT_EQ(c.id, "app");
    EXPECT_EQ(c.key_hashes, (std::vector<std::string> {hash_a, hash_b}));
    EXPECT_EQ(c.allowed_domains, std::vector<std::string> {"example.org"});
    EXPECT_EQ(c.allowed_methods, (std::vector<std::string> {"password", "anonymous"}));
    EXPECT_EQ(c.rate_per_minute, 120u);
    EXPECT_TRUE(c.may_set_resource);
}

TEST(PrebindConfig, collects_every_client_error_at_once)
{
    const auto r = load(R"(
[[prebind.clients]]
id = "bad_id"
key_hashes = ["sha256:ABC", "md5:00"]
allowed_domains = ["Example.org"]
allowed_methods = ["password", "digest"]
may_set_resource = "yes"

[[prebind.clients]]
key_hashes = []
)");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(mentions(r.errors, "prebind.clients[0].id:")) << r.errors[0];
    EXPECT_TRUE(mentions(r.errors, "prebind.clients[0].key_hashes[0]:"));
    EXPECT_TRUE(mentions(r.errors, "prebind.clients[0].key_hashes[1]:"));
    EXPECT_TRUE(mentions(r.errors, "prebind.clients[0].allowed_domains[0]:"));
    EXPECT_TRUE(mentions(r.errors, "\"digest\" is not one of"));
    EXPECT_TRUE(mentions(r.errors, "prebind.clients[0].may_set_resource: expected a boolean"));
    EXPECT_TRUE(mentions(r.errors, "prebind.clients[1]: \"id\" is required"));
    EXPECT_TRUE(mentions(r.errors, "prebind.clients[1]: \"key_hashes\" needs at least one hash"));
    EXPECT_GE(r.errors.size(), 8u);
}

TEST(PrebindConfig, duplicate_ids_and_shared_key_hashes_are_errors)
{
    const auto client = "[[prebind.clients]]\nid = \"app\"\nkey_hashes = [\"" + hash_a
        + "\"]\nallowed_domains = [\"example.org\"]\n";
    const auto r = load(client + client);
    EXPECT_TRUE(mentions(r.errors, "id \"app\" is used twice"));
    EXPECT_TRUE(mentions(r.errors, "a key hash is also listed for client \"app\""));
}

TEST(PrebindConfig, allowed_domain_without_upstream_is_an_error)
{
    const auto r = load("[[prebind.clients]]\nid = \"app\"\nkey_hashes = [\"" + hash_a
        + "\"]\nallowed_domains = [\"nowhere.example\"]\n");
    EXPECT_TRUE(mentions(r.errors, "\"nowhere.example\", which has no [upstream"));
}

TEST(PrebindConfig, listen_on_the_bosh_port_is_rejected)
{
    auto r = load("[http]\nlisten = [\"127.0.0.1:5280\"]\n[prebind]\nenabled = true\n"
                  "listen = [\"127.0.0.1:5280\"]\n");
    EXPECT_TRUE(mentions(r.errors, "prebind.listen: 127.0.0.1:5280 is also an http.listen"));
    // a wildcard BOSH listener covers every address on its port
    r = load("[http]\nlisten = [\"0.0.0.0:5280\"]\n[prebind]\nenabled = true\n"
             "listen = [\"127.0.0.1:5280\"]\n");
    EXPECT_TRUE(mentions(r.errors, "never be served on the public BOSH port"));
}

TEST(PrebindConfig, warns_when_enabled_without_clients)
{
    const auto r = load("[prebind]\nenabled = true\n");
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(mentions(r.warnings, "no [[prebind.clients]]"));
}

TEST(PrebindConfig, plaintext_listener_off_loopback_is_refused_unless_allowed)
{
    auto r = load("[prebind]\nenabled = true\nlisten = [\"10.0.0.5:5281\"]\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(mentions(r.errors, "prebind.listen: 10.0.0.5 is not loopback"));
    r = load("[prebind]\nenabled = true\nlisten = [\"10.0.0.5:5281\"]\n"
             "allow_plaintext_non_loopback = true\n");
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(mentions(r.warnings, "10.0.0.5 is not loopback"));
    r = load("[prebind]\nenabled = true\nlisten = [\"10.0.0.5:5281\"]\n"
             "tls_cert_file = \"/etc/bosun/api.crt\"\ntls_key_file = \"/etc/bosun/api.key\"\n");
    EXPECT_TRUE(r.ok());
    EXPECT_FALSE(mentions(r.warnings, "not loopback"));
}

TEST(PrebindConfig, tls_files_come_in_pairs_and_client_ca_needs_tls)
{
    auto r = load("[prebind]\ntls_cert_file = \"/etc/bosun/api.crt\"\n");
    EXPECT_TRUE(mentions(r.errors, "tls_cert_file and tls_key_file must be set together"));
    r = load("[prebind]\ntls_client_ca_file = \"/etc/bosun/ca.pem\"\n");
    EXPECT_TRUE(
        mentions(r.errors, "prebind.tls_client_ca_file: is set but the listener has no TLS"));
    EXPECT_TRUE(mentions(
        load("[prebind]\ncert_file = \"/a.pem\"\n").errors, "prebind.cert_file: unknown key"));
}

TEST(PrebindConfig, reads_signing_keys_and_jid_limits)
{
    const auto r = load(fmt::format(R"(
[prebind]
max_signature_nonces = 500
[[prebind.clients]]
id = "app"
key_hashes = ["{}"]
allowed_domains = ["example.org"]
require_signature = true
jid_burst = 3
jid_per_minute = 6
[[prebind.clients.signing_keys]]
id = "k2026"
secret_file = "/etc/bosun/app-k2026.secret"
)",
        hash_a));
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
    const auto& p = r.config.prebind;
    EXPECT_EQ(p.max_signature_nonces, 500u);
    ASSERT_EQ(p.clients.size(), 1u);
    EXPECT_TRUE(p.clients[0].require_signature);
    EXPECT_EQ(p.clients[0].jid_burst, 3u);
    EXPECT_EQ(p.clients[0].jid_per_minute, 6u);
    ASSERT_EQ(p.clients[0].signing_keys.size(), 1u);
    EXPECT_EQ(p.clients[0].signing_keys[0].id, "k2026");
    EXPECT_EQ(p.clients[0].signing_keys[0].secret_file, "/etc/bosun/app-k2026.secret");
}

TEST(PrebindConfig, require_signature_needs_a_signing_key)
{
    const auto r
        = load(fmt::format("[[prebind.clients]]\nid = \"app\"\nkey_hashes = [\"{}\"]\n"
                           "allowed_domains = [\"example.org\"]\nrequire_signature = true\n",
            hash_a));
    EXPECT_TRUE(mentions(r.errors, "needs at least one [[prebind.clients.signing_keys]]"));
}

TEST(PrebindConfig, out_of_range_values_are_errors)
{
    const auto r = load("[prebind]\nmax_in_flight = 0\nattach_timeout = 9999\nenabled = 1\n");
    EXPECT_TRUE(mentions(r.errors, "prebind.max_in_flight: 0 is out of range"));
    EXPECT_TRUE(mentions(r.errors, "prebind.attach_timeout: 9999 is out of range"));
    EXPECT_TRUE(mentions(r.errors, "prebind.enabled: expected a boolean"));
}

// ---- assertion issuers and the ticket strategy (docs/configuration.md) ----

TEST(PrebindConfig, reads_issuers_keys_and_the_ticket_strategy)
{
    const auto r = load(fmt::format(R"(prebind_login = "ticket"
ticket_secret_file = "/etc/bosun/t.secret"
ticket_lifetime = 20
[prebind]
max_jti_entries = 500
[[prebind.clients]]
id = "app"
key_hashes = ["{}"]
allowed_domains = ["example.org"]
allowed_methods = ["assertion"]
assertion_issuers = ["sso"]
tickets_by_jid = true
[[prebind.issuers]]
id = "sso"
issuer = "https://app.example"
audience = "xmpp"
leeway = 5
max_lifetime = 60
max_token_bytes = 4096
[[prebind.issuers.keys]]
kid = "h1"
alg = "HS256"
secret_file = "/etc/bosun/h1"
[[prebind.issuers.keys]]
kid = "e1"
alg = "EdDSA"
public_key_file = "/etc/bosun/e1.pem"
)",
        hash_a));
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
    EXPECT_TRUE(r.warnings.empty()) << r.warnings[0];
    const auto& up = r.config.upstreams.at("example.org");
    EXPECT_EQ(up.prebind_login, AssertionLogin::ticket);
    EXPECT_EQ(up.ticket_secret_file, "/etc/bosun/t.secret");
    EXPECT_EQ(up.ticket_lifetime, Seconds(20));
    const auto& p = r.config.prebind;
    EXPECT_EQ(p.max_jti_entries, 500u);
    ASSERT_EQ(p.clients.size(), 1u);
    EXPECT_EQ(p.clients[0].assertion_issuers, std::vector<std::string> {"sso"});
    EXPECT_TRUE(p.clients[0].tickets_by_jid);
    ASSERT_EQ(p.issuers.size(), 1u);
    const auto& i = p.issuers[0];
    EXPECT_EQ(i.id, "sso");
    EXPECT_EQ(i.issuer, "https://app.example");
    EXPECT_EQ(i.audience, "xmpp");
    EXPECT_EQ(i.leeway, Seconds(5));
    EXPECT_EQ(i.max_lifetime, Seconds(60));
    EXPECT_EQ(i.max_token_bytes, 4096u);
    ASSERT_EQ(i.keys.size(), 2u);
    EXPECT_EQ(i.keys[0].kid, "h1");
    EXPECT_EQ(i.keys[0].secret_file, "/etc/bosun/h1");
    EXPECT_EQ(i.keys[1].alg, "EdDSA");
    EXPECT_EQ(i.keys[1].public_key_file, "/etc/bosun/e1.pem");
}

TEST(PrebindConfig, defaults_take_no_assertions)
{
    const auto r = load("");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.config.upstreams.at("example.org").prebind_login, AssertionLogin::none);
    EXPECT_EQ(r.config.upstreams.at("example.org").ticket_lifetime, Seconds(30));
    EXPECT_TRUE(r.config.prebind.issuers.empty());
}

TEST(PrebindConfig, key_kind_must_match_alg_no_hs_rs_confusion_by_config)
{
    const auto r = load(R"(
[[prebind.issuers]]
id = "sso"
issuer = "i"
[[prebind.issuers.keys]]
kid = "a"
alg = "HS256"
public_key_file = "/k.pem"
[[prebind.issuers.keys]]
kid = "b"
alg = "RS256"
secret_file = "/k"
[[prebind.issuers.keys]]
kid = "c"
alg = "none"
[[prebind.issuers.keys]]
kid = "a"
alg = "ES256"
public_key_file = "/k.pem"
)");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(mentions(r.errors, "prebind.issuers[0].keys[0]: an HS256 key needs"));
    EXPECT_TRUE(mentions(r.errors, "prebind.issuers[0].keys[1]: an RS256 key needs"));
    EXPECT_TRUE(mentions(r.errors, "\"none\" is not one of"));
    EXPECT_TRUE(mentions(r.errors, "kid \"a\" is used twice"));
}

TEST(PrebindConfig, issuer_needs_id_issuer_and_keys)
{
    const auto r = load("[[prebind.issuers]]\naudience = \"x\"\n");
    EXPECT_TRUE(mentions(r.errors, "\"id\" and \"issuer\" are required"));
    EXPECT_TRUE(mentions(r.errors, "\"keys\" needs at least one key"));
}

TEST(PrebindConfig, ticket_needs_a_secret_file_and_unknown_strategy_is_an_error)
{
    auto r = load("prebind_login = \"ticket\"\n");
    EXPECT_TRUE(mentions(r.errors, "ticket_secret_file: is required"));
    r = load("prebind_login = \"ejabberd\"\n");
    EXPECT_TRUE(mentions(r.errors, "\"ejabberd\" is not one of: none, ticket, ejabberd_jwt"));
}

TEST(PrebindConfig, reads_the_ejabberd_jwt_strategy_with_its_defaults)
{
    auto r
        = load("prebind_login = \"ejabberd_jwt\"\nejabberd_jwt_key_file = \"/etc/bosun/ej.jwk\"\n");
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
    const auto& up = r.config.upstreams.at("example.org");
    EXPECT_EQ(up.prebind_login, AssertionLogin::ejabberd_jwt);
    EXPECT_EQ(up.ejabberd_jwt_key_file, "/etc/bosun/ej.jwk");
    EXPECT_EQ(up.ejabberd_jwt_jid_field, "jid");
    EXPECT_EQ(up.ejabberd_jwt_lifetime, Seconds(60));
    r = load("prebind_login = \"ejabberd_jwt\"\nejabberd_jwt_key_file = \"/k.pem\"\n"
             "ejabberd_jwt_jid_field = \"user\"\nejabberd_jwt_lifetime = 15\n");
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
    EXPECT_EQ(r.config.upstreams.at("example.org").ejabberd_jwt_jid_field, "user");
    EXPECT_EQ(r.config.upstreams.at("example.org").ejabberd_jwt_lifetime, Seconds(15));
}

TEST(PrebindConfig, ejabberd_jwt_needs_a_key_file_a_string_claim_and_a_short_lifetime)
{
    auto r = load("prebind_login = \"ejabberd_jwt\"\n");
    EXPECT_TRUE(mentions(
        r.errors, "ejabberd_jwt_key_file: is required when prebind_login = \"ejabberd_jwt\""));
    r = load("ejabberd_jwt_jid_field = \"exp\"\nejabberd_jwt_lifetime = 3600\n");
    EXPECT_TRUE(mentions(r.errors, "ejabberd_jwt_jid_field: \"exp\" is not a string claim"));
    EXPECT_TRUE(mentions(r.errors, "ejabberd_jwt_lifetime: 3600 is out of range"));
    r = load("ejabberd_jwt_jid_field = \"my jid\"\n");
    EXPECT_TRUE(mentions(r.errors, "ejabberd_jwt_jid_field: expected a claim name without spaces"));
}

TEST(PrebindConfig, client_naming_an_unknown_issuer_is_an_error_and_assertion_without_one_warns)
{
    auto r
        = load(fmt::format("[[prebind.clients]]\nid = \"app\"\nkey_hashes = [\"{}\"]\n"
                           "allowed_domains = [\"example.org\"]\nassertion_issuers = [\"nope\"]\n",
            hash_a));
    EXPECT_TRUE(mentions(r.errors, "names issuer \"nope\""));
    r = load(fmt::format("[[prebind.clients]]\nid = \"app\"\nkey_hashes = [\"{}\"]\n"
                         "allowed_domains = [\"example.org\"]\nallowed_methods = [\"assertion\"]\n",
        hash_a));
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(mentions(r.warnings, "allows method assertion but names no assertion_issuers"));
}

}  // namespace
}  // namespace bosun::prebind
