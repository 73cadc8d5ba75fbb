#include "auth/keys.hpp"

#include <gtest/gtest.h>

#include <string>

#include "test_keys.hpp"

namespace bosun::auth {
namespace {

const std::string secret32(32, 'k');

TEST(Keys, pem_key_type_fixes_the_algorithm)
{
    auto rsa = load_verify_key_pem("iss", "k", test::rsa2048().public_pem);
    auto ec = load_verify_key_pem("iss", "k", test::p256().public_pem);
    auto ed = load_verify_key_pem("iss", "k", test::ed25519().public_pem);
    ASSERT_TRUE(rsa) << rsa.error();
    ASSERT_TRUE(ec) << ec.error();
    ASSERT_TRUE(ed) << ed.error();
    EXPECT_EQ(rsa->alg, Alg::RS256);
    EXPECT_EQ(ec->alg, Alg::ES256);
    EXPECT_EQ(ed->alg, Alg::EdDSA);
    EXPECT_EQ(rsa->issuer, "iss");
    EXPECT_EQ(rsa->kid, "k");
}

TEST(Keys, alg_names_are_exact_and_none_is_not_one)
{
    EXPECT_EQ(alg_from_wire("HS256"), Alg::HS256);
    EXPECT_EQ(alg_from_wire("EdDSA"), Alg::EdDSA);
    EXPECT_FALSE(alg_from_wire("none"));
    EXPECT_FALSE(alg_from_wire("hs256"));
    EXPECT_FALSE(alg_from_wire("HS512"));
    for (Alg a : {Alg::HS256, Alg::RS256, Alg::ES256, Alg::EdDSA}) {
        EXPECT_EQ(alg_from_wire(to_wire(a)), a);
    }
}

TEST(Keys, rsa_key_under_2048_bits_is_refused)
{
    auto key = load_verify_key_pem("iss", "k", test::generate("RSA", 1024).public_pem);
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().find("1024"), std::string::npos) << key.error();
}

TEST(Keys, ec_key_off_p256_is_refused)
{
    auto key = load_verify_key_pem("iss", "k", test::generate("EC", 0, "P-384").public_pem);
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().find("P-256"), std::string::npos) << key.error();
}

TEST(Keys, ed448_key_is_refused)
{
    auto key = load_verify_key_pem("iss", "k", test::generate("ED448").public_pem);
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().find("unsupported key type"), std::string::npos) << key.error();
}

TEST(Keys, private_key_is_refused_as_a_verification_key)
{
    auto key = load_verify_key_pem("iss", "k", test::p256().private_pem);
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().find("public key"), std::string::npos) << key.error();
    EXPECT_EQ(key.error().find("BEGIN PRIVATE"), std::string::npos) << key.error();
}

TEST(Keys, garbage_is_refused_with_a_clear_message)
{
    auto key = load_verify_key_pem("iss", "k", "not a key");
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().find("not a PEM public key"), std::string::npos) << key.error();
}

TEST(Keys, configured_alg_must_match_the_key_type)
{
    auto key = load_verify_key_pem("iss", "k", test::p256().public_pem, Alg::RS256);
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().find("ES256"), std::string::npos) << key.error();
    EXPECT_TRUE(load_verify_key_pem("iss", "k", test::p256().public_pem, Alg::ES256));
}

TEST(Keys, hs256_secret_needs_256_bits)
{
    EXPECT_FALSE(load_verify_key_hs256("iss", "k", std::string(31, 'k')));
    EXPECT_FALSE(load_signing_key_hs256(std::string(31, 'k')));
    auto key = load_verify_key_hs256("iss", "k", secret32);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->alg, Alg::HS256);
    EXPECT_TRUE(load_signing_key_hs256(secret32));
}

TEST(Keys, pem_key_is_refused_as_an_hmac_secret)
{
    // The HS/RS confusion, attempted through configuration.
    auto key = load_verify_key_hs256("iss", "k", test::rsa2048().public_pem);
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().find("not a PEM key"), std::string::npos) << key.error();
    EXPECT_FALSE(load_signing_key_hs256(test::rsa2048().public_pem));
}

TEST(Keys, load_errors_never_contain_the_secret)
{
    const std::string secret = "Tr0ub4dor&3-horse-battery-stap";  // 30 bytes
    auto key = load_verify_key_hs256("iss", "k", secret);
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().find(secret), std::string::npos);
    EXPECT_EQ(key.error().find("Tr0ub"), std::string::npos);
}

TEST(Keys, signing_key_comes_from_a_private_pem)
{
    auto rsa = load_signing_key_pem(test::rsa2048().private_pem, "r1");
    auto ec = load_signing_key_pem(test::p256().private_pem);
    auto ed = load_signing_key_pem(test::ed25519().private_pem);
    ASSERT_TRUE(rsa) << rsa.error();
    ASSERT_TRUE(ec) << ec.error();
    ASSERT_TRUE(ed) << ed.error();
    EXPECT_EQ(rsa->alg, Alg::RS256);
    EXPECT_EQ(rsa->kid, "r1");
    EXPECT_EQ(ec->alg, Alg::ES256);
    EXPECT_EQ(ed->alg, Alg::EdDSA);
    EXPECT_FALSE(load_signing_key_pem(test::p256().public_pem));
    EXPECT_FALSE(load_signing_key_pem(test::generate("RSA", 1024).private_pem));
}

TEST(Keys, encrypted_private_key_is_refused_without_prompting)
{
    auto key = load_signing_key_pem(test::encrypted_private_pem(test::p256(), "passphrase"));
    ASSERT_FALSE(key);
    EXPECT_NE(key.error().find("unencrypted"), std::string::npos) << key.error();
}

TEST(KeySet, keys_are_found_by_issuer_and_kid)
{
    KeySet keys;
    auto a = load_verify_key_hs256("https://a.example", "k1", secret32);
    auto b = load_verify_key_pem("https://b.example", "k1", test::p256().public_pem);
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(keys.add(std::move(*a)));
    ASSERT_TRUE(keys.add(std::move(*b)));  // the same kid under another issuer
    EXPECT_EQ(keys.size(), 2u);
    ASSERT_NE(keys.find("https://a.example", "k1"), nullptr);
    EXPECT_EQ(keys.find("https://a.example", "k1")->alg, Alg::HS256);
    EXPECT_EQ(keys.find("https://b.example", "k1")->alg, Alg::ES256);
    EXPECT_EQ(keys.find("https://c.example", "k1"), nullptr);
    EXPECT_EQ(keys.find("https://a.example", "k2"), nullptr);
    EXPECT_TRUE(keys.has_kid("k1"));
    EXPECT_FALSE(keys.has_kid("k2"));
}

TEST(KeySet, second_key_for_the_same_issuer_and_kid_is_refused)
{
    KeySet keys;
    ASSERT_TRUE(keys.add(*load_verify_key_hs256("iss", "k1", secret32)));
    auto again = keys.add(*load_verify_key_pem("iss", "k1", test::p256().public_pem));
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().find("two keys"), std::string::npos) << again.error();
    EXPECT_EQ(keys.find("iss", "k1")->alg, Alg::HS256);
    EXPECT_EQ(keys.size(), 1u);
}

TEST(KeySet, key_without_issuer_or_kid_is_refused)
{
    KeySet keys;
    EXPECT_FALSE(keys.add(*load_verify_key_hs256("", "k1", secret32)));
    EXPECT_FALSE(keys.add(*load_verify_key_hs256("iss", "", secret32)));
    EXPECT_EQ(keys.size(), 0u);
}

}  // namespace
}  // namespace bosun::auth
