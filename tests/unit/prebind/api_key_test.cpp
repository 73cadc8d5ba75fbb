#include "prebind/api_key.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bosun::prebind {
namespace {

TEST(KeyHash, is_sha256_of_the_whole_key_in_lowercase_hex)
{
    // FIPS 180-2 test vector: SHA-256("abc").
    EXPECT_EQ(
        key_hash("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(KeyMatches, accepts_any_of_several_hashes_for_rotation)
{
    const std::vector<std::string> stored {key_hash("bsk_a_old"), key_hash("bsk_a_new")};
    EXPECT_TRUE(key_matches("bsk_a_old", stored));
    EXPECT_TRUE(key_matches("bsk_a_new", stored));
}

TEST(KeyMatches, rejects_other_keys_and_malformed_entries)
{
    const std::vector<std::string> stored {key_hash("bsk_a_new"), "sha256:zz", "plain"};
    EXPECT_FALSE(key_matches("bsk_a_newx", stored));
    EXPECT_FALSE(key_matches("bsk_a_ne", stored));
    EXPECT_FALSE(key_matches("", stored));
    EXPECT_FALSE(key_matches("bsk_a_new", std::vector<std::string> {}));
    // The stored text itself is not a key.
    EXPECT_FALSE(key_matches(key_hash("bsk_a_new"), stored));
}

TEST(KeyClientId, is_the_part_between_prefix_and_second_underscore)
{
    EXPECT_EQ(key_client_id("bsk_app_se_cret").value(), "app");
    EXPECT_FALSE(key_client_id("bsk__secret"));
    EXPECT_FALSE(key_client_id("bsk_app_"));
    EXPECT_FALSE(key_client_id("bsk_app"));
    EXPECT_FALSE(key_client_id("cmk_app_secret"));
}

TEST(GenerateKey, has_256_random_bits_in_base64url)
{
    const auto a = generate_key("app");
    const auto b = generate_key("app");
    EXPECT_NE(a, b);
    ASSERT_TRUE(a.starts_with("bsk_app_"));
    const auto secret = a.substr(8);
    EXPECT_EQ(secret.size(), 43u);  // ceil(32 * 8 / 6), no padding
    EXPECT_EQ(secret.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    EXPECT_EQ(key_client_id(a).value(), "app");
    EXPECT_TRUE(key_matches(a, std::vector<std::string> {key_hash(a)}));
}

TEST(BearerToken, rfc6750_scheme_is_case_insensitive)
{
    EXPECT_EQ(bearer_token("Bearer abc").value(), "abc");
    EXPECT_EQ(bearer_token("bearer  abc ").value(), "abc");
    EXPECT_FALSE(bearer_token("Basic abc"));
    EXPECT_FALSE(bearer_token("Bearer "));
    EXPECT_FALSE(bearer_token("Bearer a b"));
    EXPECT_FALSE(bearer_token("Bearerabc"));
}

TEST(Cleanse, empties_the_string)
{
    std::string s = "hunter2";
    cleanse(s);
    EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace bosun::prebind
