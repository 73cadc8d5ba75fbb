#include "config/config.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/schema.hpp"

namespace bosun::config {
namespace {

namespace fs = std::filesystem;

// The smallest usable file: one loopback upstream, plain as XEP-0124 §19.2
// allows on the same host, so it produces neither errors nor warnings.
constexpr std::string_view minimal = "upstream.localhost.tls = \"none\"\n";

LoadResult load(std::string_view text)
{
    return parse(text, "test.toml");
}
LoadResult load_with_upstream(const std::string& text)
{
    return load(std::string(minimal) + text);
}

std::string joined(const std::vector<std::string>& lines)
{
    std::string out;
    for (const auto& line : lines)
        out += line + "\n";
    return out;
}

bool mentions(const std::vector<std::string>& lines, std::string_view needle)
{
    return std::any_of(lines.begin(), lines.end(),
        [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

#define EXPECT_MENTIONS(lines, needle)                                                             \
    EXPECT_TRUE(mentions(lines, needle)) << "want: " << (needle) << "\ngot:\n" << joined(lines)
#define EXPECT_CLEAN(result)                                                                       \
    do {                                                                                           \
        EXPECT_TRUE((result).errors.empty()) << joined((result).errors);                           \
        EXPECT_TRUE((result).warnings.empty()) << joined((result).warnings);                       \
    } while (0)

std::string read_text(const fs::path& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// A scratch file under gtest's temp dir, removed at scope exit.
struct TempFile {
    fs::path path;
    TempFile(std::string_view name, std::string_view content)
        : path(fs::path(::testing::TempDir()) / fmt::format("bosun_{}_{}", getpid(), name))
    {
        std::ofstream(path) << content;
    }
    ~TempFile() { fs::remove(path); }
};

const fs::path source_root = BOSUN_SOURCE_ROOT;

// ---- defaults and the shipped files --------------------------------------

TEST(ConfigDefaults, minimal_file_gives_documented_defaults)
{
    const LoadResult r = load(minimal);
    EXPECT_CLEAN(r);
    const Config& c = r.config;
    EXPECT_EQ(c.log_level, LogLevel::info);
    ASSERT_EQ(c.http.listen.size(), 1u);
    EXPECT_EQ(c.http.listen[0].host, "127.0.0.1");
    EXPECT_EQ(c.http.listen[0].port, 5280);
    EXPECT_EQ(c.http.path, "/http-bind");
    EXPECT_TRUE(c.http.cors_allowed_origins.empty());
    EXPECT_TRUE(c.http.trusted_proxies.empty());
    EXPECT_EQ(c.http.max_header_bytes, 8192u);
    EXPECT_EQ(c.http.max_body_bytes, 524288u);
    EXPECT_EQ(c.http.read_timeout, Seconds {15});
    EXPECT_EQ(c.http.idle_timeout, Seconds {120});
    EXPECT_EQ(c.http.max_connections, 9000u);
    EXPECT_EQ(c.bosh.max_wait, Seconds {60});
    EXPECT_EQ(c.bosh.default_wait, Seconds {60});
    EXPECT_EQ(c.bosh.inactivity, Seconds {60});
    EXPECT_EQ(c.bosh.polling, Seconds {2});
    EXPECT_EQ(c.bosh.max_hold, 1u);
    EXPECT_EQ(c.bosh.max_sessions, 8000u);
    EXPECT_EQ(c.bosh.max_stanza_bytes, 262144u);
    EXPECT_EQ(c.bosh.max_pending_bytes, 1048576u);
    EXPECT_EQ(c.bosh.connect_timeout, Seconds {10});
    EXPECT_EQ(c.bosh.max_connecting, 32u);
    EXPECT_EQ(c.bosh.max_connect_queue, 1000u);
    EXPECT_EQ(c.bosh.overload_lag, Duration {100});
}

TEST(ConfigDefaults, upstream_defaults_to_local_port_5222_with_tls_required)
{
    const LoadResult r = load("[upstream.\"example.org\"]\n");
    EXPECT_CLEAN(r);
    ASSERT_EQ(r.config.upstreams.count("example.org"), 1u);
    const UpstreamConfig& u = r.config.upstreams.at("example.org");
    EXPECT_EQ(u.domain, "example.org");
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 5222);
    EXPECT_EQ(u.tls, TlsPolicy::required);
    EXPECT_EQ(u.ca_file, "");
}

TEST(ConfigDefaults, tls_server_name_defaults_to_the_domain)
{
    const LoadResult r = load("[upstream.\"chat.example\"]\n[upstream.\"b.example\"]\n"
                              "tls_server_name = \"xmpp.hosting.example\"\n");
    EXPECT_CLEAN(r);
    EXPECT_EQ(r.config.upstreams.at("chat.example").tls_server_name, "chat.example");
    EXPECT_EQ(r.config.upstreams.at("b.example").tls_server_name, "xmpp.hosting.example");
}

TEST(ExampleFile, loads_without_errors_or_warnings)
{
    const LoadResult r = load_file((source_root / "conf/bosun.example.toml").string());
    EXPECT_CLEAN(r);
}

TEST(ExampleFile, serves_localhost_from_local_prosody_on_loopback_http)
{
    const Config c = load_file((source_root / "conf/bosun.example.toml").string()).config;
    ASSERT_EQ(c.http.listen.size(), 1u);
    EXPECT_EQ(c.http.listen[0].host, "127.0.0.1");
    EXPECT_EQ(c.http.listen[0].port, 5280);
    EXPECT_EQ(c.http.path, "/http-bind");
    ASSERT_EQ(c.upstreams.size(), 1u);
    const UpstreamConfig& u = c.upstreams.at("localhost");
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 5222);
    EXPECT_EQ(u.tls, TlsPolicy::none);
}

TEST(ExampleFile, sets_every_key_the_schema_accepts)
{
    const std::string text = read_text(source_root / "conf/bosun.example.toml");
    for (const std::string& path : key_paths()) {
        const std::string leaf = path.substr(path.rfind('.') + 1);
        EXPECT_NE(text.find("\n" + leaf + " = "), std::string::npos) << path;
    }
}

TEST(ConfigurationDoc, documents_every_key_the_schema_accepts)
{
    const std::string text = read_text(source_root / "docs/configuration.md");
    for (const std::string& path : key_paths()) {
        const std::string leaf = path.substr(path.rfind('.') + 1);
        EXPECT_NE(text.find("`" + leaf + "`"), std::string::npos) << path;
    }
}

TEST(ConfigValues, every_key_is_read_into_its_field)
{
    const LoadResult r = load(R"(
log_level = "debug"
[http]
listen = ["0.0.0.0:80", "[::]:8080"]
path = "/bosh"
cors_allowed_origins = ["https://app.example", "http://localhost:3000"]
trusted_proxies = ["10.0.0.0/8", "::1"]
max_header_bytes = 16384
max_body_bytes = 1048576
read_timeout = 30
idle_timeout = 300
max_connections = 20000
[bosh]
max_wait = 120
default_wait = 30
inactivity = 90
polling = 5
max_hold = 2
max_sessions = 10000
max_stanza_bytes = 65536
max_pending_bytes = 2097152
connect_timeout = 20
max_connecting = 8
max_connect_queue = 0
overload_lag_ms = 250
[upstream."example.org"]
host = "xmpp.example.org"
port = 5223
tls = "required"
tls_server_name = "xmpp.example.org"
)");
    EXPECT_CLEAN(r);
    const Config& c = r.config;
    EXPECT_EQ(c.log_level, LogLevel::debug);
    ASSERT_EQ(c.http.listen.size(), 2u);
    EXPECT_EQ(c.http.listen[1].host, "::");
    EXPECT_EQ(c.http.listen[1].port, 8080);
    EXPECT_EQ(c.http.path, "/bosh");
    EXPECT_EQ(c.http.cors_allowed_origins,
        (std::vector<std::string> {"https://app.example", "http://localhost:3000"}));
    EXPECT_EQ(c.http.trusted_proxies, (std::vector<std::string> {"10.0.0.0/8", "::1"}));
    EXPECT_EQ(c.http.max_header_bytes, 16384u);
    EXPECT_EQ(c.http.max_body_bytes, 1048576u);
    EXPECT_EQ(c.http.read_timeout, Seconds {30});
    EXPECT_EQ(c.http.idle_timeout, Seconds {300});
    EXPECT_EQ(c.http.max_connections, 20000u);
    EXPECT_EQ(c.bosh.max_wait, Seconds {120});
    EXPECT_EQ(c.bosh.default_wait, Seconds {30});
    EXPECT_EQ(c.bosh.inactivity, Seconds {90});
    EXPECT_EQ(c.bosh.polling, Seconds {5});
    EXPECT_EQ(c.bosh.max_hold, 2u);
    EXPECT_EQ(c.bosh.max_sessions, 10000u);
    EXPECT_EQ(c.bosh.max_stanza_bytes, 65536u);
    EXPECT_EQ(c.bosh.max_pending_bytes, 2097152u);
    EXPECT_EQ(c.bosh.connect_timeout, Seconds {20});
    EXPECT_EQ(c.bosh.max_connecting, 8u);
    EXPECT_EQ(c.bosh.max_connect_queue, 0u);
    EXPECT_EQ(c.bosh.overload_lag, Duration {250});
    const UpstreamConfig& u = c.upstreams.at("example.org");
    EXPECT_EQ(u.host, "xmpp.example.org");
    EXPECT_EQ(u.port, 5223);
    EXPECT_EQ(u.tls_server_name, "xmpp.example.org");
}

TEST(ConfigValues, each_log_level_name_selects_its_level)
{
    const std::pair<std::string_view, LogLevel> cases[]
        = {{"trace", LogLevel::trace}, {"debug", LogLevel::debug}, {"info", LogLevel::info},
            {"warn", LogLevel::warn}, {"error", LogLevel::error}};
    for (const auto& [name, level] : cases) {
        const LoadResult r = load_with_upstream(fmt::format("log_level = \"{}\"\n", name));
        EXPECT_CLEAN(r);
        EXPECT_EQ(r.config.log_level, level) << name;
    }
}

TEST(ConfigValues, each_tls_policy_name_selects_its_policy)
{
    const std::pair<std::string_view, TlsPolicy> cases[] = {{"required", TlsPolicy::required},
        {"optional", TlsPolicy::optional}, {"none", TlsPolicy::none}};
    for (const auto& [name, policy] : cases) {
        const LoadResult r = load(fmt::format("[upstream.\"a.example\"]\ntls = \"{}\"\n", name));
        EXPECT_TRUE(r.ok()) << joined(r.errors);
        EXPECT_EQ(r.config.upstreams.at("a.example").tls, policy) << name;
    }
}

// ---- unknown keys and wrong types ------------------------------------------

TEST(UnknownKeys, unknown_top_level_key_is_an_error_at_its_position)
{
    const LoadResult r = load_with_upstream("colour = \"blue\"\n");
    ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_EQ(r.errors[0].rfind("test.toml:2:1: colour: unknown key", 0), 0u) << r.errors[0];
}

TEST(UnknownKeys, unknown_table_is_an_error)
{
    const LoadResult r = load_with_upstream("[database]\nurl = \"x\"\n");
    ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_MENTIONS(r.errors, "test.toml:2:2: database: unknown table");
}

TEST(UnknownKeys, unknown_key_in_each_section_is_an_error_listing_the_known_keys)
{
    const LoadResult r = load("[http]\nport = 80\n[bosh]\nwait = 3\n"
                              "[upstream.\"a.example\"]\nhostname = \"x\"\n");
    ASSERT_EQ(r.errors.size(), 3u) << joined(r.errors);
    EXPECT_MENTIONS(r.errors, "test.toml:2:1: http.port: unknown key (known keys: listen, path");
    EXPECT_MENTIONS(r.errors, "test.toml:4:1: bosh.wait: unknown key (known keys: max_wait");
    EXPECT_MENTIONS(r.errors, "test.toml:6:1: upstream.\"a.example\".hostname: unknown key");
}

TEST(WrongTypes, string_for_a_number_is_an_error_naming_both_types)
{
    const LoadResult r = load_with_upstream("[bosh]\nmax_wait = \"60\"\n");
    EXPECT_MENTIONS(r.errors, "test.toml:3:12: bosh.max_wait: expected an integer, got a string");
}

TEST(WrongTypes, float_for_an_integer_is_an_error)
{
    const LoadResult r = load_with_upstream("http.read_timeout = 1.5\n");
    EXPECT_MENTIONS(r.errors, "http.read_timeout: expected an integer, got a float");
}

TEST(WrongTypes, scalar_where_a_section_belongs_is_an_error)
{
    const LoadResult r = load_with_upstream("http = 5\nbosh = \"x\"\n");
    EXPECT_EQ(r.errors.size(), 2u) << joined(r.errors);
    EXPECT_MENTIONS(r.errors, "http: expected a table, got an integer");
    EXPECT_MENTIONS(r.errors, "bosh: expected a table, got a string");
}

TEST(WrongTypes, upstream_entry_that_is_not_a_table_is_an_error)
{
    const LoadResult r = load("upstream.\"a.example\" = 5222\n");
    EXPECT_MENTIONS(r.errors, "upstream.\"a.example\": expected a table, got an integer");
}

TEST(WrongTypes, array_element_of_the_wrong_type_is_an_error_with_its_index)
{
    const LoadResult r = load_with_upstream("http.trusted_proxies = [\"::1\", 10]\n");
    EXPECT_MENTIONS(r.errors, "http.trusted_proxies[1]: expected a string, got an integer");
}

TEST(WrongTypes, string_for_a_list_is_an_error)
{
    const LoadResult r = load_with_upstream("http.listen = \"127.0.0.1:5280\"\n");
    EXPECT_MENTIONS(r.errors, "http.listen: expected an array of strings, got a string");
}

TEST(WrongTypes, unknown_enum_name_is_an_error_listing_the_choices)
{
    const LoadResult r = load("log_level = \"verbose\"\n[upstream.\"a.example\"]\ntls = \"yes\"\n");
    EXPECT_MENTIONS(
        r.errors, "log_level: \"verbose\" is not one of: trace, debug, info, warn, error");
    EXPECT_MENTIONS(r.errors, "tls: \"yes\" is not one of: required, optional, none");
}

// ---- numeric bounds: a table of every number, with what it needs around it

struct Range {
    std::string_view key;
    std::int64_t min;
    std::int64_t max;
    std::string_view context; // other keys so the bound itself is consistent
};

constexpr Range ranges[] = {
    {"http.max_header_bytes", 1024, 65536, ""},
    {"http.max_body_bytes", 16384, 67108864, "bosh.max_stanza_bytes = 10000\n"},
    {"http.read_timeout", 1, 300, ""},
    {"http.idle_timeout", 1, 3600, ""},
    {"http.max_connections", 1, 1000000, "bosh.max_sessions = 1\n"},
    {"bosh.max_wait", 1, 3600, "bosh.default_wait = 0\n"},
    {"bosh.default_wait", 0, 3600, "bosh.max_wait = 3600\n"},
    {"bosh.inactivity", 10, 3600, ""},
    {"bosh.polling", 0, 60, "bosh.inactivity = 61\n"},
    {"bosh.max_hold", 1, 16, ""},
    {"bosh.max_sessions", 1, 1000000, "http.max_connections = 1000000\n"},
    {"bosh.max_stanza_bytes", 10000, 16777216,
        "http.max_body_bytes = 67108864\nbosh.max_pending_bytes = 16777216\n"},
    {"bosh.max_pending_bytes", 10000, 1073741824, "bosh.max_stanza_bytes = 10000\n"},
    {"bosh.connect_timeout", 1, 300, ""},
    {"bosh.max_connecting", 1, 100000, ""},
    {"bosh.max_connect_queue", 0, 1000000, ""},
    {"bosh.overload_lag_ms", 0, 10000, ""},
    {"upstream.localhost.port", 1, 65535, ""},
};

TEST(NumberBounds, every_number_at_its_bounds_is_accepted)
{
    for (const Range& r : ranges) {
        for (std::int64_t v : {r.min, r.max}) {
            const LoadResult result
                = load_with_upstream(fmt::format("{}{} = {}\n", r.context, r.key, v));
            EXPECT_CLEAN(result);
        }
    }
}

TEST(NumberBounds, every_number_just_outside_its_bounds_is_rejected)
{
    for (const Range& r : ranges) {
        const std::string leaf(r.key.substr(r.key.rfind('.') + 1));
        for (std::int64_t v : {r.min - 1, r.max + 1}) {
            const LoadResult result
                = load_with_upstream(fmt::format("{}{} = {}\n", r.context, r.key, v));
            EXPECT_MENTIONS(
                result.errors, fmt::format("{}: {} is out of range {}..{}", leaf, v, r.min, r.max));
        }
    }
}

TEST(NumberBounds, negative_size_is_rejected_not_wrapped)
{
    const LoadResult r = load_with_upstream("http.max_body_bytes = -1\n");
    EXPECT_MENTIONS(r.errors, "http.max_body_bytes: -1 is out of range");
    EXPECT_EQ(r.config.http.max_body_bytes, HttpConfig {}.max_body_bytes);
}

// ---- rules on single string values ------------------------------------------

TEST(ValueRules, listen_address_that_is_a_name_is_rejected)
{
    const LoadResult r = load_with_upstream("http.listen = [\"localhost:5280\"]\n");
    EXPECT_MENTIONS(r.errors, "http.listen[0]: 'localhost' is not a numeric IPv4 address");
}

TEST(ValueRules, duplicate_listen_address_is_rejected_in_canonical_form)
{
    const LoadResult r = load_with_upstream(
        "http.listen = [\"[::1]:5280\", \"127.0.0.1:80\", \"[0:0::1]:5280\"]\n");
    ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_MENTIONS(r.errors, "http.listen[2]: listed twice");
}

TEST(ValueRules, empty_listen_list_is_rejected)
{
    const LoadResult r = load_with_upstream("http.listen = []\n");
    EXPECT_MENTIONS(r.errors, "http.listen: at least one address is required");
}

TEST(ValueRules, listen_addresses_are_stored_canonically)
{
    const LoadResult r = load_with_upstream("http.listen = [\"[2001:DB8:0::1]:443\"]\n");
    EXPECT_CLEAN(r);
    EXPECT_EQ(r.config.http.listen.at(0).host, "2001:db8::1");
}

TEST(ValueRules, path_with_query_is_rejected)
{
    const LoadResult r = load_with_upstream("http.path = \"/http-bind?x=1\"\n");
    EXPECT_MENTIONS(r.errors, "http.path: must not contain '?'");
}

TEST(ValueRules, wildcard_origin_is_rejected)
{
    const LoadResult r = load_with_upstream("http.cors_allowed_origins = [\"*\"]\n");
    EXPECT_MENTIONS(r.errors, "http.cors_allowed_origins[0]: \"*\" is not allowed");
}

TEST(ValueRules, origin_with_trailing_slash_is_rejected_with_the_fix)
{
    const LoadResult r
        = load_with_upstream("http.cors_allowed_origins = [\"https://app.example/\"]\n");
    EXPECT_MENTIONS(r.errors, "remove the trailing '/': browsers send \"https://app.example\"");
}

TEST(ValueRules, every_bad_list_element_is_reported)
{
    const LoadResult r = load_with_upstream("http.cors_allowed_origins = [\"ftp://a.example\", "
                                            "\"https://ok.example\", \"https://b.example/x\"]\n");
    EXPECT_EQ(r.errors.size(), 2u) << joined(r.errors);
    EXPECT_MENTIONS(r.errors, "cors_allowed_origins[0]");
    EXPECT_MENTIONS(r.errors, "cors_allowed_origins[2]");
}

TEST(ValueRules, proxy_prefix_longer_than_the_address_is_rejected)
{
    const LoadResult r
        = load_with_upstream("http.trusted_proxies = [\"10.0.0.0/33\", \"fd00::/129\"]\n");
    EXPECT_MENTIONS(r.errors, "trusted_proxies[0]: prefix length must be a number from 0 to 32");
    EXPECT_MENTIONS(r.errors, "trusted_proxies[1]: prefix length must be a number from 0 to 128");
}

TEST(ValueRules, uppercase_upstream_domain_is_rejected_at_its_table_header)
{
    const LoadResult r = load("[upstream.\"Example.org\"]\n");
    EXPECT_MENTIONS(r.errors, "test.toml:1:11: upstream.\"Example.org\": must be lowercase");
}

TEST(ValueRules, malformed_upstream_domain_is_rejected)
{
    const LoadResult r = load("[upstream.\"bad_domain.example\"]\n[upstream.\"a..example\"]\n");
    EXPECT_EQ(r.errors.size(), 2u) << joined(r.errors);
    EXPECT_MENTIONS(r.errors, "upstream.\"bad_domain.example\": not a valid domain name");
}

TEST(ValueRules, upstream_host_must_be_an_address_or_a_name)
{
    const LoadResult r = load("[upstream.\"a.example\"]\nhost = \"xmpp server\"\n");
    EXPECT_MENTIONS(
        r.errors, "upstream.\"a.example\".host: expected a numeric IP address or a DNS name");
}

TEST(ValueRules, tls_server_name_must_be_a_name)
{
    const LoadResult r = load("[upstream.\"a.example\"]\ntls_server_name = \"*.example\"\n");
    EXPECT_MENTIONS(r.errors, "upstream.\"a.example\".tls_server_name:");
}

// ---- ca_file -------------------------------------------------------------------

TEST(CaFile, missing_ca_file_is_an_error)
{
    const LoadResult r = load("[upstream.\"a.example\"]\nca_file = \"/nonexistent/ca.pem\"\n");
    EXPECT_MENTIONS(
        r.errors, "ca_file: cannot read '/nonexistent/ca.pem': No such file or directory");
}

TEST(CaFile, directory_as_ca_file_is_an_error)
{
    const LoadResult r
        = load(fmt::format("[upstream.\"a.example\"]\nca_file = \"{}\"\n", ::testing::TempDir()));
    EXPECT_MENTIONS(r.errors, "is a directory, expected a PEM file");
}

TEST(CaFile, file_without_a_pem_certificate_is_an_error)
{
    const TempFile der("ca.der", std::string("\x30\x82\x01\x0a", 4));
    const LoadResult r
        = load(fmt::format("[upstream.\"a.example\"]\nca_file = \"{}\"\n", der.path.string()));
    EXPECT_MENTIONS(r.errors, "holds no PEM certificate");
}

TEST(CaFile, unreadable_ca_file_is_an_error)
{
    if (geteuid() == 0)
        GTEST_SKIP() << "root reads any file";
    const TempFile pem("locked.pem", "-----BEGIN CERTIFICATE-----\n");
    fs::permissions(pem.path, fs::perms::none);
    const LoadResult r
        = load(fmt::format("[upstream.\"a.example\"]\nca_file = \"{}\"\n", pem.path.string()));
    EXPECT_MENTIONS(r.errors, "Permission denied");
}

TEST(CaFile, readable_pem_ca_file_is_accepted)
{
    const TempFile pem(
        "ca.pem", "# bundle\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    const LoadResult r
        = load(fmt::format("[upstream.\"a.example\"]\nca_file = \"{}\"\n", pem.path.string()));
    EXPECT_CLEAN(r);
    EXPECT_EQ(r.config.upstreams.at("a.example").ca_file, pem.path.string());
}

// ---- rules between keys ---------------------------------------------------------

TEST(CrossRules, no_upstream_is_an_error)
{
    const LoadResult r = load("log_level = \"info\"\n");
    ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_EQ(
        r.errors[0], "test.toml: upstream: at least one [upstream.\"domain\"] table is required");
}

TEST(CrossRules, empty_upstream_table_is_an_error)
{
    const LoadResult r = load("[upstream]\n");
    EXPECT_MENTIONS(r.errors, "at least one [upstream.\"domain\"] table is required");
}

TEST(CrossRules, default_wait_above_max_wait_is_an_error)
{
    const LoadResult r = load_with_upstream("bosh.max_wait = 30\nbosh.default_wait = 45\n");
    ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_MENTIONS(r.errors, "test.toml:3:21: bosh.default_wait: 45 exceeds bosh.max_wait (30)");
}

TEST(CrossRules, lowering_max_wait_alone_points_at_max_wait)
{
    const LoadResult r = load_with_upstream("bosh.max_wait = 30\n");
    EXPECT_MENTIONS(r.errors, "test.toml:2:17: bosh.default_wait: 60 exceeds bosh.max_wait (30)");
}

TEST(CrossRules, polling_not_below_inactivity_is_an_error)
{
    const LoadResult r = load_with_upstream("bosh.inactivity = 20\nbosh.polling = 20\n");
    EXPECT_MENTIONS(r.errors, "bosh.polling: 20 must be less than bosh.inactivity (20)");
}

TEST(CrossRules, body_too_small_for_the_largest_stanza_is_an_error)
{
    const LoadResult r = load_with_upstream("http.max_body_bytes = 262144\n");
    EXPECT_MENTIONS(r.errors,
        "http.max_body_bytes: 262144 cannot carry a stanza of "
        "bosh.max_stanza_bytes (262144) plus its <body/> wrapper: use at least 263168");
}

TEST(CrossRules, pending_queue_smaller_than_one_stanza_is_an_error)
{
    const LoadResult r = load_with_upstream("bosh.max_pending_bytes = 100000\n");
    EXPECT_MENTIONS(r.errors, "bosh.max_pending_bytes: 100000 cannot queue one stanza");
}

TEST(CrossRules, fewer_connections_than_sessions_is_only_a_warning)
{
    const LoadResult r = load_with_upstream("http.max_connections = 100\n");
    EXPECT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_MENTIONS(r.warnings, "http.max_connections: 100 is below bosh.max_sessions (8000)");
}

TEST(CrossRules, plain_tls_to_a_remote_host_is_a_warning)
{
    const LoadResult r = load("[upstream.\"a.example\"]\nhost = \"192.0.2.10\"\ntls = \"none\"\n");
    EXPECT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_MENTIONS(r.warnings,
        "test.toml:3:7: upstream.\"a.example\".tls: \"none\" sends XMPP in "
        "clear text to 192.0.2.10");
    EXPECT_MENTIONS(r.warnings, "XEP-0124 §19.2");
}

TEST(CrossRules, plain_tls_to_a_loopback_host_is_silent)
{
    for (std::string_view host :
        {"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "localhost"}) {
        const LoadResult r
            = load(fmt::format("[upstream.\"a.example\"]\nhost = \"{}\"\ntls = \"none\"\n", host));
        EXPECT_CLEAN(r);
    }
}

TEST(CrossRules, optional_tls_to_a_remote_host_is_a_warning)
{
    const LoadResult r
        = load("[upstream.\"a.example\"]\nhost = \"xmpp.example\"\ntls = \"optional\"\n");
    EXPECT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_MENTIONS(
        r.warnings, "upstream.\"a.example\".tls: \"optional\" falls back to clear text");
}

TEST(CrossRules, ca_file_with_plain_tls_is_a_warning)
{
    const TempFile pem("unused.pem", "-----BEGIN CERTIFICATE-----\n");
    const LoadResult r = load(fmt::format(
        "[upstream.\"a.example\"]\ntls = \"none\"\nca_file = \"{}\"\n", pem.path.string()));
    EXPECT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_MENTIONS(r.warnings, "test.toml:3:11: upstream.\"a.example\".ca_file: is not used");
}

// ---- all errors at once, syntax errors, files ----------------------------------

TEST(ErrorCollection, every_error_in_a_file_is_reported_in_file_order)
{
    const LoadResult r = load(R"(log_level = "loud"
colour = "blue"
[http]
listen = ["localhost:80"]
path = "bosh"
max_body_bytes = "big"
[bosh]
max_hold = 17
bogus = 1
[upstream."Example.org"]
port = 0
)");
    ASSERT_EQ(r.errors.size(), 9u) << joined(r.errors);
    const std::string_view expected_starts[] = {"test.toml:1:13: log_level:",
        "test.toml:2:1: colour:", "test.toml:4:11: http.listen[0]:", "test.toml:5:8: http.path:",
        "test.toml:6:18: http.max_body_bytes:", "test.toml:8:12: bosh.max_hold:",
        "test.toml:9:1: bosh.bogus:", "test.toml:10:11: upstream.\"Example.org\":",
        "test.toml:11:8: upstream.\"Example.org\".port:"};
    for (std::size_t i = 0; i < r.errors.size(); ++i)
        EXPECT_EQ(r.errors[i].rfind(expected_starts[i], 0), 0u) << r.errors[i];
}

TEST(ErrorCollection, a_bad_value_keeps_the_default_and_later_keys_are_still_read)
{
    const LoadResult r = load_with_upstream("[bosh]\nmax_hold = 99\nmax_sessions = 10\n");
    EXPECT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_EQ(r.config.bosh.max_hold, 1u);
    EXPECT_EQ(r.config.bosh.max_sessions, 10u);
}

TEST(SyntaxErrors, syntax_error_is_reported_with_line_and_column)
{
    const LoadResult r = load("log_level = \"info\"\n[http\n");
    ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_EQ(r.errors[0].rfind("test.toml:2:6: syntax error: ", 0), 0u) << r.errors[0];
}

TEST(SyntaxErrors, duplicate_key_is_a_syntax_error_at_the_second_one)
{
    const LoadResult r = load_with_upstream("log_level = \"info\"\nlog_level = \"warn\"\n");
    ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_EQ(r.errors[0].rfind("test.toml:3:", 0), 0u) << r.errors[0];
    EXPECT_MENTIONS(r.errors, "syntax error");
}

TEST(LoadFile, missing_file_is_one_error_naming_it)
{
    const LoadResult r = load_file("/nonexistent/bosun.toml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0], "/nonexistent/bosun.toml: cannot open: No such file or directory");
}

TEST(LoadFile, directory_is_an_error)
{
    const LoadResult r = load_file(::testing::TempDir());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_MENTIONS(r.errors, "is a directory");
}

TEST(LoadFile, messages_name_the_file_path)
{
    const TempFile file("bad.toml", std::string(minimal) + "bosh.max_hold = 0\n");
    const LoadResult r = load_file(file.path.string());
    ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_EQ(r.errors[0].rfind(file.path.string() + ":2:17: bosh.max_hold:", 0), 0u)
        << r.errors[0];
}

} // namespace
} // namespace bosun::config
