#include "common/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bosun {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64, rfc4648_section10_vectors_round_trip)
{
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(plain), encoded);
        auto decoded = base64_decode(encoded);
        ASSERT_TRUE(decoded) << encoded;
        EXPECT_EQ(*decoded, plain);
    }
}

TEST(Base64, binary_bytes_and_standard_alphabet)
{
    std::string bytes = {'\xfb', '\xff', '\x00', '\x3e'};
    EXPECT_EQ(base64_encode(bytes), "+/8APg==");
    auto decoded = base64_decode("+/8APg==");
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, bytes);
}

// RFC 4648 §3.3: implementations must reject characters outside the alphabet.
TEST(Base64, rfc4648_section3_3_rejects_non_alphabet_and_whitespace)
{
    EXPECT_FALSE(base64_decode("Zm9v\n"));
    EXPECT_FALSE(base64_decode("Zm 9v"));
    EXPECT_FALSE(base64_decode("Zm9-"));  // base64url character
    EXPECT_FALSE(base64_decode("Zm9_"));
}

// RFC 4648 §3.2: padding is required and only at the end.
TEST(Base64, rfc4648_section3_2_requires_padding_at_end_only)
{
    EXPECT_FALSE(base64_decode("Zg"));
    EXPECT_FALSE(base64_decode("Zm8"));
    EXPECT_FALSE(base64_decode("Zg=a"));
    EXPECT_FALSE(base64_decode("Z=g="));
    EXPECT_FALSE(base64_decode("Zg==Zg=="));
    EXPECT_FALSE(base64_decode("Z==="));
    EXPECT_FALSE(base64_decode("===="));
    EXPECT_FALSE(base64_decode("="));  // the SASL empty marker is not base64
}

// RFC 4648 §3.5: non-zero pad bits give a second spelling; refused.
TEST(Base64, rfc4648_section3_5_rejects_nonzero_pad_bits)
{
    EXPECT_TRUE(base64_decode("Zg=="));
    EXPECT_FALSE(base64_decode("Zh=="));
    EXPECT_TRUE(base64_decode("Zm8="));
    EXPECT_FALSE(base64_decode("Zm9="));
}

}  // namespace
}  // namespace bosun
