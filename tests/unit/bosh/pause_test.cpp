// XEP-0124 §10 inactivity and pause, §11/§12 overactivity and polling, and
// the §14.3 resend limit, in the sans-I/O session. Checklist sections G, H.
#include "bosh/session.hpp"

#include "session_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bosun::bosh {
namespace {

using namespace test;

std::string pause_attr(unsigned seconds)
{
    return "pause='" + std::to_string(seconds) + "'";
}

// ---- G: pause (§10) ------------------------------------------------------------

// §10 (checklist #60): the held request and the pause request are answered
// at once; the pause response is empty.
TEST_F(SessionTest, pause_answers_the_held_request_and_itself_at_once_60)
{
    establish();
    const RequestId held = new_id();
    const RequestId p = new_id();
    send(held, poll(R + 1), t0_ + 1s);
    const auto actions = send(p, poll(R + 2, "", pause_attr(60)), t0_ + 2s);
    EXPECT_TRUE(reply_to(actions, held).is_empty());
    EXPECT_TRUE(reply_to(actions, p).is_empty());
    EXPECT_EQ(s().held_count(), 0u);
    EXPECT_FALSE(s().ended());
}

// §10 (checklist #60, #61): queued stanzas are not put on the pause
// response; the pause raises inactivity to 60 s, the request after the pause
// collects them and restores the usual 30 s.
TEST_F(SessionTest, pause_keeps_queued_stanzas_and_stretches_inactivity_60_61)
{
    establish();
    upstream({from_server("q1")}, t0_ + 1s);  // nothing held: queued
    const RequestId p = new_id();
    const auto paused = send(p, poll(R + 1, "", pause_attr(60)), t0_ + 2s);
    const auto pr = reply_to(paused, p);
    EXPECT_TRUE(pr.is_empty()) << pr.raw;
    EXPECT_EQ(s().next_deadline(), t0_ + 2s + 60s);
    EXPECT_FALSE(ended_with(tick(t0_ + 2s + 45s)));  // past the usual 30 s
    EXPECT_EQ(send_and_get(poll(R + 2), t0_ + 2s + 50s).child_ids(), std::vector<std::string> {"q1"});
    // #61: back to 30 s after that response.
    EXPECT_EQ(s().next_deadline(), t0_ + 2s + 50s + 30s);
    EXPECT_TRUE(ended_with(tick(t0_ + 2s + 50s + 31s)));
}

// §10 (checklist #60): stanzas in a pause request are still forwarded.
TEST_F(SessionTest, payload_of_a_pause_request_is_forwarded_60)
{
    establish();
    const auto actions = send(new_id(), poll(R + 1, message("bye"), pause_attr(60)), t0_ + 1s);
    EXPECT_EQ(sent_ids(actions), std::vector<std::string> {"bye"});
}

// §10 (checklist #62): a pause shorter than inactivity shortens it.
TEST_F(SessionTest, short_pause_shortens_inactivity_62)
{
    establish();
    send(new_id(), poll(R + 1, "", pause_attr(5)), t0_ + 1s);
    EXPECT_FALSE(ended_with(tick(t0_ + 1s + 4s)));
    const auto end = ended_with(tick(t0_ + 1s + 5s));
    ASSERT_TRUE(end);
    EXPECT_TRUE(end->silent);
    EXPECT_TRUE(send_and_get(poll(R + 2), t0_ + 8s).is_terminate(Condition::item_not_found));
}

// §10 (checklist #61): a pause lasts only until the next request, also
// when that request is held and then answered.
TEST_F(SessionTest, next_request_ends_the_pause_61)
{
    establish();
    send(new_id(), poll(R + 1, "", pause_attr(120)), t0_ + 1s);
    const RequestId id = new_id();
    send(id, poll(R + 2), t0_ + 10s);
    EXPECT_TRUE(answered(tick(t0_ + 70s), id));  // wait expiry
    EXPECT_EQ(s().next_deadline(), t0_ + 70s + 30s);
}

// §10 (checklist #63): pause > maxpause is refused with policy-violation
// (unspecified by the XEP; Openfire does the same), nothing forwarded.
TEST_F(SessionTest, pause_above_maxpause_is_policy_violation_63)
{
    EXPECT_EQ(establish().attr("maxpause"), "120");
    const RequestId id = new_id();
    const auto actions = send(id, poll(R + 1, message("x"), pause_attr(121)), t0_ + 1s);
    EXPECT_TRUE(reply_to(actions, id).is_terminate(Condition::policy_violation));
    EXPECT_EQ(count<SendUpstream>(actions), 0u);
    EXPECT_TRUE(s().ended());
}

TEST_F(SessionTest, pause_equal_to_maxpause_is_accepted_63)
{
    establish();
    EXPECT_TRUE(send_and_get(poll(R + 1, "", pause_attr(120)), t0_ + 1s).is_empty());
    EXPECT_EQ(s().next_deadline(), t0_ + 1s + 120s);
}

// §14.3: pause responses are not kept, so a re-sent pause rid is
// item-not-found (checklist §4 item 15).
TEST_F(SessionTest, resent_pause_rid_is_item_not_found_79)
{
    establish();
    send(new_id(), poll(R + 1, "", pause_attr(60)), t0_ + 1s);
    EXPECT_TRUE(send_and_get(poll(R + 1, "", pause_attr(60)), t0_ + 2s).is_terminate(Condition::item_not_found));
}

// §10 with §9.2: a pause response in an acking session still acks and reports.
TEST_F(SessionTest, pause_response_carries_ack_for_an_acking_client_60_51)
{
    establish("wait='60' hold='1' ver='1.6' ack='1'");
    const RequestId held = new_id();
    send(held, poll(R + 1, "", "ack='" + std::to_string(R) + "'"), t0_ + 1s);
    const auto actions = send(new_id(), poll(R + 2, "", "ack='" + std::to_string(R) + "' " + pause_attr(60)), t0_ + 2s);
    EXPECT_EQ(reply_to(actions, held).attr("ack"), std::to_string(R + 2));
}

// ---- H: overactivity (§11) ----------------------------------------------------------

// §11 (checklist #65): one request more than `requests` is allowed when it
// terminates: R+1 is late, R+2 and R+3 (terminate) arrive first, so three
// are unanswered; R+1 then completes the sequence, every request is
// answered in rid order and the session ends cleanly.
TEST_F(SessionTest, one_extra_terminate_request_is_not_overactivity_65)
{
    establish();
    const RequestId r1 = new_id(), r2 = new_id(), r3 = new_id();
    send(r2, poll(R + 2), t0_ + 1s);
    const auto t = send(r3, poll(R + 3, "", "type='terminate'"), t0_ + 1s);
    EXPECT_FALSE(ended_with(t));
    EXPECT_EQ(count<Respond>(t), 0u);
    const auto actions = send(r1, poll(R + 1), t0_ + 2s);
    EXPECT_LT(response_index(actions, r1), response_index(actions, r2));
    EXPECT_LT(response_index(actions, r2), response_index(actions, r3));
    EXPECT_TRUE(reply_to(actions, r1).is_empty());
    EXPECT_TRUE(reply_to(actions, r2).is_empty());
    EXPECT_EQ(reply_to(actions, r3).attr("type"), "terminate");
    EXPECT_FALSE(reply_to(actions, r3).has("condition"));
    ASSERT_TRUE(ended_with(actions));
}

// §11, §14.2 (checklist #65, #78): without terminate or pause the same rid
// is beyond the window.
TEST_F(SessionTest, extra_request_without_pause_or_terminate_is_refused_65_78)
{
    establish();
    send(new_id(), poll(R + 2), t0_ + 1s);
    EXPECT_TRUE(send_and_get(poll(R + 3), t0_ + 1s).is_terminate(Condition::item_not_found));
}

// §11 (checklist #65): the same extra request with pause.
TEST_F(SessionTest, one_extra_pause_request_is_not_overactivity_65)
{
    establish();
    const RequestId r1 = new_id(), r2 = new_id(), r3 = new_id();
    send(r2, poll(R + 2), t0_ + 1s);
    EXPECT_FALSE(ended_with(send(r3, poll(R + 3, "", pause_attr(60)), t0_ + 1s)));
    const auto actions = send(r1, poll(R + 1), t0_ + 2s);
    for (const RequestId id : {r1, r2, r3})
        EXPECT_TRUE(reply_to(actions, id).is_empty()) << id;
    EXPECT_FALSE(s().ended());
    EXPECT_EQ(s().next_deadline(), t0_ + 2s + 60s);
}

// §11 (checklist #64, #94): with hold=2 (requests=3) the window allows a
// gap big enough for the too-many rule: two held, one early, and a fourth
// new request none of them answered → policy-violation.
TEST_F(SessionTest, more_unanswered_requests_than_requests_is_policy_violation_64)
{
    limits_.max_hold = 2;
    EXPECT_EQ(establish("wait='60' hold='2' ver='1.6'").attr("requests"), "3");
    const RequestId a = new_id(), b = new_id(), early = new_id(), over = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    send(b, poll(R + 2), t0_ + 1s);
    EXPECT_EQ(s().held_count(), 2u);
    EXPECT_FALSE(ended_with(send(early, poll(R + 4), t0_ + 1s)));
    const auto actions = send(over, poll(R + 5), t0_ + 1s);
    EXPECT_TRUE(reply_to(actions, over).is_terminate(Condition::policy_violation));
    EXPECT_TRUE(reply_to(actions, a).is_terminate(Condition::other_request));
    EXPECT_TRUE(reply_to(actions, b).is_terminate(Condition::other_request));
    EXPECT_TRUE(reply_to(actions, early).is_terminate(Condition::other_request));
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->why, Condition::policy_violation);
}

// §11 (checklist #65) with hold=2: the fourth may terminate.
TEST_F(SessionTest, hold_two_extra_terminate_is_allowed_65)
{
    limits_.max_hold = 2;
    establish("wait='60' hold='2' ver='1.6'");
    send(new_id(), poll(R + 1), t0_ + 1s);
    send(new_id(), poll(R + 2), t0_ + 1s);
    send(new_id(), poll(R + 4), t0_ + 1s);
    const auto actions = send(new_id(), poll(R + 5, "", "type='terminate'"), t0_ + 1s);
    EXPECT_FALSE(ended_with(actions));
    EXPECT_EQ(count<Respond>(actions), 0u);
}

// §11 (checklist #66, §4 item 13): long-polling sessions are not policed
// for frequency: an empty request right after a held one answers the held
// one (#46) instead of ending the session.
TEST_F(SessionTest, long_polling_empty_request_right_after_a_held_one_is_accepted_66)
{
    establish();
    const RequestId a = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    const RequestId b = new_id();
    const auto actions = send(b, poll(R + 2), t0_ + 1s + 200ms);
    EXPECT_TRUE(reply_to(actions, a).is_empty());
    EXPECT_FALSE(answered(actions, b));
    EXPECT_FALSE(ended_with(actions));
}

// ---- H: polling sessions (§12) ------------------------------------------------------

class PollingTest : public SessionTest {
protected:
    void SetUp() override { establish("wait='0' hold='0' ver='1.6'"); }
};

// §12 (checklist #68): a polling session advertises inactivity > polling.
TEST_F(SessionTest, polling_session_advertises_inactivity_above_polling_68)
{
    limits_.inactivity = 6s;
    const auto r = establish("wait='0' hold='0' ver='1.6'");
    EXPECT_EQ(r.attr("polling"), "5");
    EXPECT_EQ(r.attr("inactivity"), "10");
    EXPECT_EQ(r.attr("requests"), "1");
}

// §12 (checklist #69): two empty requests less than `polling` apart, the
// first answered without payloads → policy-violation.
TEST_F(PollingTest, empty_polls_closer_than_polling_are_policy_violation_69)
{
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 10s).is_empty());
    const RequestId id = new_id();
    const auto actions = send(id, poll(R + 2), t0_ + 10s + 4500ms);
    EXPECT_TRUE(reply_to(actions, id).is_terminate(Condition::policy_violation));
    EXPECT_TRUE(s().ended());
}

// §12 (checklist #69): `polling` apart is fine, many times over.
TEST_F(PollingTest, empty_polls_polling_apart_are_accepted_69)
{
    for (std::uint64_t i = 1; i <= 5; ++i)
        EXPECT_TRUE(send_and_get(poll(R + i), t0_ + std::chrono::seconds(5 * i)).is_empty()) << i;
    EXPECT_FALSE(s().ended());
}

// §12 (checklist #70): not a violation when the previous response carried
// payloads.
TEST_F(PollingTest, quick_poll_after_a_response_with_payloads_is_accepted_70)
{
    upstream({from_server("in")}, t0_ + 9s);
    EXPECT_EQ(send_and_get(poll(R + 1), t0_ + 10s).child_ids(), std::vector<std::string> {"in"});
    EXPECT_TRUE(send_and_get(poll(R + 2), t0_ + 10s + 500ms).is_empty());
    EXPECT_FALSE(s().ended());
}

// §12 (checklist #70): not a violation when a request carries payloads,
// either the quick one or the one before it.
TEST_F(PollingTest, quick_requests_with_payloads_are_accepted_70)
{
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 10s).is_empty());
    EXPECT_TRUE(send_and_get(poll(R + 2, message("a")), t0_ + 10s + 100ms).is_empty());
    EXPECT_TRUE(send_and_get(poll(R + 3), t0_ + 10s + 200ms).is_empty());
    EXPECT_FALSE(s().ended());
}

// §12 with §14.3: re-sending a rid is not a new request, so it does not
// count as a too-frequent poll.
TEST_F(PollingTest, resend_is_not_a_too_frequent_poll_69_79)
{
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 10s).is_empty());
    EXPECT_TRUE(send_and_get(poll(R + 1), t0_ + 10s + 100ms).is_empty());
    EXPECT_TRUE(send_and_get(poll(R + 2), t0_ + 15s).is_empty());
    EXPECT_FALSE(s().ended());
}

// §12: a polling session's window is requests=1: R+2 is out of window.
TEST_F(PollingTest, polling_window_is_one_rid_78)
{
    EXPECT_TRUE(send_and_get(poll(R + 2), t0_ + 10s).is_terminate(Condition::item_not_found));
}

// ---- H: resend limit (§14.3) ---------------------------------------------------------

// §14.3 (checklist #72): a rid may be re-sent max_resends times; once more
// is policy-violation.
TEST_F(SessionTest, resending_a_rid_more_than_max_resends_is_policy_violation_72)
{
    limits_.max_resends = 3;
    establish();
    const RequestId a = new_id();
    send(a, poll(R + 1, message("m")), t0_ + 1s);
    const auto original = reply_to(upstream({from_server("in")}, t0_ + 2s), a);
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(send_and_get(poll(R + 1, message("m")), t0_ + 3s).raw, original.raw) << i;
    const RequestId id = new_id();
    const auto actions = send(id, poll(R + 1, message("m")), t0_ + 4s);
    EXPECT_TRUE(reply_to(actions, id).is_terminate(Condition::policy_violation));
    EXPECT_TRUE(s().ended());
}

// §14.3 (checklist #72): the count is per rid: re-sending each new rid a
// few times is what a client on a bad network does.
TEST_F(SessionTest, resend_count_starts_again_for_another_rid_72)
{
    limits_.max_resends = 2;
    establish();
    for (std::uint64_t rid = R + 1; rid <= R + 4; ++rid) {
        const RequestId id = new_id();
        send(id, poll(rid), t0_ + 1s);
        reply_to(upstream({from_server("in")}, t0_ + 1s), id);
        for (int i = 0; i < 2; ++i)
            EXPECT_EQ(send_and_get(poll(rid), t0_ + 2s).child_ids(), std::vector<std::string> {"in"});
    }
    EXPECT_FALSE(s().ended());
}

}  // namespace
}  // namespace bosun::bosh
