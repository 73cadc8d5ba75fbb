#include "http/coding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bosun::frontend {
namespace {

const std::string k_body(600, 'x');

// XEP-0124 §5 (checklist #4): RFC 9110 §12.5.3 Accept-Encoding.
TEST(ChooseCoding, gzip_when_listed_deflate_as_second_choice_4)
{
    EXPECT_EQ(choose_response_coding("gzip"), Coding::gzip);
    EXPECT_EQ(choose_response_coding("deflate, gzip;q=0.5"), Coding::gzip);
    EXPECT_EQ(choose_response_coding("br, deflate"), Coding::deflate);
    EXPECT_EQ(choose_response_coding(" x-gzip "), Coding::gzip);
    EXPECT_EQ(choose_response_coding("GZIP"), Coding::gzip);
}

TEST(ChooseCoding, identity_without_header_or_with_only_identity_4)
{
    EXPECT_EQ(choose_response_coding(std::nullopt), Coding::identity);
    EXPECT_EQ(choose_response_coding("identity"), Coding::identity);
    EXPECT_EQ(choose_response_coding(""), Coding::identity);
    EXPECT_EQ(choose_response_coding("br"), Coding::identity);
}

TEST(ChooseCoding, q_zero_refuses_a_coding_also_through_star_4)
{
    EXPECT_EQ(choose_response_coding("gzip;q=0"), Coding::identity);
    EXPECT_EQ(choose_response_coding("gzip;q=0.000, deflate"), Coding::deflate);
    EXPECT_EQ(choose_response_coding("*"), Coding::gzip);
    EXPECT_EQ(choose_response_coding("*, gzip;q=0"), Coding::deflate);
    EXPECT_EQ(choose_response_coding("*;q=0"), Coding::identity);
    EXPECT_EQ(choose_response_coding("gzip;q=0.001"), Coding::gzip);
}

TEST(ContentEncoding, known_codings_and_unknown_ones_5)
{
    EXPECT_EQ(parse_content_encoding("gzip"), Coding::gzip);
    EXPECT_EQ(parse_content_encoding("Deflate"), Coding::deflate);
    EXPECT_EQ(parse_content_encoding("identity"), Coding::identity);
    EXPECT_FALSE(parse_content_encoding("br"));
    EXPECT_FALSE(parse_content_encoding("gzip, gzip"));
}

TEST(Compress, gzip_and_deflate_round_trip_and_shrink_4_5)
{
    for (const auto c : {Coding::gzip, Coding::deflate}) {
        const auto packed = compress(k_body, c);
        ASSERT_TRUE(packed) << coding_name(c);
        EXPECT_LT(packed->size(), k_body.size());
        const auto back = decompress(*packed, c, 1024);
        ASSERT_TRUE(back) << coding_name(c);
        EXPECT_EQ(*back, k_body);
    }
    const auto gz = compress(k_body, Coding::gzip);
    ASSERT_TRUE(gz);
    EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1fu);  // RFC 1952 magic
    EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8bu);
}

// Some clients send raw deflate (RFC 1951) as "deflate".
TEST(Decompress, raw_deflate_is_accepted_as_deflate_5)
{
    const auto zlib_format = compress(k_body, Coding::deflate);
    ASSERT_TRUE(zlib_format);
    // strip the 2-byte zlib header and the 4-byte Adler-32 trailer
    const std::string raw = zlib_format->substr(2, zlib_format->size() - 6);
    const auto back = decompress(raw, Coding::deflate, 1024);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, k_body);
    EXPECT_FALSE(decompress(raw, Coding::gzip, 1024));
}

// STYLE rule 8: a small request may not inflate beyond the body limit.
TEST(Decompress, output_above_the_limit_is_too_large_not_truncated_5)
{
    const std::string big(1 << 20, 'a');
    const auto packed = compress(big, Coding::gzip);
    ASSERT_TRUE(packed);
    EXPECT_LT(packed->size(), 4096u);
    const auto r = decompress(*packed, Coding::gzip, 64 * 1024);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), DecodeError::too_large);
    EXPECT_TRUE(decompress(*packed, Coding::gzip, 1 << 20));
}

TEST(Decompress, corrupt_or_truncated_input_is_refused_5)
{
    const auto packed = compress(k_body, Coding::gzip);
    ASSERT_TRUE(packed);
    const auto truncated = decompress(packed->substr(0, packed->size() / 2), Coding::gzip, 4096);
    ASSERT_FALSE(truncated);
    EXPECT_EQ(truncated.error(), DecodeError::corrupt);
    EXPECT_FALSE(decompress("not compressed at all", Coding::gzip, 4096));
    EXPECT_FALSE(decompress(k_body, Coding::identity, 10));
}

}  // namespace
}  // namespace bosun::frontend
