// XEP-0124 §14 request ids beyond session_test.cpp, §8 with hold > 1, §16
// multiple streams (not offered), and the 'wait' cap by max_wait and
// front_proxy_timeout (§7.2). Checklist sections E, J, L and #21.
#include "bosh/session.hpp"

#include "session_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bosun::bosh {
namespace {

using namespace test;

// ---- J: request ids (§14) ----------------------------------------------------------

// §14.2 (checklist #77): a message in an early request is not forwarded
// before the gap is filled; then both go in rid order, and the responses too.
TEST_F(SessionTest, early_payload_waits_for_the_missing_rid_77)
{
    establish();
    const RequestId late = new_id(), early = new_id();
    const auto first = send(early, poll(R + 2, message("two")), t0_ + 1s);
    EXPECT_EQ(count<SendUpstream>(first), 0u);
    EXPECT_EQ(count<Respond>(first), 0u);
    const auto actions = send(late, poll(R + 1, message("one")), t0_ + 3s);
    EXPECT_EQ(sent_ids(actions), (std::vector<std::string> {"one", "two"}));
    EXPECT_TRUE(reply_to(actions, late).is_empty());  // hold=1: R+2 answers R+1
    EXPECT_FALSE(answered(actions, early));
    EXPECT_EQ(reply_to(upstream({from_server("in")}, t0_ + 4s), early).child_ids(),
        std::vector<std::string> {"in"});
}

// §14.3 (checklist #79): replaying an old rid leaves the held request alone:
// the next data still goes to it.
TEST_F(SessionTest, replay_does_not_disturb_the_held_request_79)
{
    establish();
    const RequestId a = new_id(), b = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    const auto first = reply_to(send(b, poll(R + 2), t0_ + 2s), a);
    const auto again = send(new_id(), poll(R + 1), t0_ + 3s);
    EXPECT_EQ(count<Respond>(again), 1u);
    EXPECT_FALSE(answered(again, b));
    EXPECT_EQ(s().held_count(), 1u);
    EXPECT_EQ(reply_to(upstream({from_server("in")}, t0_ + 4s), b).child_ids(), std::vector<std::string> {"in"});
    EXPECT_TRUE(first.is_empty());
}

// §14.3 (checklist #79): the cache keeps `requests` (2) responses: the two
// most recent are replayed byte for byte, each with its own payloads.
TEST_F(SessionTest, the_last_requests_responses_are_each_replayed_79)
{
    establish();
    std::vector<std::string> bodies;
    for (std::uint64_t rid = R + 1; rid <= R + 3; ++rid) {
        const RequestId id = new_id();
        send(id, poll(rid), t0_ + 1s);
        bodies.push_back(reply_to(upstream({from_server("in" + std::to_string(rid - R))}, t0_ + 1s), id).raw);
    }
    EXPECT_EQ(send_and_get(poll(R + 3), t0_ + 2s).raw, bodies[2]);
    EXPECT_EQ(send_and_get(poll(R + 2), t0_ + 2s).raw, bodies[1]);
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 2s).is_terminate(Condition::item_not_found));
}

// §14.3 (checklist #80): the request that took a held rid's place is
// answered on wait expiry like the original would have been.
TEST_F(SessionTest, copy_that_took_the_place_of_a_held_request_expires_with_wait_80)
{
    establish();
    const RequestId a = new_id(), copy = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    send(copy, poll(R + 1), t0_ + 2s);
    const auto actions = tick(t0_ + 61s);
    EXPECT_TRUE(reply_to(actions, copy).is_empty());
    EXPECT_FALSE(answered(actions, a));
    // and the copy's answer is the one cached for R+1.
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 62s).is_empty());
}

// §14.2, §14.3 (checklist #78, #81): too new and too old get the same error.
TEST_F(SessionTest, too_old_and_too_new_rids_get_the_same_error_78_81)
{
    establish();
    for (std::uint64_t rid = R + 1; rid <= R + 4; ++rid)
        send(new_id(), poll(rid), t0_ + 1s);
    const auto old_reply = send_and_get(poll(R + 1), t0_ + 2s);
    establish();  // a fresh session
    const auto new_reply = send_and_get(poll(R + 3), t0_ + 2s);
    EXPECT_TRUE(old_reply.is_terminate(Condition::item_not_found)) << old_reply.raw;
    EXPECT_EQ(old_reply.raw, new_reply.raw);
}

// ---- E: hold > 1 (§8) ----------------------------------------------------------------

class HoldTwoTest : public SessionTest {
protected:
    void SetUp() override
    {
        limits_.max_hold = 2;
        establish("wait='60' hold='2' ver='1.6'");
    }
};

// §8 (checklist #48, #47): data answers the oldest held request only; the
// next data goes to the other one.
TEST_F(HoldTwoTest, data_answers_the_oldest_of_two_held_requests_48_47)
{
    const RequestId a = new_id(), b = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    send(b, poll(R + 2), t0_ + 2s);
    EXPECT_EQ(s().held_count(), 2u);
    const auto first = upstream({from_server("x")}, t0_ + 3s);
    EXPECT_EQ(reply_to(first, a).child_ids(), std::vector<std::string> {"x"});
    EXPECT_FALSE(answered(first, b));
    EXPECT_EQ(reply_to(upstream({from_server("y")}, t0_ + 4s), b).child_ids(), std::vector<std::string> {"y"});
}

// §8 (checklist #45): each held request has its own wait.
TEST_F(HoldTwoTest, each_held_request_expires_after_its_own_wait_45)
{
    const RequestId a = new_id(), b = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    send(b, poll(R + 2), t0_ + 11s);
    EXPECT_EQ(s().next_deadline(), t0_ + 61s);
    const auto first = tick(t0_ + 61s);
    EXPECT_TRUE(reply_to(first, a).is_empty());
    EXPECT_FALSE(answered(first, b));
    EXPECT_EQ(s().next_deadline(), t0_ + 71s);
    EXPECT_TRUE(reply_to(tick(t0_ + 71s), b).is_empty());
}

// §7.1 (checklist #22): hold above max_hold is capped; requests = hold + 1.
TEST_F(SessionTest, hold_above_max_hold_is_capped_22_33)
{
    limits_.max_hold = 2;
    const auto r = establish("wait='60' hold='5' ver='1.6'");
    EXPECT_EQ(r.attr("hold"), "2");
    EXPECT_EQ(r.attr("requests"), "3");
}

// ---- L: multiple streams (§16) are not offered -------------------------------------

// §16.2 (checklist #84): no 'stream' attribute: the feature is not offered.
TEST_F(SessionTest, creation_response_offers_no_multiple_streams_84)
{
    EXPECT_FALSE(establish().has("stream"));
}

// §16.3 (checklist #85, #86): without support, 'stream', 'to', 'route' and
// xml:lang on a later request are ignored: a normal request (its payload
// forwarded), no new upstream stream, and no item-not-found for the unknown
// stream name.
TEST_F(SessionTest, stream_attributes_on_a_later_request_are_ignored_85_86)
{
    establish();
    const RequestId id = new_id();
    const auto actions = send(id,
        poll(R + 1, message("m"), "stream='bogus' to='other.example' route='xmpp:other.example:5222' xml:lang='de'"),
        t0_ + 1s);
    EXPECT_EQ(sent_ids(actions), std::vector<std::string> {"m"});
    EXPECT_EQ(count<OpenUpstream>(actions), 0u);
    EXPECT_EQ(count<RestartUpstream>(actions), 0u);
    EXPECT_FALSE(ended_with(actions));
    const auto r = reply_to(upstream({from_server("in")}, t0_ + 2s), id);
    EXPECT_EQ(r.child_ids(), std::vector<std::string> {"in"});
    EXPECT_FALSE(r.has("stream"));
}

// §16.6 (checklist #86): without support, a terminate naming a stream ends
// the whole session.
TEST_F(SessionTest, terminate_with_a_stream_name_ends_the_session_86)
{
    establish();
    const RequestId id = new_id();
    const auto actions = send(id, poll(R + 1, "", "type='terminate' stream='s1'"), t0_ + 1s);
    EXPECT_EQ(reply_to(actions, id).attr("type"), "terminate");
    EXPECT_TRUE(ended_with(actions));
}

// ---- #21: the wait cap ------------------------------------------------------------------

Negotiated negotiated_with(const std::string& wait, const Limits& limits)
{
    auto n = negotiate(parse("<body rid='1' to='example.com' " + wait + " hold='1' ver='1.6' " + k_ns + "/>"),
        limits, serves);
    if (!n) {
        ADD_FAILURE() << to_wire(n.error());
        return {};
    }
    return *n;
}

// §7.2 (checklist #21): a front proxy timing out after 30 s caps wait at
// 25 s; a lower request stays as it is; max_wait still applies.
TEST(WaitCap, front_proxy_timeout_caps_wait_five_seconds_below_it_21)
{
    Limits l = test_limits();
    l.front_proxy_timeout = 30s;
    EXPECT_EQ(negotiated_with("wait='60'", l).wait, 25s);
    EXPECT_EQ(negotiated_with("wait='25'", l).wait, 25s);
    EXPECT_EQ(negotiated_with("wait='10'", l).wait, 10s);
    l.default_wait = 45s;
    EXPECT_EQ(negotiated_with("", l).wait, 25s);
    l.front_proxy_timeout = 100s;
    EXPECT_EQ(negotiated_with("wait='90'", l).wait, 60s);  // max_wait
    l.front_proxy_timeout = 0s;
    EXPECT_EQ(negotiated_with("wait='90'", l).wait, 60s);  // no proxy
}

// A proxy timeout of 5 s or less leaves no room: every session polls (the
// config check warns about it).
TEST(WaitCap, front_proxy_timeout_of_five_seconds_makes_every_session_poll_21_68)
{
    Limits l = test_limits();
    l.front_proxy_timeout = 5s;
    const auto n = negotiated_with("wait='60'", l);
    EXPECT_EQ(n.wait, 0s);
    EXPECT_TRUE(n.polling_session());
    l.front_proxy_timeout = 3s;
    EXPECT_EQ(negotiated_with("wait='60'", l).wait, 0s);
}

// §8 with the cap (checklist #21, #45): the held request comes back after the
// capped wait, before the proxy would cut it.
TEST_F(SessionTest, held_request_returns_within_the_capped_wait_21_45)
{
    limits_.front_proxy_timeout = 30s;
    EXPECT_EQ(establish().attr("wait"), "25");
    const RequestId id = new_id();
    send(id, poll(R + 1), t0_ + 1s);
    EXPECT_FALSE(answered(tick(t0_ + 25s), id));
    EXPECT_TRUE(reply_to(tick(t0_ + 26s), id).is_empty());
}

// §14.3, reference prebind-and-auth §6.6: a held request whose connection
// closed (page unload) gets no payloads; they go to the next request, and
// its own rid replays as empty.
TEST_F(SessionTest, held_request_whose_connection_closed_keeps_the_data_for_the_next_one)
{
    establish();
    const RequestId gone = new_id();
    send(gone, poll(R + 1), t0_ + 1s);
    const auto closed = check_responses(s().on_request_gone(gone, t0_ + 2s));
    EXPECT_TRUE(reply_to(closed, gone).is_empty());
    // the server's message arrives while nothing is held: it waits
    EXPECT_EQ(count<Respond>(upstream({from_server("kept")}, t0_ + 3s)), 0u);
    // the reloaded page goes on with the next rid and gets it
    const RequestId next = new_id();
    EXPECT_EQ(reply_to(send(next, poll(R + 2), t0_ + 4s), next).child_ids(),
        std::vector<std::string> {"kept"});
}

TEST_F(SessionTest, rid_of_a_request_whose_connection_closed_replays_empty)
{
    establish();
    const RequestId gone = new_id();
    send(gone, poll(R + 1), t0_ + 1s);
    s().on_request_gone(gone, t0_ + 2s);
    upstream({from_server("kept")}, t0_ + 3s);
    // a retry of the same rid (Strophe re-sends after a network error)
    const RequestId retry = new_id();
    EXPECT_TRUE(reply_to(send(retry, poll(R + 1), t0_ + 4s), retry).is_empty());
    const RequestId next = new_id();
    EXPECT_EQ(reply_to(send(next, poll(R + 2), t0_ + 5s), next).child_ids(),
        std::vector<std::string> {"kept"});
}

TEST_F(SessionTest, gone_is_ignored_for_answered_requests_and_the_creation_request)
{
    open(new_body(R), t0_);
    // the creation response carries the sid: it is answered as usual
    EXPECT_TRUE(s().on_request_gone(creation_id_, t0_ + 1s).empty());
    EXPECT_TRUE(reply_to(upstream({features()}, t0_ + 2s), creation_id_).has("sid"));
    const RequestId id = new_id();
    send(id, poll(R + 1), t0_ + 3s);
    upstream({from_server("m")}, t0_ + 4s);
    EXPECT_TRUE(s().on_request_gone(id, t0_ + 5s).empty());
}

}  // namespace
}  // namespace bosun::bosh
