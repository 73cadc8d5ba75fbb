// SHA-1 (FIPS 180-4) for XEP-0124 §15 key sequences, against the FIPS 180
// example vectors and the key chain printed in XEP-0124 §15.
#include "bosh/sha1.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace bosun::bosh {
namespace {

std::string hex(std::string_view data, bool upper = false)
{
    const auto h = sha1_hex(data, upper);
    return {h.begin(), h.end()};
}

TEST(Sha1, fips_180_example_vectors)
{
    EXPECT_EQ(hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    EXPECT_EQ(hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

// Message lengths around the padding boundaries (55, 56, 63, 64, 65 bytes):
// one or two final blocks.
TEST(Sha1, lengths_around_the_padding_boundary)
{
    EXPECT_EQ(hex(std::string(55, 'a')), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    EXPECT_EQ(hex(std::string(56, 'a')), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    EXPECT_EQ(hex(std::string(63, 'a')), "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
    EXPECT_EQ(hex(std::string(64, 'a')), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
    EXPECT_EQ(hex(std::string(65, 'a')), "11655326c708d70319be2610e8a57d9a5b959d3b");
}

TEST(Sha1, digest_bytes_match_the_hex)
{
    const auto d = sha1("abc");
    EXPECT_EQ(d[0], 0xa9);
    EXPECT_EQ(d[19], 0x9d);
}

TEST(Sha1, upper_case_hex_on_request)
{
    EXPECT_EQ(hex("abc", true), "A9993E364706816ABA3E25717850C26C9CD0D89D");
}

// XEP-0124 §15.3, §15.5 examples: each key hashes to the one before it.
TEST(Sha1, xep_0124_example_key_chain_15)
{
    EXPECT_EQ(hex("bfb06a6f113cd6fd3838ab9d300fdb4fe3da2f7d"), "ca393b51b682f61f98e7877d61146407f3d0a770");
    EXPECT_EQ(hex("6f825e81f4532b2c5fa2d12457d8a1f22e8f838e"), "bfb06a6f113cd6fd3838ab9d300fdb4fe3da2f7d");
}

TEST(Sha1, only_40_hex_digits_are_a_key)
{
    EXPECT_TRUE(is_sha1_hex("ca393b51b682f61f98e7877d61146407f3d0a770"));
    EXPECT_TRUE(is_sha1_hex("CA393B51B682F61F98E7877D61146407F3D0A770"));
    EXPECT_FALSE(is_sha1_hex("ca393b51b682f61f98e7877d61146407f3d0a77"));
    EXPECT_FALSE(is_sha1_hex("ca393b51b682f61f98e7877d61146407f3d0a7700"));
    EXPECT_FALSE(is_sha1_hex("ga393b51b682f61f98e7877d61146407f3d0a770"));
    EXPECT_FALSE(is_sha1_hex(""));
}

}  // namespace
}  // namespace bosun::bosh
