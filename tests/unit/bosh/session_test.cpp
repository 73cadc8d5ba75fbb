// Unit tests for the sans-I/O BOSH session (XEP-0124, XEP-0206): negotiate()
// and Session. Time is a fake TimePoint; requests are parsed from wire XML.
// Checklist numbers refer to /work/shared/reference/bosh-checklist.md.
#include "bosh/session.hpp"

#include "session_fixture.hpp"
#include "xml_check.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::bosh {
namespace {

using namespace test;

// ---- negotiate (§7.1, §7.2) ---------------------------------------------------------

Expected<Negotiated, Condition> negotiate_body(
    const std::string& attrs, const Limits& limits = test_limits())
{
    return negotiate(parse("<body rid='1' " + attrs + " " + k_ns + "/>"), limits, serves);
}

Negotiated negotiated(const std::string& attrs, const Limits& limits = test_limits())
{
    auto n = negotiate_body(attrs, limits);
    if (!n) {
        ADD_FAILURE() << "negotiation failed with " << to_wire(n.error()) << " for " << attrs;
        return {};
    }
    return *n;
}

TEST(Negotiate, missing_to_is_improper_addressing_18_90)
{
    const auto n = negotiate_body("wait='60' hold='1' ver='1.6'");
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), Condition::improper_addressing);
}

TEST(Negotiate, empty_to_is_improper_addressing_18_90)
{
    const auto n = negotiate_body("to='' wait='60' hold='1' ver='1.6'");
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), Condition::improper_addressing);
}

TEST(Negotiate, unknown_domain_is_host_unknown_19_89)
{
    std::string asked;
    const auto n = negotiate(parse("<body rid='1' to='unknown.invalid' wait='60' " + k_ns + "/>"),
        test_limits(), [&](std::string_view d) {
            asked = d;
            return d == k_domain;
        });
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), Condition::host_unknown);
    EXPECT_EQ(asked, "unknown.invalid");
}

TEST(Negotiate, served_domain_becomes_the_session_domain)
{
    EXPECT_EQ(negotiated("to='example.com'").domain, k_domain);
}

// §7.2 (checklist #21): never more than requested, and capped by the operator.
TEST(Negotiate, wait_is_capped_and_never_above_the_request_21)
{
    EXPECT_EQ(negotiated("to='example.com' wait='7'").wait, 7s);
    EXPECT_EQ(negotiated("to='example.com' wait='60'").wait, 60s);
    EXPECT_EQ(negotiated("to='example.com' wait='61'").wait, 60s);
    EXPECT_EQ(negotiated("to='example.com' wait='65535'").wait, 60s);
    EXPECT_EQ(negotiated("to='example.com' wait='0'").wait, 0s);
}

// checklist #29 / §4 item 12: a missing wait takes the configured default,
// still capped.
TEST(Negotiate, missing_wait_takes_the_default_capped_at_max_29)
{
    EXPECT_EQ(negotiated("to='example.com'").wait, 45s);
    Limits l = test_limits();
    l.default_wait = 90s;
    EXPECT_EQ(negotiated("to='example.com'", l).wait, 60s);
}

// §7.1, §7.2 (checklist #22): hold never above the request; hold='0' stays 0.
TEST(Negotiate, hold_is_never_above_the_request_22)
{
    EXPECT_EQ(negotiated("to='example.com' hold='0'").hold, 0u);
    EXPECT_EQ(negotiated("to='example.com' hold='1'").hold, 1u);
    EXPECT_EQ(negotiated("to='example.com' hold='5'").hold, 1u);
    EXPECT_EQ(negotiated("to='example.com'").hold, 1u);
    Limits l = test_limits();
    l.max_hold = 3;
    EXPECT_EQ(negotiated("to='example.com' hold='2'", l).hold, 2u);
    EXPECT_EQ(negotiated("to='example.com' hold='9'", l).hold, 3u);
    EXPECT_EQ(negotiated("to='example.com'", l).hold, 1u);
}

// §7.2 (checklist #33): requests = hold + 1.
TEST(Negotiate, requests_is_hold_plus_one_33)
{
    EXPECT_EQ(negotiated("to='example.com' hold='1'").requests, 2u);
    EXPECT_EQ(negotiated("to='example.com' hold='0'").requests, 1u);
    Limits l = test_limits();
    l.max_hold = 3;
    EXPECT_EQ(negotiated("to='example.com' hold='2'", l).requests, 3u);
}

// §7.2 (checklist #23): ver = min(ours, theirs), minor compared as an integer.
TEST(Negotiate, ver_is_the_lower_of_ours_and_the_clients_23)
{
    EXPECT_EQ(negotiated("to='example.com' ver='1.6'").ver, (Version {1, 6}));
    EXPECT_EQ(negotiated("to='example.com' ver='1.5'").ver, (Version {1, 5}));
    EXPECT_EQ(negotiated("to='example.com' ver='1.10'").ver, (Version {1, 10}));  // not 1.1
    EXPECT_EQ(negotiated("to='example.com' ver='1.12'").ver, k_our_version);
    EXPECT_EQ(negotiated("to='example.com' ver='2.0'").ver, k_our_version);
}

// §17.1 (checklist #24): no ver = legacy client.
TEST(Negotiate, missing_ver_marks_a_legacy_client_24)
{
    EXPECT_FALSE(negotiated("to='example.com' wait='60'").ver);
}

TEST(Negotiate, polling_interval_comes_from_the_limits_34)
{
    EXPECT_EQ(negotiated("to='example.com'").polling, 5s);
    EXPECT_EQ(negotiated("to='example.com'").inactivity, 30s);
}

// §12 (checklist #68): a polling session (wait=0 or hold=0) gets an
// inactivity above polling, and not below the normal one.
TEST(Negotiate, polling_session_inactivity_exceeds_polling_68)
{
    Limits l = test_limits();
    l.inactivity = 3s;  // below polling, so the rule has to act
    l.polling = 5s;
    EXPECT_EQ(negotiated("to='example.com' wait='60' hold='1'", l).inactivity, 3s);
    for (const char* attrs :
        {"to='example.com' wait='0' hold='1'", "to='example.com' wait='60' hold='0'"}) {
        const auto n = negotiated(attrs, l);
        EXPECT_GT(n.inactivity, n.polling) << attrs;
        EXPECT_GE(n.inactivity, l.inactivity) << attrs;
    }
    EXPECT_EQ(
        negotiated("to='example.com' wait='0' hold='0'").inactivity, 30s);  // already above polling
}

// §7.1 (checklist #6): 'content' is the Content-Type of every response.
TEST(Negotiate, content_attribute_sets_the_response_content_type_6)
{
    EXPECT_EQ(negotiated("to='example.com' content='text/html; charset=utf-8'").content_type,
        "text/html; charset=utf-8");
    EXPECT_EQ(negotiated("to='example.com'").content_type, "text/xml; charset=utf-8");
    EXPECT_EQ(negotiated("to='example.com' content=''").content_type, "text/xml; charset=utf-8");
}

// ---- creation (§7.1, §7.2; XEP-0206 §3, §4) -------------------------------------------------

// XEP-0206 §3 (checklist #25–#27, #112): the stream header follows the body.
TEST_F(SessionTest, creation_opens_the_upstream_with_the_body_attributes_26_27_112)
{
    const auto actions
        = open("<body rid='1000' to='example.com' from='romeo@example.com' xml:lang='de' "
               "xmpp:version='1.0' "
                + k_xb + " " + k_modern + " " + k_ns + "/>",
            t0_);
    const auto opens = all<OpenUpstream>(actions);
    ASSERT_EQ(opens.size(), 1u);
    EXPECT_EQ(opens[0].to, k_domain);
    EXPECT_EQ(opens[0].from, "romeo@example.com");
    EXPECT_EQ(opens[0].lang, "de");
    EXPECT_EQ(opens[0].version, "1.0");
}

// §4 item 7: without xmpp:version the upstream still gets an XMPP 1.0 stream.
TEST_F(SessionTest, creation_without_xmpp_version_opens_a_1_0_stream_27)
{
    const auto actions
        = open("<body rid='1000' to='example.com' " + k_modern + " " + k_ns + "/>", t0_);
    const auto opens = all<OpenUpstream>(actions);
    ASSERT_EQ(opens.size(), 1u);
    EXPECT_EQ(opens[0].version, "1.0");
    EXPECT_EQ(opens[0].from, "");
    EXPECT_EQ(opens[0].route, "");
}

// §7.1 (checklist #20): the core passes 'route' on verbatim; the runtime
// decides against the operator's allow-list.
TEST_F(SessionTest, creation_passes_route_to_the_runtime_verbatim_20)
{
    const auto actions
        = open("<body rid='1000' to='example.com' route='xmpp:backup.example.com:5222' " + k_modern + " " + k_ns + "/>",
            t0_);
    const auto opens = all<OpenUpstream>(actions);
    ASSERT_EQ(opens.size(), 1u);
    EXPECT_EQ(opens[0].route, "xmpp:backup.example.com:5222");
}

// XEP-0206 §4 (checklist #38): the creation request waits for the features.
TEST_F(SessionTest, creation_request_is_held_until_stream_features_38)
{
    const auto created = open(new_body(R), t0_);
    EXPECT_EQ(count<Respond>(created), 0u);
    EXPECT_EQ(s().held_count(), 1u);
    EXPECT_EQ(count<Respond>(tick(t0_ + 9s)), 0u);
    const auto reply = reply_to(upstream({features()}, t0_ + 9s), creation_id_);
    EXPECT_EQ(reply.status, 200u);
    EXPECT_EQ(reply.attr("sid"), k_sid);
    EXPECT_EQ(s().held_count(), 0u);
}

// §7.2 (checklist #32, #34, #40), XEP-0206 §4.
TEST_F(SessionTest, creation_response_carries_the_session_attributes_32_34_40)
{
    const auto r = establish();
    EXPECT_EQ(r.attr("sid"), k_sid);
    EXPECT_EQ(r.attr("wait"), "60");
    EXPECT_EQ(r.attr("requests"), "2");
    EXPECT_EQ(r.attr("hold"), "1");
    EXPECT_EQ(r.attr("inactivity"), "30");
    EXPECT_EQ(r.attr("polling"), "5");
    EXPECT_EQ(r.attr("ver"), "1.6");
    EXPECT_EQ(r.attr("from"), k_domain);
    EXPECT_EQ(r.attr("xmpp:version"), "1.0");
    EXPECT_EQ(attribute_ns(r.body, "xmpp:version"), k_ns_xbosh);
    EXPECT_EQ(r.attr("xmpp:restartlogic"), "true");
    EXPECT_EQ(attribute_ns(r.body, "xmpp:restartlogic"), k_ns_xbosh);
}

// XEP-0206 §2, §4 (checklist #38, #39): the features, in the streams namespace
// declared on the body.
TEST_F(SessionTest, creation_response_carries_the_features_with_xmlns_stream_38_39)
{
    const auto r = establish();
    const auto kids = r.children();
    ASSERT_EQ(kids.size(), 1u) << r.raw;
    EXPECT_STREQ(kids[0].name(), "stream:features");
    EXPECT_EQ(element_ns(kids[0]), k_ns_streams);
    EXPECT_EQ(r.attr("xmlns:stream"), k_ns_streams);  // on the <body/> itself
    EXPECT_EQ(element_ns(kids[0].child("mechanisms")), "urn:ietf:params:xml:ns:xmpp-sasl");
}

// §9.1 (checklist #37, #52): without ack='1' from the client Bosun sends no
// acks; maxpause is advertised (pause is offered, #36); no obsolete
// secure/authid; no 'stream' (multiple streams are not offered, #84).
TEST_F(SessionTest, creation_response_has_no_ack_unless_the_client_asked_37)
{
    const auto r = establish();
    EXPECT_FALSE(r.has("ack")) << r.raw;
    EXPECT_EQ(r.attr("maxpause"), "120") << r.raw;
    EXPECT_FALSE(r.has("stream")) << r.raw;
    EXPECT_FALSE(r.has("secure")) << r.raw;
    EXPECT_FALSE(r.has("authid")) << r.raw;
}

// §17.1 (checklist #24): a legacy client is not told a ver.
TEST_F(SessionTest, creation_response_to_a_legacy_client_has_no_ver_24)
{
    const auto r = establish(k_legacy);
    EXPECT_EQ(r.attr("sid"), k_sid);
    EXPECT_FALSE(r.has("ver")) << r.raw;
}

TEST_F(SessionTest, creation_response_reports_hold_zero_and_one_request_22_33)
{
    const auto r = establish("wait='60' hold='0' ver='1.6'");
    EXPECT_EQ(r.attr("hold"), "0");
    EXPECT_EQ(r.attr("requests"), "1");
}

// §7.2, §5 (checklist #5): 'accept' lists the request codings the front end
// decodes, on the creation response only (#35 checks the others).
TEST_F(SessionTest, creation_response_advertises_accepted_request_codings_5)
{
    const auto r = establish();
    EXPECT_EQ(r.attr("accept"), "deflate gzip");
}

// §7.2 (checklist #35): the session attributes appear in no other response.
TEST_F(SessionTest, later_responses_carry_no_session_attributes_35)
{
    establish();
    const RequestId a = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    const auto with_data = reply_to(upstream({from_server("m1")}, t0_ + 2s), a);
    const RequestId b = new_id();
    send(b, poll(R + 2), t0_ + 3s);
    const auto on_wait = reply_to(tick(t0_ + 63s), b);
    for (const auto& r : {with_data, on_wait}) {
        for (const char* name :
            {"sid", "wait", "requests", "hold", "inactivity", "polling", "ver", "from", "accept",
                "charsets", "maxpause", "ack", "xmpp:version", "xmpp:restartlogic"})
            EXPECT_FALSE(r.has(name)) << name << " in " << r.raw;
    }
    EXPECT_EQ(with_data.child_ids(), std::vector<std::string> {"m1"});
    EXPECT_TRUE(on_wait.is_empty()) << on_wait.raw;
}

// XEP-0206 §4 (checklist #38): when the features are late, the creation
// response goes out without them at `wait`, and the next request gets them.
TEST_F(SessionTest, creation_is_answered_without_features_when_wait_expires_38)
{
    open(new_body(R, "wait='5' hold='1' ver='1.6'"), t0_);
    EXPECT_EQ(count<Respond>(tick(t0_ + 4s)), 0u);
    const auto r = reply_to(tick(t0_ + 5s), creation_id_);
    EXPECT_EQ(r.attr("sid"), k_sid);
    EXPECT_EQ(r.attr("wait"), "5");
    EXPECT_TRUE(r.children().empty()) << r.raw;
    EXPECT_FALSE(s().ended());

    EXPECT_EQ(count<Respond>(upstream({features()}, t0_ + 6s)), 0u);  // nothing held: queued
    const auto next = send_and_get(poll(R + 1), t0_ + 7s);
    ASSERT_EQ(next.children().size(), 1u) << next.raw;
    EXPECT_EQ(element_ns(next.children()[0]), k_ns_streams) << next.raw;  // #39 on a later response
    EXPECT_FALSE(next.has("sid"));  // #35
}

// The creation request waits at most connect_timeout for the upstream.
TEST_F(SessionTest, creation_waits_at_most_the_connect_timeout_for_features)
{
    open(new_body(R), t0_);  // wait 60 > connect_timeout 10
    EXPECT_EQ(count<Respond>(tick(t0_ + 9s)), 0u);
    EXPECT_EQ(reply_to(tick(t0_ + 10s), creation_id_).attr("sid"), k_sid);
}

// §14.3 (checklist #79): the creation response is replayed like any other.
TEST_F(SessionTest, retransmitted_creation_rid_replays_the_creation_response_79)
{
    const auto first = establish();
    const RequestId again = new_id();
    const auto actions = send(again, poll(R), t0_ + 1s);
    EXPECT_EQ(reply_to(actions, again).raw, first.raw);
    EXPECT_EQ(count<OpenUpstream>(actions), 0u);
}

// ---- payloads and long-polling (§8, §14.2) ----------------------------------------------------

// §8 (checklist #43): payloads go upstream at once.
TEST_F(SessionTest, payload_is_forwarded_upstream_at_once_43)
{
    establish();
    const auto actions = send(new_id(), poll(R + 1, message("m1") + message("m2")), t0_ + 1s);
    const auto sends = all<SendUpstream>(actions);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(ids_in(sends[0].data), (std::vector<std::string> {"m1", "m2"}));
    EXPECT_EQ(s().held_count(), 1u);  // and the request waits for data (§8)
}

// §14.2 (checklist #43, #77): payloads are forwarded in rid order even when
// the requests arrive out of order.
TEST_F(SessionTest, payloads_are_forwarded_in_rid_order_when_requests_arrive_out_of_order_43_77)
{
    establish();
    const auto early = send(new_id(), poll(R + 2, message("second")), t0_ + 1s);
    EXPECT_TRUE(sent_ids(early).empty());  // buffered until R+1 arrives
    EXPECT_EQ(count<Respond>(early), 0u);
    const auto late = send(new_id(), poll(R + 1, message("first")), t0_ + 3s);
    EXPECT_EQ(sent_ids(late), (std::vector<std::string> {"first", "second"}));
}

// §8, §14.2 (checklist #47): responses follow rid order: R+2 is never
// answered before R+1.
TEST_F(SessionTest, responses_are_sent_in_rid_order_47)
{
    establish();
    const RequestId b = new_id();
    const RequestId a = new_id();
    EXPECT_FALSE(answered(send(b, poll(R + 2), t0_ + 1s), b));
    const auto actions = send(a, poll(R + 1), t0_ + 2s);
    EXPECT_TRUE(answered(actions, a));  // hold=1: R+2 displaces R+1 (#46)
    EXPECT_FALSE(answered(actions, b));  // R+2 is the one held now
    EXPECT_TRUE(reply_to(upstream({from_server("m")}, t0_ + 3s), b).child_ids()
        == std::vector<std::string> {"m"});
}

// §14.2 (checklist #47) with hold=2: the lower rid gets the data first.
TEST_F(SessionTest, with_two_held_the_lower_rid_is_answered_first_47)
{
    limits_.max_hold = 2;
    establish("wait='60' hold='2' ver='1.6'");
    const RequestId b = new_id();
    const RequestId a = new_id();
    send(b, poll(R + 2), t0_ + 1s);
    send(a, poll(R + 1), t0_ + 2s);
    EXPECT_EQ(s().held_count(), 2u);
    const auto actions = upstream({from_server("m")}, t0_ + 3s);
    EXPECT_EQ(reply_to(actions, a).child_ids(), std::vector<std::string> {"m"});
    EXPECT_FALSE(answered(actions, b));
}

// §8 (checklist #48): a held request returns as soon as the server sends data.
TEST_F(SessionTest, held_request_is_answered_when_upstream_data_arrives_48)
{
    establish();
    const RequestId id = new_id();
    EXPECT_FALSE(answered(send(id, poll(R + 1), t0_ + 1s), id));
    const auto r = reply_to(upstream({from_server("in1"), from_server("in2")}, t0_ + 2s), id);
    EXPECT_EQ(r.child_ids(), (std::vector<std::string> {"in1", "in2"}));
    EXPECT_EQ(element_ns(r.children()[0]), "jabber:client");
    EXPECT_EQ(s().held_count(), 0u);
}

// §8 (checklist #49): with nothing held, server data waits for the next request.
TEST_F(SessionTest, data_arriving_with_nothing_held_is_delivered_on_the_next_request_49)
{
    establish();
    EXPECT_EQ(count<Respond>(upstream({from_server("q1")}, t0_ + 1s)), 0u);
    EXPECT_EQ(count<Respond>(upstream({from_server("q2")}, t0_ + 2s)), 0u);
    EXPECT_GT(s().pending_bytes(), 0u);
    const auto r = send_and_get(poll(R + 1), t0_ + 3s);
    EXPECT_EQ(r.child_ids(), (std::vector<std::string> {"q1", "q2"}));
    EXPECT_EQ(s().pending_bytes(), 0u);
    EXPECT_EQ(s().held_count(), 0u);
}

// §8 (checklist #45): an idle request returns an empty body at `wait`, not before.
TEST_F(SessionTest, idle_request_gets_an_empty_body_when_wait_expires_45)
{
    establish();
    const RequestId id = new_id();
    send(id, poll(R + 1), t0_ + 1s);
    EXPECT_EQ(s().next_deadline(), t0_ + 61s);
    EXPECT_FALSE(answered(tick(t0_ + 60s), id));
    const auto r = reply_to(tick(t0_ + 61s), id);
    EXPECT_TRUE(r.is_empty()) << r.raw;
    EXPECT_EQ(r.raw, "<body xmlns='http://jabber.org/protocol/httpbind'/>");
    EXPECT_FALSE(s().ended());
}

// §4, §8 (checklist #46): hold=1: a new request answers the held one at once.
TEST_F(SessionTest, new_request_answers_the_oldest_held_one_46)
{
    establish();
    const RequestId a = new_id();
    const RequestId b = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    const auto actions = send(b, poll(R + 2, message("out")), t0_ + 1s);
    EXPECT_TRUE(reply_to(actions, a).is_empty());
    EXPECT_FALSE(answered(actions, b));
    EXPECT_EQ(s().held_count(), 1u);
    EXPECT_EQ(sent_ids(actions), std::vector<std::string> {"out"});
}

TEST_F(SessionTest, with_hold_two_the_third_request_answers_the_oldest_46)
{
    limits_.max_hold = 2;
    establish("wait='60' hold='2' ver='1.6'");
    const RequestId a = new_id(), b = new_id(), c = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    EXPECT_EQ(count<Respond>(send(b, poll(R + 2), t0_ + 1s)), 0u);
    const auto actions = send(c, poll(R + 3), t0_ + 1s);
    EXPECT_TRUE(answered(actions, a));
    EXPECT_FALSE(answered(actions, b));
    EXPECT_EQ(s().held_count(), 2u);
}

// §12: a polling session (hold=0) is answered at once.
TEST_F(SessionTest, polling_session_answers_every_request_at_once_12)
{
    establish("wait='60' hold='0' ver='1.6'");
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 6s).is_empty());
    EXPECT_EQ(s().held_count(), 0u);
}

TEST_F(SessionTest, wait_zero_answers_every_request_at_once_12)
{
    establish("wait='0' hold='1' ver='1.6'");
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 6s).is_empty());
}

// §7.1 (checklist #30): creation attributes on a later request are ignored.
TEST_F(SessionTest, wait_and_hold_on_a_later_request_are_ignored_30)
{
    establish();
    const RequestId id = new_id();
    send(id, poll(R + 1, "", "wait='1' hold='3'"), t0_ + 1s);
    EXPECT_FALSE(answered(tick(t0_ + 3s), id));
    EXPECT_TRUE(answered(tick(t0_ + 61s), id));
}

// §16.3 (checklist #85): a mid-session 'to' is a normal empty request.
TEST_F(SessionTest, to_on_a_later_request_is_a_normal_request_85)
{
    establish();
    const auto actions
        = send(new_id(), poll(R + 1, "", "to='example.com' xml:lang='en'"), t0_ + 1s);
    EXPECT_EQ(count<OpenUpstream>(actions) + count<RestartUpstream>(actions), 0u);
    EXPECT_EQ(s().held_count(), 1u);
}

// §10 (checklist #36, #59): with max_pause 0, pause is not offered: no
// maxpause, and a 'pause' is an ordinary request.
TEST_F(SessionTest, pause_without_maxpause_is_treated_as_a_normal_request_59)
{
    limits_.max_pause = 0s;
    EXPECT_FALSE(establish().has("maxpause"));
    const RequestId id = new_id();
    EXPECT_FALSE(answered(send(id, poll(R + 1, "", "pause='60'"), t0_ + 1s), id));
    EXPECT_EQ(s().held_count(), 1u);
    EXPECT_FALSE(ended_with(tick(t0_ + 61s)));  // answered at wait, inactivity unchanged
    EXPECT_TRUE(ended_with(tick(t0_ + 61s + 30s)));
}

// ---- the rid window and the replay cache (§14) -------------------------------------------------

// §14.2 (checklist #78): rid > last + requests ends the session with item-not-found.
TEST_F(SessionTest, rid_above_the_window_is_item_not_found_and_ends_the_session_78)
{
    establish();
    const RequestId bad = new_id();
    const auto actions = send(bad, poll(R + 3), t0_ + 1s);
    EXPECT_TRUE(reply_to(actions, bad).is_terminate(Condition::item_not_found));
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->why, Condition::item_not_found);
    EXPECT_FALSE(end->silent);
    EXPECT_TRUE(s().ended());
    // The session is gone, so even an in-window rid is refused now.
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 2s).is_terminate(Condition::item_not_found));
}

// §14.2 (checklist #78): the window is last+1 … last+requests, inclusive.
TEST_F(SessionTest, rid_at_the_top_of_the_window_is_accepted_78)
{
    establish();
    const auto actions = send(new_id(), poll(R + 2), t0_ + 1s);
    EXPECT_EQ(count<Respond>(actions), 0u);
    EXPECT_FALSE(ended_with(actions));
    EXPECT_FALSE(s().ended());
}

// §17.2 (checklist #93): the other held requests learn other-request.
TEST_F(SessionTest, window_violation_tells_held_requests_other_request_93)
{
    establish();
    const RequestId held = new_id();
    const RequestId bad = new_id();
    send(held, poll(R + 1), t0_ + 1s);
    const auto actions = send(bad, poll(R + 4), t0_ + 2s);
    EXPECT_TRUE(reply_to(actions, bad).is_terminate(Condition::item_not_found));
    EXPECT_TRUE(reply_to(actions, held).is_terminate(Condition::other_request));
}

// §11, §14.2 (checklist #64): a gap then a rid beyond the window. Bosun
// answers item-not-found (the window fires before any overactivity rule);
// the early request gets other-request.
TEST_F(SessionTest, buffered_request_then_rid_beyond_the_window_is_item_not_found_64)
{
    establish();
    const RequestId early = new_id();
    const RequestId beyond = new_id();
    send(early, poll(R + 2), t0_ + 1s);
    const auto actions = send(beyond, poll(R + 3), t0_ + 1s);
    EXPECT_TRUE(reply_to(actions, beyond).is_terminate(Condition::item_not_found));
    EXPECT_TRUE(reply_to(actions, early).is_terminate(Condition::other_request));
    EXPECT_TRUE(s().ended());
}

// §14.3 (checklist #79): an answered rid sent again gets the identical body,
// and its payloads are not forwarded a second time.
TEST_F(SessionTest, repeated_rid_replays_cached_response_79)
{
    establish();
    const RequestId first = new_id();
    const auto sent = send(first, poll(R + 1, message("out1")), t0_ + 1s);
    EXPECT_EQ(sent_ids(sent), std::vector<std::string> {"out1"});
    const auto original = reply_to(upstream({from_server("in1")}, t0_ + 2s), first);

    const RequestId again = new_id();
    const auto actions = send(again, poll(R + 1, message("out1")), t0_ + 3s);
    const auto replay = reply_to(actions, again);
    EXPECT_EQ(replay.status, 200u);
    EXPECT_EQ(replay.raw, original.raw);
    EXPECT_EQ(replay.child_ids(), std::vector<std::string> {"in1"});
    EXPECT_EQ(count<SendUpstream>(actions), 0u);
    EXPECT_FALSE(ended_with(actions));
    // The session carries on with the next rid.
    EXPECT_EQ(sent_ids(send(new_id(), poll(R + 2, message("out2")), t0_ + 4s)),
        std::vector<std::string> {"out2"});
}

// §14.3, §17.3 (checklist #80, #101): a rid repeated while its original is
// held: the original gets type='error', the new request takes its place and
// gets the data; the payload is not forwarded twice; the session goes on.
TEST_F(SessionTest, repeated_rid_while_held_answers_the_original_with_type_error_80)
{
    establish();
    const RequestId original = new_id();
    const RequestId copy = new_id();
    send(original, poll(R + 1, message("out1")), t0_ + 1s);
    const auto actions = send(copy, poll(R + 1, message("out1")), t0_ + 2s);
    const auto err = reply_to(actions, original);
    EXPECT_EQ(err.attr("type"), "error") << err.raw;
    EXPECT_FALSE(err.has("condition"));
    EXPECT_FALSE(answered(actions, copy));
    EXPECT_EQ(count<SendUpstream>(actions), 0u);
    EXPECT_FALSE(s().ended());

    const auto data = upstream({from_server("in1")}, t0_ + 3s);
    EXPECT_EQ(reply_to(data, copy).child_ids(), std::vector<std::string> {"in1"});
    EXPECT_FALSE(answered(data, original));
    EXPECT_FALSE(s().ended());  // #101: a recoverable error
    EXPECT_FALSE(ended_with(send(new_id(), poll(R + 2), t0_ + 4s)));
}

// §14.3: the same for a request still buffered early in the window.
TEST_F(SessionTest, repeated_rid_while_buffered_answers_the_older_copy_with_type_error_80)
{
    establish();
    const RequestId older = new_id();
    const RequestId newer = new_id();
    send(older, poll(R + 2, message("two")), t0_ + 1s);
    const auto actions = send(newer, poll(R + 2, message("two")), t0_ + 2s);
    EXPECT_EQ(reply_to(actions, older).attr("type"), "error");
    const RequestId first = new_id();
    const auto filled = send(first, poll(R + 1), t0_ + 3s);
    EXPECT_EQ(sent_ids(filled), std::vector<std::string> {"two"});  // forwarded once
    EXPECT_TRUE(answered(filled, first));
    EXPECT_FALSE(answered(filled, older));
    EXPECT_EQ(s().held_count(), 1u);  // `newer` holds R+2
    EXPECT_TRUE(answered(upstream({from_server("x")}, t0_ + 4s), newer));
}

// §14.3 (checklist #81): once a response has left the cache (it keeps
// `requests` of them), its rid gets item-not-found.
TEST_F(SessionTest, rid_too_old_for_the_replay_cache_is_item_not_found_81)
{
    establish();
    const RequestId r1 = new_id();
    send(r1, poll(R + 1), t0_ + 1s);
    send(new_id(), poll(R + 2), t0_ + 2s);  // answers R+1
    const RequestId r3 = new_id();
    send(r3, poll(R + 3), t0_ + 3s);  // answers R+2; R+3 held
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 4s).is_empty());  // still cached
    const RequestId old = new_id();
    const auto actions = send(old, poll(R), t0_ + 5s);  // the creation response is gone
    EXPECT_TRUE(reply_to(actions, old).is_terminate(Condition::item_not_found));
    EXPECT_TRUE(reply_to(actions, r3).is_terminate(Condition::other_request));
    EXPECT_TRUE(s().ended());
}

// §14.1 (checklist #76): rids up to 2^53-1 work.
TEST_F(SessionTest, rids_up_to_2_pow_53_minus_1_work_76)
{
    const std::uint64_t start = k_max_rid - 4;
    establish(k_modern, start);
    for (std::uint64_t rid = start + 1; rid <= k_max_rid; ++rid) {
        const RequestId id = new_id();
        send(id, poll(rid, message("m" + std::to_string(rid))), t0_ + 1s);
        EXPECT_TRUE(reply_to(tick(t0_ + 61s + std::chrono::seconds(rid - start)), id).is_empty())
            << rid;
        EXPECT_FALSE(s().ended()) << rid;
    }
    EXPECT_TRUE(send_and_get(poll(k_max_rid), t0_ + 70s).is_empty());  // replay of the last one
}

// §14.1 (checklist #76): crossing 2^32 neither wraps nor trips the window.
TEST_F(SessionTest, rids_crossing_2_pow_32_work_76)
{
    const std::uint64_t start = (std::uint64_t {1} << 32) - 3;
    establish(k_modern, start);
    std::vector<std::string> forwarded;
    RequestId held = 0;
    for (std::uint64_t rid = start + 1; rid <= start + 6; ++rid) {
        const RequestId id = new_id();
        const auto actions = send(id, poll(rid, message(std::to_string(rid))), t0_ + 1s);
        EXPECT_FALSE(s().ended()) << rid;
        if (held) {
            EXPECT_TRUE(answered(actions, held)) << rid;
        }
        held = id;
        for (auto& x : sent_ids(actions))
            forwarded.push_back(std::move(x));
    }
    EXPECT_EQ(forwarded.size(), 6u);
    EXPECT_EQ(forwarded.back(), std::to_string(start + 6));
    // A rid that is the low 32 bits of the current one is far below the
    // window: not cached, so item-not-found.
    EXPECT_TRUE(send_and_get(poll((start + 6) & 0xffffffffu), t0_ + 2s)
                    .is_terminate(Condition::item_not_found));
}

// ---- restarts (XEP-0206 §5) -----------------------------------------------------------------

// checklist #107: a restart request opens a new stream; its response carries
// the new features.
TEST_F(SessionTest, restart_request_restarts_the_upstream_stream_107)
{
    establish();
    const RequestId id = new_id();
    const auto actions = send(id,
        poll(R + 1, "", "to='example.com' xml:lang='en' xmpp:restart='true' " + k_xb), t0_ + 1s);
    const auto restarts = all<RestartUpstream>(actions);
    ASSERT_EQ(restarts.size(), 1u);
    EXPECT_EQ(restarts[0].to, k_domain);
    EXPECT_EQ(restarts[0].lang, "en");
    EXPECT_EQ(restarts[0].version, "1.0");
    EXPECT_EQ(count<SendUpstream>(actions), 0u);
    EXPECT_FALSE(answered(actions, id));
    const auto r = reply_to(upstream({features(k_bind_features)}, t0_ + 2s), id);
    ASSERT_EQ(r.children().size(), 1u);
    EXPECT_EQ(element_ns(r.children()[0]), k_ns_streams);
    EXPECT_EQ(element_ns(r.children()[0].first_child()), "urn:ietf:params:xml:ns:xmpp-bind");
    EXPECT_FALSE(r.has("sid"));  // #35
}

// checklist #108: a stanza in a restart body is ignored.
TEST_F(SessionTest, stanza_in_a_restart_body_is_not_forwarded_108)
{
    establish();
    const auto actions
        = send(new_id(), poll(R + 1, message("smuggled"), "xmpp:restart='true' " + k_xb), t0_ + 1s);
    EXPECT_EQ(count<RestartUpstream>(actions), 1u);
    EXPECT_EQ(count<SendUpstream>(actions), 0u);
}

// checklist #109: the restart attribute is found by namespace.
TEST_F(SessionTest, restart_with_another_prefix_bound_to_xbosh_restarts_109)
{
    establish();
    const auto actions
        = send(new_id(), poll(R + 1, "", "x:restart='true' xmlns:x='urn:xmpp:xbosh'"), t0_ + 1s);
    EXPECT_EQ(count<RestartUpstream>(actions), 1u);
}

TEST_F(SessionTest, restart_with_xmpp_prefix_bound_elsewhere_is_an_ordinary_request_109)
{
    establish();
    const auto actions = send(new_id(),
        poll(R + 1, message("m1"), "xmpp:restart='true' xmlns:xmpp='urn:elsewhere'"), t0_ + 1s);
    EXPECT_EQ(count<RestartUpstream>(actions), 0u);
    EXPECT_EQ(sent_ids(actions), std::vector<std::string> {"m1"});
}

// §7.1, §16.3 (checklist #30, #85, #19): the restarted stream stays on the
// negotiated domain; a restart cannot reach a domain negotiate() never checked.
TEST_F(SessionTest, restart_stays_on_the_negotiated_domain_30_85)
{
    establish();
    const auto actions = send(
        new_id(), poll(R + 1, "", "to='other.invalid' xmpp:restart='true' " + k_xb), t0_ + 1s);
    const auto restarts = all<RestartUpstream>(actions);
    ASSERT_EQ(restarts.size(), 1u);
    EXPECT_EQ(restarts[0].to, k_domain);
}

// checklist #110: the restart's from goes into the new stream header.
TEST_F(SessionTest, restart_from_is_passed_to_the_new_stream_110)
{
    establish();
    const auto actions = send(new_id(),
        poll(R + 1, "", "from='romeo@example.com' xmpp:restart='true' " + k_xb), t0_ + 1s);
    const auto restarts = all<RestartUpstream>(actions);
    ASSERT_EQ(restarts.size(), 1u);
    EXPECT_EQ(restarts[0].from, "romeo@example.com");
}

// ---- termination (§13, §17.2) ----------------------------------------------------------------

// checklist #73, #74: payloads of a terminate request are forwarded before the
// stream closes; the terminate request gets type='terminate'; the sid dies.
// §4 item 4: the held request gets an ordinary (empty) body.
TEST_F(SessionTest, terminate_forwards_its_payloads_and_ends_the_session_73_74)
{
    establish();
    const RequestId held = new_id();
    const RequestId term = new_id();
    send(held, poll(R + 1), t0_ + 1s);
    const auto actions = send(term,
        poll(R + 2, "<presence type='unavailable' xmlns='jabber:client' id='bye'/>",
            "type='terminate'"),
        t0_ + 2s);
    EXPECT_EQ(sent_ids(actions), std::vector<std::string> {"bye"});
    EXPECT_TRUE(reply_to(actions, held).is_empty());
    const auto t = reply_to(actions, term);
    EXPECT_EQ(t.attr("type"), "terminate");
    EXPECT_LT(response_index(actions, held), response_index(actions, term));  // rid order (#47)
    const int sent_at = index_of<SendUpstream>(actions, [](const auto&) { return true; });
    const int closed_at = index_of<CloseUpstream>(actions, [](const auto&) { return true; });
    ASSERT_GE(closed_at, 0);
    EXPECT_LT(sent_at, closed_at);
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_TRUE(end->by_client);  // logged as a client terminate, not as an error
    EXPECT_TRUE(
        send_and_get(poll(R + 3), t0_ + 3s).is_terminate(Condition::item_not_found));  // #74
}

// Checklist #100: a body over the size limit that names this session ends
// it with policy-violation; held requests are told other-request.
TEST_F(SessionTest, over_limit_request_ends_the_session_with_policy_violation_100)
{
    establish();
    const RequestId held = new_id();
    send(held, poll(R + 1), t0_ + 1s);
    const RequestId big = new_id();
    const auto actions = check_responses(s().on_bad_request(big, t0_ + 2s, Condition::policy_violation));
    EXPECT_TRUE(reply_to(actions, big).is_terminate(Condition::policy_violation));
    EXPECT_TRUE(reply_to(actions, held).is_terminate(Condition::other_request));
    EXPECT_TRUE(ended_with(actions));
}

TEST_F(SessionTest, terminate_as_the_only_open_request_gets_type_terminate_73)
{
    establish();
    const auto r = send_and_get(poll(R + 1, "", "type='terminate'"), t0_ + 1s);
    EXPECT_EQ(r.attr("type"), "terminate");
    EXPECT_TRUE(s().ended());
}

// checklist #75: a client terminate with a condition is a clean close too.
TEST_F(SessionTest, terminate_with_a_condition_is_a_clean_close_75)
{
    establish();
    const RequestId id = new_id();
    const auto actions
        = send(id, poll(R + 1, "", "type='terminate' condition='undefined-condition'"), t0_ + 1s);
    EXPECT_EQ(reply_to(actions, id).attr("type"), "terminate");
    EXPECT_EQ(count<CloseUpstream>(actions), 1u);
    EXPECT_TRUE(ended_with(actions));
    EXPECT_TRUE(send_and_get(poll(R + 2), t0_ + 2s).is_terminate(Condition::item_not_found));
}

// §14.2 (checklist #77, #73): an early terminate waits for the gap, so the
// earlier request's payload is forwarded first.
TEST_F(SessionTest, early_terminate_waits_for_the_missing_rid_77)
{
    establish();
    const RequestId term = new_id();
    const auto early = send(term, poll(R + 2, message("last"), "type='terminate'"), t0_ + 1s);
    EXPECT_FALSE(s().ended());
    EXPECT_EQ(count<SendUpstream>(early), 0u);
    const RequestId gap = new_id();
    const auto actions = send(gap, poll(R + 1, message("first")), t0_ + 2s);
    EXPECT_EQ(sent_ids(actions), (std::vector<std::string> {"first", "last"}));
    EXPECT_TRUE(answered(actions, gap));
    EXPECT_EQ(reply_to(actions, term).attr("type"), "terminate");
    EXPECT_TRUE(s().ended());
}

// ---- inactivity (§10) ------------------------------------------------------------------------

// checklist #56: idle beyond inactivity ends the session silently; later
// requests are answered as for an unknown sid.
TEST_F(SessionTest, inactivity_ends_the_session_silently_56)
{
    establish();  // the last response went out at t0
    EXPECT_EQ(s().next_deadline(), t0_ + 30s);
    EXPECT_TRUE(tick(t0_ + 29s).empty());
    const auto actions = tick(t0_ + 31s);
    EXPECT_EQ(count<Respond>(actions), 0u);
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_TRUE(end->silent);
    EXPECT_EQ(count<CloseUpstream>(actions), 1u);
    EXPECT_FALSE(s().next_deadline());
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 32s).is_terminate(Condition::item_not_found));
}

// checklist #57: the inactivity clock does not run while a request is held
// (wait 60 > inactivity 30), and restarts from the last response.
TEST_F(SessionTest, inactivity_clock_does_not_run_while_a_request_is_held_57)
{
    establish();
    const RequestId id = new_id();
    send(id, poll(R + 1), t0_ + 1s);
    EXPECT_FALSE(ended_with(tick(t0_ + 45s)));
    EXPECT_TRUE(answered(tick(t0_ + 61s), id));
    EXPECT_FALSE(s().ended());
    EXPECT_FALSE(ended_with(tick(t0_ + 61s + 29s)));
    EXPECT_TRUE(ended_with(tick(t0_ + 61s + 31s)));
}

// §10 (checklist #50): a client that keeps polling keeps the session alive.
TEST_F(SessionTest, steady_polling_keeps_the_session_alive_50)
{
    establish();
    TimePoint now = t0_;
    for (std::uint64_t rid = R + 1; rid <= R + 10; ++rid) {
        now += 1s;
        const RequestId id = new_id();
        send(id, poll(rid), now);
        now += 60s;  // wait expires
        EXPECT_TRUE(answered(tick(now), id)) << rid;
        EXPECT_FALSE(s().ended()) << rid;
    }
}

// XEP-0206 §7: stanzas the client never collected are handed back to be bounced.
TEST_F(SessionTest, inactivity_hands_back_undelivered_stanzas_xep0206_7)
{
    establish();
    upstream({from_server("lost1"), from_server("lost2")}, t0_ + 1s);
    const auto actions = tick(t0_ + 31s);
    EXPECT_TRUE(ended_with(actions));
    EXPECT_EQ(undelivered_ids(actions), (std::vector<std::string> {"lost1", "lost2"}));
}

// ---- errors from upstream and from the CM (§17.2; XEP-0206 §6, §7)
// -------------------------------

// XEP-0206 §6 (checklist #96): stanzas first, then the full stream error,
// with xmlns:stream on the body.
TEST_F(SessionTest, remote_stream_error_carries_stanzas_then_the_stream_error_96)
{
    establish();
    const RequestId id = new_id();
    send(id, poll(R + 1), t0_ + 1s);
    const auto actions = upstream({from_server("before"), stream_error()}, t0_ + 2s);
    const auto r = reply_to(actions, id);
    EXPECT_TRUE(r.is_terminate(Condition::remote_stream_error)) << r.raw;
    EXPECT_EQ(r.attr("xmlns:stream"), k_ns_streams);
    const auto kids = r.children();
    ASSERT_EQ(kids.size(), 2u) << r.raw;
    EXPECT_EQ(std::string(kids[0].attribute("id").value()), "before");
    EXPECT_STREQ(kids[1].name(), "stream:error");
    EXPECT_EQ(element_ns(kids[1]), k_ns_streams);
    EXPECT_STREQ(kids[1].first_child().name(), "conflict");
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->why, Condition::remote_stream_error);
}

// checklist #96 with nothing held: the next request learns it, with the queued stanzas.
TEST_F(SessionTest, remote_stream_error_with_nothing_held_is_told_to_the_next_request_96)
{
    establish();
    upstream({from_server("queued")}, t0_ + 1s);
    const auto err = upstream({stream_error()}, t0_ + 2s);
    EXPECT_EQ(count<Respond>(err), 0u);
    EXPECT_FALSE(s().ended());
    EXPECT_TRUE(upstream({from_server("after")}, t0_ + 3s).empty());  // the stream is gone
    const RequestId id = new_id();
    const auto actions = send(id, poll(R + 1), t0_ + 4s);
    const auto r = reply_to(actions, id);
    EXPECT_TRUE(r.is_terminate(Condition::remote_stream_error)) << r.raw;
    ASSERT_EQ(r.children().size(), 2u) << r.raw;
    EXPECT_EQ(std::string(r.children()[0].attribute("id").value()), "queued");
    EXPECT_EQ(element_ns(r.children()[1]), k_ns_streams);
    EXPECT_TRUE(ended_with(actions));
    EXPECT_TRUE(send_and_get(poll(R + 2), t0_ + 5s).is_terminate(Condition::item_not_found));
}

// checklist #95: the CM lost the server while a request was held.
TEST_F(SessionTest, upstream_closed_answers_the_held_request_with_remote_connection_failed_95)
{
    establish();
    const RequestId id = new_id();
    send(id, poll(R + 1), t0_ + 1s);
    const auto actions
        = check_responses(s().on_upstream_closed(Condition::remote_connection_failed, t0_ + 2s));
    EXPECT_TRUE(reply_to(actions, id).is_terminate(Condition::remote_connection_failed));
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->why, Condition::remote_connection_failed);
    EXPECT_FALSE(end->silent);
}

// checklist #95: with nothing held, the NEXT request gets the condition.
TEST_F(SessionTest, upstream_closed_with_nothing_held_is_told_to_the_next_request_95)
{
    establish();
    const auto closed
        = check_responses(s().on_upstream_closed(Condition::remote_connection_failed, t0_ + 1s));
    EXPECT_EQ(count<Respond>(closed), 0u);
    EXPECT_FALSE(ended_with(closed));
    const RequestId id = new_id();
    const auto actions = send(id, poll(R + 1, message("too-late")), t0_ + 2s);
    EXPECT_TRUE(reply_to(actions, id).is_terminate(Condition::remote_connection_failed));
    EXPECT_EQ(count<SendUpstream>(actions), 0u);
    EXPECT_TRUE(ended_with(actions));
    EXPECT_TRUE(send_and_get(poll(R + 2), t0_ + 3s).is_terminate(Condition::item_not_found));
}

// checklist #95: the upstream fails before the features arrive.
TEST_F(SessionTest, upstream_failure_during_creation_answers_the_creation_request_95)
{
    open(new_body(R), t0_);
    const auto actions
        = check_responses(s().on_upstream_closed(Condition::remote_connection_failed, t0_ + 3s));
    EXPECT_TRUE(reply_to(actions, creation_id_).is_terminate(Condition::remote_connection_failed));
    EXPECT_TRUE(s().ended());
}

// §17.2 (checklist #93): with two held, the oldest gets the condition and the
// other gets other-request.
TEST_F(SessionTest, upstream_closed_with_two_held_tells_the_second_other_request_93)
{
    limits_.max_hold = 2;
    establish("wait='60' hold='2' ver='1.6'");
    const RequestId a = new_id(), b = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    send(b, poll(R + 2), t0_ + 1s);
    const auto actions
        = check_responses(s().on_upstream_closed(Condition::remote_connection_failed, t0_ + 2s));
    EXPECT_TRUE(reply_to(actions, a).is_terminate(Condition::remote_connection_failed));
    EXPECT_TRUE(reply_to(actions, b).is_terminate(Condition::other_request));
}

// §17.1 (checklist #24): a legacy client gets HTTP 404 instead of item-not-found.
TEST_F(SessionTest, legacy_client_gets_http_404_for_item_not_found_24)
{
    establish(k_legacy);
    const RequestId id = new_id();
    const auto actions = send(id, poll(R + 5), t0_ + 1s);
    const auto r = reply_to(actions, id);
    EXPECT_EQ(r.status, 404u);
    EXPECT_TRUE(r.raw.empty());
    EXPECT_TRUE(s().ended());
    EXPECT_EQ(send_and_get(poll(R + 1), t0_ + 2s).status, 404u);  // the dead sid too
}

// §17.1 (checklist #100): a client that sent ver never gets an HTTP error.
TEST_F(SessionTest, versioned_client_gets_200_with_item_not_found_100)
{
    establish();
    const auto r = send_and_get(poll(R + 5), t0_ + 1s);
    EXPECT_EQ(r.status, 200u);
    EXPECT_TRUE(r.is_terminate(Condition::item_not_found));
}

// §17.2 (checklist #87, #24): a malformed request naming the session ends it.
TEST_F(SessionTest, bad_request_ends_the_session_87)
{
    establish();
    const RequestId held = new_id();
    send(held, poll(R + 1), t0_ + 1s);
    const RequestId bad = new_id();
    const auto actions = check_responses(s().on_bad_request(bad, t0_ + 2s));
    EXPECT_TRUE(reply_to(actions, bad).is_terminate(Condition::bad_request));
    EXPECT_TRUE(reply_to(actions, held).is_terminate(Condition::other_request));
    EXPECT_TRUE(s().ended());
}

TEST_F(SessionTest, legacy_client_gets_http_400_for_bad_request_24)
{
    establish(k_legacy);
    const RequestId bad = new_id();
    EXPECT_EQ(reply_to(check_responses(s().on_bad_request(bad, t0_ + 1s)), bad).status, 400u);
}

// checklist #94, STYLE rule 8: server data piling up while the client does not
// collect it ends the session with policy-violation; the queue is bounced.
TEST_F(SessionTest, pending_bytes_over_the_limit_is_policy_violation_94)
{
    limits_.max_pending_bytes = 3 * message("q0").size();
    establish();
    EXPECT_TRUE(upstream({from_server("q1"), from_server("q2"), from_server("q3")}, t0_ + 1s)
                    .empty());  // at the limit
    EXPECT_EQ(s().pending_bytes(), limits_.max_pending_bytes);
    const auto over = upstream({from_server("q4")}, t0_ + 2s);
    EXPECT_EQ(count<Respond>(over), 0u);
    EXPECT_EQ(undelivered_ids(over), (std::vector<std::string> {"q1", "q2", "q3", "q4"}));
    const RequestId id = new_id();
    const auto actions = send(id, poll(R + 1), t0_ + 3s);
    EXPECT_TRUE(reply_to(actions, id).is_terminate(Condition::policy_violation));
    EXPECT_TRUE(s().ended());
}

// STYLE rule 8: the pending limit bounds what waits for the client, not what
// a held request can carry away at once.
TEST_F(SessionTest, data_over_the_pending_limit_goes_to_a_held_request_94)
{
    limits_.max_pending_bytes = message("q0").size();
    establish();
    const RequestId id = new_id();
    send(id, poll(R + 1), t0_ + 1s);
    const auto actions = upstream({from_server("b1"), from_server("b2")}, t0_ + 2s);
    EXPECT_EQ(reply_to(actions, id).child_ids(), (std::vector<std::string> {"b1", "b2"}));
    EXPECT_FALSE(ended_with(actions));
    EXPECT_EQ(s().pending_bytes(), 0u);
}

// checklist #98: shutdown tells held requests system-shutdown.
TEST_F(SessionTest, shutdown_answers_held_requests_with_system_shutdown_98)
{
    establish();
    const RequestId id = new_id();
    send(id, poll(R + 1), t0_ + 1s);
    const auto actions = check_responses(s().shutdown(t0_ + 2s));
    EXPECT_TRUE(reply_to(actions, id).is_terminate(Condition::system_shutdown));
    EXPECT_EQ(count<CloseUpstream>(actions), 1u);
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->why, Condition::system_shutdown);
    EXPECT_TRUE(check_responses(s().shutdown(t0_ + 3s)).empty());  // once only
}

// checklist #98, XEP-0206 §7: with nothing held, the session ends at once and
// the stanzas the client never collected are handed back to be bounced.
TEST_F(SessionTest, shutdown_with_nothing_held_bounces_undelivered_stanzas_98)
{
    establish();
    upstream({from_server("undelivered")}, t0_ + 1s);
    const auto actions = check_responses(s().shutdown(t0_ + 2s));
    EXPECT_EQ(count<Respond>(actions), 0u);
    EXPECT_EQ(count<CloseUpstream>(actions), 1u);
    EXPECT_EQ(undelivered_ids(actions), std::vector<std::string> {"undelivered"});
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->why, Condition::system_shutdown);
    EXPECT_TRUE(s().ended());
}

// checklist #98: a request waiting early in the window learns system-shutdown too.
TEST_F(SessionTest, shutdown_answers_a_buffered_request_with_system_shutdown_98)
{
    establish();
    const RequestId early = new_id();
    send(early, poll(R + 2), t0_ + 1s);
    const auto actions = check_responses(s().shutdown(t0_ + 2s));
    EXPECT_TRUE(reply_to(actions, early).is_terminate(Condition::system_shutdown));
    EXPECT_TRUE(ended_with(actions));
}

// XEP-0206 §7: a session ended by the client's own error bounces what was queued.
TEST_F(SessionTest, window_violation_hands_back_undelivered_stanzas_xep0206_7)
{
    establish();
    upstream({from_server("queued")}, t0_ + 1s);
    const auto actions = send(new_id(), poll(R + 9), t0_ + 2s);
    EXPECT_EQ(undelivered_ids(actions), std::vector<std::string> {"queued"});
    EXPECT_TRUE(ended_with(actions));
}

// After the end, events are ignored and requests get item-not-found.
TEST_F(SessionTest, ended_session_ignores_events_74)
{
    establish();
    send(new_id(), poll(R + 1, "", "type='terminate'"), t0_ + 1s);
    ASSERT_TRUE(s().ended());
    EXPECT_TRUE(upstream({from_server("x")}, t0_ + 2s).empty());
    EXPECT_TRUE(
        check_responses(s().on_upstream_closed(Condition::remote_connection_failed, t0_ + 2s))
            .empty());
    EXPECT_TRUE(tick(t0_ + 100s).empty());
    EXPECT_TRUE(check_responses(s().shutdown(t0_ + 100s)).empty());
}

}  // namespace
}  // namespace bosun::bosh
