// prebind_login strategies (src/prebind/upstream_login.hpp): the ejabberd_jwt
// key file in the forms ejabberd's jwt_key uses, and what LoginMinter mints
// per domain. The tokens must be what ejabberd_auth_jwt accepts: the JID
// claim and exp, signed with the key behind jwt_key.
#include "prebind/upstream_login.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "../auth/test_keys.hpp"
#include "auth/base64url.hpp"
#include "auth/jwt.hpp"
#include "auth/signature.hpp"
#include "common/random.hpp"
#include "prebind/ticket.hpp"

namespace bosun::prebind::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const auth::UnixTime now {std::chrono::seconds(1'735'732'800)};
const std::string secret = "ejabberd-jwt-secret-ejabberd-jwt-secret!";  // 40 bytes
const std::string ticket_secret = "ticket-secret-ticket-secret-ticket-secret";

std::string oct_jwk(std::string_view bytes, std::string_view extra = "")
{
    return fmt::format(R"({{"kty":"oct"{},"k":"{}"}})", extra, auth::base64url_encode(bytes));
}

bool hs256_valid(const std::string& token, std::string_view key)
{
    auto jws = auth::split_compact(token, auth::default_max_token_bytes);
    auto verify = auth::load_verify_key_hs256("x", "y", key);
    return jws && verify
        && auth::verify_signature(
            auth::Alg::HS256, verify->material, jws->signing_input, jws->signature);
}

TEST(EjabberdJwtKey, an_oct_jwk_is_an_hs256_key)
{
    auto key
        = load_ejabberd_jwt_key("\n" + oct_jwk(secret, R"(,"alg":"HS256","use":"sig")") + "\n");
    ASSERT_TRUE(key) << key.error();
    EXPECT_EQ(key->alg, auth::Alg::HS256);
    EXPECT_TRUE(key->kid.empty());  // ejabberd ignores kid; none is sent
}

TEST(EjabberdJwtKey, a_set_of_one_key_is_that_key_and_larger_sets_are_refused)
{
    EXPECT_TRUE(load_ejabberd_jwt_key(fmt::format(R"({{"keys":[{}]}})", oct_jwk(secret))));
    auto two = load_ejabberd_jwt_key(
        fmt::format(R"({{"keys":[{},{}]}})", oct_jwk(secret), oct_jwk(secret)));
    ASSERT_FALSE(two);
    EXPECT_NE(two.error().find("a set of one key"), std::string::npos);
}

TEST(EjabberdJwtKey, weak_public_or_foreign_keys_are_refused_without_echoing_them)
{
    const std::string short_secret = "only-twenty-bytes!!!";
    auto weak = load_ejabberd_jwt_key(oct_jwk(short_secret));
    ASSERT_FALSE(weak);
    EXPECT_EQ(weak.error().find(auth::base64url_encode(short_secret)), std::string::npos);

    auto ec = load_ejabberd_jwt_key(R"({"kty":"EC","crv":"P-256","x":"AA","y":"AA"})");
    ASSERT_FALSE(ec);
    EXPECT_NE(ec.error().find("give Bosun the private key as PEM"), std::string::npos);
    EXPECT_FALSE(load_ejabberd_jwt_key(oct_jwk(secret, R"(,"alg":"HS512")")));
    EXPECT_FALSE(load_ejabberd_jwt_key(R"({"kty":"oct","k":"not base64url!"})"));
    EXPECT_FALSE(load_ejabberd_jwt_key(R"({"kty":"oct"})"));
    EXPECT_FALSE(load_ejabberd_jwt_key("{not json"));
    EXPECT_FALSE(load_ejabberd_jwt_key(secret));  // a raw secret: ejabberd cannot read it
    EXPECT_FALSE(load_ejabberd_jwt_key(auth::test::p256().public_pem));
}

TEST(EjabberdJwtKey, pem_private_keys_give_their_one_algorithm)
{
    auto es = load_ejabberd_jwt_key(auth::test::p256().private_pem);
    ASSERT_TRUE(es) << es.error();
    EXPECT_EQ(es->alg, auth::Alg::ES256);
    auto ed = load_ejabberd_jwt_key(auth::test::ed25519().private_pem);
    ASSERT_TRUE(ed) << ed.error();
    EXPECT_EQ(ed->alg, auth::Alg::EdDSA);
}

class LoginMinterTest : public ::testing::Test {
protected:
    LoginMinterTest()
        : dir_(fs::temp_directory_path() / fmt::format("bosun-logins-{:016x}", random_u64()))
    {
        fs::create_directories(dir_);
        UpstreamConfig ej;
        ej.prebind_login = AssertionLogin::ejabberd_jwt;
        ej.ejabberd_jwt_key_file = write("ej.jwk", oct_jwk(secret) + "\n");
        ej.ejabberd_jwt_lifetime = 45s;
        upstreams["chat.example"] = ej;
        UpstreamConfig es = ej;
        es.ejabberd_jwt_key_file = write("ej.pem", auth::test::p256().private_pem);
        es.ejabberd_jwt_jid_field = "user";
        upstreams["es.example"] = es;
        UpstreamConfig ticket;
        ticket.prebind_login = AssertionLogin::ticket;
        ticket.ticket_secret_file = write("ticket.secret", ticket_secret);
        upstreams["tickets.example"] = ticket;
        upstreams["plain.example"] = UpstreamConfig {};
    }
    ~LoginMinterTest() override { fs::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& text)
    {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << text;
        return path.string();
    }

    fs::path dir_;
    std::map<std::string, UpstreamConfig> upstreams;
};

TEST_F(LoginMinterTest, ejabberd_jwt_carries_the_bare_jid_and_a_short_exp)
{
    LoginMinter minter(upstreams);
    auto minted = minter.mint({"alice", "chat.example"}, now);
    ASSERT_TRUE(minted);
    EXPECT_EQ(minted->exp, (now + 45s).time_since_epoch().count());
    auto jws = auth::split_compact(minted->secret, auth::default_max_token_bytes);
    ASSERT_TRUE(jws);
    EXPECT_EQ(jws->header, R"({"alg":"HS256","typ":"JWT"})");
    EXPECT_EQ(jws->payload, R"({"jid":"alice@chat.example","exp":1735732845})");
    EXPECT_TRUE(hs256_valid(minted->secret, secret));
    EXPECT_FALSE(hs256_valid(minted->secret, ticket_secret));
}

TEST_F(LoginMinterTest, the_jid_field_and_a_pem_key_come_from_the_domain)
{
    LoginMinter minter(upstreams);
    auto minted = minter.mint({"bob", "es.example"}, now);
    ASSERT_TRUE(minted);
    auto jws = auth::split_compact(minted->secret, auth::default_max_token_bytes);
    ASSERT_TRUE(jws);
    EXPECT_EQ(jws->header, R"({"alg":"ES256","typ":"JWT"})");
    EXPECT_EQ(jws->payload, R"({"user":"bob@es.example","exp":1735732845})");
    auto pub = auth::load_verify_key_pem("x", "y", auth::test::p256().public_pem);
    ASSERT_TRUE(pub);
    EXPECT_TRUE(auth::verify_signature(
        auth::Alg::ES256, pub->material, jws->signing_input, jws->signature));
}

TEST_F(LoginMinterTest, tickets_still_mint_and_domains_without_a_strategy_get_nothing)
{
    LoginMinter minter(upstreams);
    auto ticket = minter.mint({"carol", "tickets.example"}, now);
    ASSERT_TRUE(ticket);
    EXPECT_EQ(ticket->exp, (now + 30s).time_since_epoch().count());
    EXPECT_TRUE(check_ticket(
        ticket_secret, ticket->secret, "carol", "tickets.example", now.time_since_epoch().count()));
    EXPECT_FALSE(minter.mint({"dave", "plain.example"}, now));
    EXPECT_FALSE(minter.mint({"dave", "unknown.example"}, now));
    EXPECT_TRUE(minter.serves("chat.example"));
    EXPECT_TRUE(minter.serves("tickets.example"));
    EXPECT_FALSE(minter.serves("plain.example"));
}

TEST_F(LoginMinterTest, an_unreadable_or_bad_key_file_stops_startup_and_is_named)
{
    upstreams["chat.example"].ejabberd_jwt_key_file = (dir_ / "missing.jwk").string();
    try {
        LoginMinter minter(upstreams);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("upstream chat.example: cannot read "
                                             "ejabberd_jwt_key_file"),
            std::string::npos)
            << e.what();
    }
    upstreams["chat.example"].ejabberd_jwt_key_file = write("weak.jwk", oct_jwk("short"));
    EXPECT_THROW(LoginMinter {upstreams}, std::runtime_error);
    Config config;
    config.upstreams = upstreams;
    const auto problems = check_login_secrets(config);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("upstream chat.example: ejabberd_jwt_key_file"), std::string::npos)
        << problems[0];
    EXPECT_EQ(problems[0].find(auth::base64url_encode("short")), std::string::npos);
}

}  // namespace
}  // namespace bosun::prebind::test
