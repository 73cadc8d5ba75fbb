#include "auth/base64url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bosun::auth {
namespace {

TEST(Base64url, encodes_rfc4648_vectors_without_padding)
{
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
    // The url-safe alphabet: standard base64 would give "+/8=".
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64url, round_trips_every_length_and_byte)
{
    std::string bytes;
    for (int i = 0; i < 300; ++i) {
        auto decoded = base64url_decode(base64url_encode(bytes));
        ASSERT_TRUE(decoded.has_value()) << i;
        ASSERT_EQ(*decoded, bytes) << i;
        bytes.push_back(static_cast<char>(i * 37));
    }
}

TEST(Base64url, refuses_padding)
{
    EXPECT_EQ(base64url_decode("Zg"), std::optional<std::string>("f"));
    EXPECT_FALSE(base64url_decode("Zg=="));
    EXPECT_FALSE(base64url_decode("Zm8="));
    EXPECT_FALSE(base64url_decode("Zm9v="));
}

TEST(Base64url, refuses_the_standard_alphabet_and_whitespace)
{
    EXPECT_TRUE(base64url_decode("-_8"));
    EXPECT_FALSE(base64url_decode("+/8"));
    EXPECT_FALSE(base64url_decode("Zm9v Zm9v"));
    EXPECT_FALSE(base64url_decode("Zm9v\n"));
    EXPECT_FALSE(base64url_decode("Zm.v"));
}

TEST(Base64url, refuses_a_length_of_4n_plus_1)
{
    EXPECT_FALSE(base64url_decode("Z"));
    EXPECT_FALSE(base64url_decode("Zm9vY"));
}

TEST(Base64url, refuses_nonzero_trailing_bits)
{
    // "Zg" is the one spelling of "f"; "Zh" would decode to it too if the
    // low bits were ignored, giving a second spelling of the same token.
    EXPECT_FALSE(base64url_decode("Zh"));
    EXPECT_TRUE(base64url_decode("Zm8"));
    EXPECT_FALSE(base64url_decode("Zm9"));
}

}  // namespace
}  // namespace bosun::auth
