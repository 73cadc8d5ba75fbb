#include "http/router.hpp"

#include "http/coding.hpp"

#include <gtest/gtest.h>

namespace bosun::frontend {
namespace {

Request request(http::verb verb, std::string target, std::string origin = {})
{
    Request req {verb, target, 11};
    if (!origin.empty())
        req.set(http::field::origin, origin);
    return req;
}

std::string header(const Response& res, http::field f)
{
    const auto it = res.find(f);
    return it == res.end() ? std::string("<absent>") : std::string(it->value());
}

TEST(TargetPath, query_and_absolute_form_are_reduced_to_the_path)
{
    EXPECT_EQ(target_path("/http-bind"), "/http-bind");
    EXPECT_EQ(target_path("/http-bind?x=1"), "/http-bind");
    EXPECT_EQ(target_path("/http-bind#f"), "/http-bind");
    EXPECT_EQ(target_path("http://example.com/http-bind?q"), "/http-bind");
    EXPECT_EQ(target_path("http://example.com"), "/");
    EXPECT_EQ(target_path("*"), "*");
    EXPECT_EQ(target_path("/a/http://b/http-bind"), "/a/http://b/http-bind");
}

TEST(Problem, body_is_problem_json_with_escaped_detail)
{
    const auto res = make_problem(http::status::bad_request, "bad \"quote\"\n");
    EXPECT_EQ(header(res, http::field::content_type), "application/problem+json");
    EXPECT_EQ(res.body(),
        R"({"type":"about:blank","title":"Bad Request","status":400,"detail":"bad \"quote\"\u000a"})");
}

TEST(Router, post_on_path_goes_to_the_service)
{
    const Router router("/http-bind", {});
    EXPECT_FALSE(router.answer(request(http::verb::post, "/http-bind"), 0).has_value());
    EXPECT_FALSE(router.answer(request(http::verb::post, "/http-bind?x"), 0).has_value());
}

TEST(Router, trailing_slash_is_another_path)
{
    const Router router("/http-bind", {});
    const auto res = router.answer(request(http::verb::post, "/http-bind/"), 0);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::not_found);
}

TEST(Router, get_with_query_is_script_syntax_and_unsupported)
{
    const Router router("/http-bind", {});
    const auto res = router.answer(request(http::verb::get, "/http-bind?%3Cbody%2F%3E"), 0);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result(), http::status::not_found);
}

TEST(Router, bosh_response_keeps_service_status_and_type)
{
    const Router router("/http-bind", {"https://app.example"});
    runtime::BoshHttpResponse out {404, "text/xml; charset=utf-8", "<body/>"};
    const auto res
        = router.bosh(request(http::verb::post, "/http-bind", "https://app.example"), out);
    EXPECT_EQ(res.result_int(), 404u);
    EXPECT_EQ(header(res, http::field::content_type), "text/xml; charset=utf-8");
    EXPECT_EQ(header(res, http::field::access_control_allow_origin), "https://app.example");
    EXPECT_EQ(res.body(), "<body/>");
}

TEST(Router, nonsense_service_status_becomes_500)
{
    const Router router("/http-bind", {});
    EXPECT_EQ(
        router.bosh(request(http::verb::post, "/http-bind"), {100, "text/xml", ""}).result_int(),
        500u);
    EXPECT_EQ(
        router.bosh(request(http::verb::post, "/http-bind"), {1000, "text/xml", ""}).result_int(),
        500u);
}

// XEP-0124 §5 (checklist #4): a BOSH body is gzipped when the client accepts
// it, with Content-Encoding; short bodies and other clients get it plain.
// Vary names Accept-Encoding (and Origin, for CORS) either way.
TEST(Router, bosh_body_is_compressed_when_accepted_4)
{
    const Router router("/http-bind", {"https://app.example"});
    const std::string body
        = "<body xmlns='http://jabber.org/protocol/httpbind'>" + std::string(400, ' ') + "</body>";
    auto req = request(http::verb::post, "/http-bind", "https://app.example");
    req.set(http::field::accept_encoding, "gzip, deflate");
    const auto gz = router.bosh(req, {200, "text/xml; charset=utf-8", body});
    EXPECT_EQ(header(gz, http::field::content_encoding), "gzip");
    EXPECT_EQ(header(gz, http::field::vary), "Origin, Accept-Encoding");
    const auto back = decompress(gz.body(), Coding::gzip, 4096);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, body);

    const auto plain
        = router.bosh(request(http::verb::post, "/http-bind"), {200, "text/xml", body});
    EXPECT_EQ(header(plain, http::field::content_encoding), "<absent>");
    EXPECT_EQ(header(plain, http::field::vary), "Accept-Encoding");
    EXPECT_EQ(plain.body(), body);

    const auto small = router.bosh(req, {200, "text/xml", "<body/>"});
    EXPECT_EQ(header(small, http::field::content_encoding), "<absent>");
    EXPECT_EQ(small.body(), "<body/>");
}

// XEP-0124 §17.1 (checklist #100): an oversized body that starts like an
// httpbind <body/> gets a BOSH answer; anything else the plain 413.
TEST(OversizedStart, httpbind_body_start_tag_is_bosh_100)
{
    EXPECT_EQ(classify_oversized_start(
                  "<body rid='1' sid='s' xmlns='http://jabber.org/protocol/httpbind'><message>"),
        1);
    EXPECT_EQ(classify_oversized_start(
                  "<?xml version='1.0'?>\n<body xmlns=\"http://jabber.org/protocol/httpbind\">"),
        1);
    EXPECT_EQ(classify_oversized_start("  <body rid='1' xmlns='urn:other'>"), 0);
    EXPECT_EQ(classify_oversized_start("<foo xmlns='http://jabber.org/protocol/httpbind'>"), 0);
    EXPECT_EQ(classify_oversized_start("{\"json\": true}"), 0);
    EXPECT_EQ(classify_oversized_start("<body rid='1' xmlns='http://jabber.org/prot"), -1);
    EXPECT_EQ(classify_oversized_start("<bo"), -1);
    EXPECT_EQ(classify_oversized_start(""), -1);
}

TEST(Router, origin_match_is_exact)
{
    const Router router("/http-bind", {"https://app.example"});
    for (const char* origin :
        {"https://app.example.evil", "http://app.example", "https://APP.example", "null", "*"}) {
        const auto res = router.answer(request(http::verb::options, "/http-bind", origin), 0);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->result(), http::status::forbidden) << origin;
        EXPECT_EQ(header(*res, http::field::access_control_allow_origin), "<absent>");
    }
}

TEST(Finalize, sets_length_and_keeps_it_for_head)
{
    auto res = make_problem(http::status::not_found, "x");
    const auto size = res.body().size();
    finalize(res, 11, true, true);
    EXPECT_EQ(header(res, http::field::content_length), std::to_string(size));
    EXPECT_TRUE(res.body().empty());
    EXPECT_EQ(header(res, http::field::cache_control), "no-store, no-cache");
    EXPECT_EQ(header(res, http::field::pragma), "no-cache");
    EXPECT_FALSE(res.chunked());
}

TEST(Finalize, no_content_has_no_length)
{
    Response res {http::status::no_content, 11};
    finalize(res, 11, false, true);
    EXPECT_EQ(header(res, http::field::content_length), "<absent>");
    EXPECT_EQ(header(res, http::field::transfer_encoding), "<absent>");
}

TEST(Finalize, http10_keep_alive_is_explicit)
{
    auto res = make_problem(http::status::not_found, "x");
    finalize(res, 10, false, true);
    EXPECT_EQ(res.version(), 10u);
    EXPECT_EQ(header(res, http::field::connection), "keep-alive");
    finalize(res, 11, false, false);
    EXPECT_EQ(header(res, http::field::connection), "close");
}

TEST(HttpDate, is_imf_fixdate)
{
    EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

}  // namespace
}  // namespace bosun::frontend
