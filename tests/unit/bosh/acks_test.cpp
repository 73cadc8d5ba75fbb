// XEP-0124 §9 acknowledgements in the sans-I/O session: 'ack' on responses
// (§9.1), client acks pruning the replay cache, and 'report'/'time' when a
// client's ack shows a lost response (§9.2). Checklist section F.
#include "bosh/session.hpp"

#include "session_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bosun::bosh {
namespace {

using namespace test;

const std::string k_acking = "wait='60' hold='1' ver='1.6' ack='1'";

std::string ack_attr(std::uint64_t rid)
{
    return "ack='" + std::to_string(rid) + "'";
}

class AckTest : public SessionTest {
protected:
    // Sends `rid` (acknowledging `acked`, or nothing) and lets upstream data
    // answer it; returns the response.
    Reply exchange(std::uint64_t rid, std::optional<std::uint64_t> acked, const std::string& data_id,
                   TimePoint now)
    {
        const RequestId id = new_id();
        send(id, poll(rid, "", acked ? ack_attr(*acked) : ""), now);
        return reply_to(upstream({from_server(data_id)}, now), id);
    }
};

// §9.1 (checklist #37): a session whose client asked for acks gets 'ack'
// equal to the creation rid on the creation response.
TEST_F(AckTest, creation_response_acks_the_creation_rid_37)
{
    const auto r = establish(k_acking);
    EXPECT_EQ(r.attr("ack"), std::to_string(R)) << r.raw;
}

// §9.1 (checklist #37): the MUST names the creation rid even when the next
// request arrived before the features and answers the creation request.
TEST_F(AckTest, creation_response_acks_the_creation_rid_even_when_answered_by_the_next_request_37)
{
    open(new_body(R, k_acking), t0_);
    const RequestId next = new_id();
    const auto actions = send(next, poll(R + 1, "", ack_attr(R)), t0_ + 1s);
    const auto r = reply_to(actions, creation_id_);
    EXPECT_EQ(r.attr("sid"), k_sid) << r.raw;
    EXPECT_EQ(r.attr("ack"), std::to_string(R)) << r.raw;
    EXPECT_FALSE(answered(actions, next));
}

// §9.1 (checklist #51): a held request answered because a newer one came
// carries ack = the newest rid; the newer one, answered later, carries none.
TEST_F(AckTest, held_response_acks_the_highest_rid_received_and_own_rid_is_not_acked_51)
{
    establish(k_acking);
    const RequestId a = new_id();
    const RequestId b = new_id();
    send(a, poll(R + 1, "", ack_attr(R)), t0_ + 1s);
    const auto actions = send(b, poll(R + 2, message("m"), ack_attr(R)), t0_ + 2s);
    EXPECT_EQ(reply_to(actions, a).attr("ack"), std::to_string(R + 2));
    const auto later = reply_to(tick(t0_ + 62s), b);
    EXPECT_TRUE(later.is_empty()) << later.raw;
}

// §9.1 (checklist #51): 'ack' needs every lower rid: a buffered rid above a
// gap is not acknowledged.
TEST_F(AckTest, ack_does_not_cover_a_rid_above_a_gap_51)
{
    establish(k_acking);
    const RequestId a = new_id();
    send(a, poll(R + 1, "", ack_attr(R)), t0_ + 1s);
    send(new_id(), poll(R + 3, "", ack_attr(R)), t0_ + 2s);  // R+2 missing: buffered
    const auto r = reply_to(upstream({from_server("in")}, t0_ + 3s), a);
    EXPECT_FALSE(r.has("ack")) << r.raw;  // the highest contiguous rid is R+1 itself
    EXPECT_EQ(r.child_ids(), std::vector<std::string> {"in"});
}

// §9.1 (checklist #52): without the client's ack='1' no response carries ack.
TEST_F(AckTest, session_without_client_acks_never_sends_ack_52)
{
    EXPECT_FALSE(establish().has("ack"));
    const RequestId a = new_id();
    send(a, poll(R + 1), t0_ + 1s);
    EXPECT_FALSE(reply_to(send(new_id(), poll(R + 2), t0_ + 2s), a).has("ack"));
}

// §9.2 (checklist #53): the client's ack shows it lacks the response to
// R+2: the next response goes at once, with report=R+2 and time = ms since
// that response was sent.
TEST_F(AckTest, client_ack_below_the_last_answered_rid_gets_an_immediate_report_53)
{
    establish(k_acking);
    exchange(R + 1, R, "in1", t0_ + 1s);
    exchange(R + 2, R + 1, "in2", t0_ + 2s);
    const RequestId id = new_id();
    const auto actions = send(id, poll(R + 3, "", ack_attr(R + 1)), t0_ + 2s + 1500ms);
    const auto r = reply_to(actions, id);
    EXPECT_EQ(r.attr("report"), std::to_string(R + 2)) << r.raw;
    EXPECT_EQ(r.attr("time"), "1500") << r.raw;
    EXPECT_FALSE(r.has("ack")) << r.raw;  // answers the highest rid itself
    EXPECT_EQ(s().held_count(), 0u);
    // The lost response is still there for the client to re-send R+2.
    EXPECT_EQ(send_and_get(poll(R + 2, "", ack_attr(R + 1)), t0_ + 4s).child_ids(),
        std::vector<std::string> {"in2"});
}

// §9.2 (checklist #53): 'time' was typed unsignedShort: it saturates.
TEST_F(AckTest, report_time_saturates_at_65535_ms_53)
{
    establish(k_acking);
    exchange(R + 1, R, "in1", t0_ + 1s);
    exchange(R + 2, R + 1, "in2", t0_ + 2s);
    const auto r = send_and_get(poll(R + 3, "", ack_attr(R + 1)), t0_ + 2s + 100s);
    EXPECT_EQ(r.attr("report"), std::to_string(R + 2)) << r.raw;
    EXPECT_EQ(r.attr("time"), "65535") << r.raw;
}

// §9.2 (checklist #53): an ack that is up to date reports nothing, and the
// request is held as usual.
TEST_F(AckTest, current_client_ack_reports_nothing_53)
{
    establish(k_acking);
    exchange(R + 1, R, "in1", t0_ + 1s);
    const RequestId id = new_id();
    EXPECT_FALSE(answered(send(id, poll(R + 2, "", ack_attr(R + 1)), t0_ + 2s), id));
    const auto r = reply_to(tick(t0_ + 62s), id);
    EXPECT_FALSE(r.has("report")) << r.raw;
}

// §9.2, §14.3 (checklist #54, #79): with acks, an unacknowledged response
// stays replayable beyond `requests` responses.
TEST_F(AckTest, unacknowledged_responses_stay_in_the_replay_cache_54)
{
    establish(k_acking);
    const auto first = exchange(R + 1, R, "in1", t0_ + 1s);
    // The client keeps acking only R (it lacks R+1): each response is sent
    // at once with a report, and R+1 stays cached behind three others.
    for (std::uint64_t rid = R + 2; rid <= R + 4; ++rid)
        send_and_get(poll(rid, "", ack_attr(R)), t0_ + 2s);
    const auto replay = send_and_get(poll(R + 1, "", ack_attr(R)), t0_ + 3s);
    EXPECT_EQ(replay.raw, first.raw);
    EXPECT_FALSE(s().ended());
}

// §9.2, §14.3 (checklist #54, #81): an acknowledged response leaves the
// cache, so re-sending its rid is item-not-found.
TEST_F(AckTest, acknowledged_response_is_dropped_from_the_replay_cache_54_81)
{
    establish(k_acking);
    exchange(R + 1, R, "in1", t0_ + 1s);
    exchange(R + 2, R + 1, "in2", t0_ + 2s);
    const RequestId held = new_id();
    send(held, poll(R + 3, "", ack_attr(R + 2)), t0_ + 3s);
    const RequestId again = new_id();
    const auto actions = send(again, poll(R + 2, "", ack_attr(R + 2)), t0_ + 4s);
    EXPECT_TRUE(reply_to(actions, again).is_terminate(Condition::item_not_found));
    EXPECT_TRUE(reply_to(actions, held).is_terminate(Condition::other_request));
}

// §9.2 (checklist #55): after ack='1' at creation, a client that has every
// response leaves 'ack' out: no error, and acks continue on responses.
TEST_F(AckTest, client_omitting_ack_after_opting_in_is_not_an_error_55)
{
    establish(k_acking);
    for (std::uint64_t rid = R + 1; rid <= R + 4; ++rid) {
        const RequestId id = new_id();
        const auto actions = send(id, poll(rid, message("m" + std::to_string(rid))), t0_ + 1s);
        EXPECT_FALSE(ended_with(actions)) << rid;
        const auto r = reply_to(upstream({from_server("in")}, t0_ + 1s), id);
        EXPECT_FALSE(r.has("report")) << r.raw;
    }
    // No ack means "all received": the cache does not grow without bound.
    EXPECT_FALSE(s().ended());
}

// STYLE rule 8, Limits::max_unacked_responses: a client that never
// acknowledges cannot make the cache grow for ever: policy-violation.
TEST_F(AckTest, too_many_unacknowledged_responses_is_policy_violation_94)
{
    limits_.max_unacked_responses = 4;
    establish(k_acking);
    exchange(R + 1, R, "in1", t0_ + 1s);
    // Acking only R: R+1.. stay cached (one more each request).
    std::uint64_t rid = R + 2;
    for (; rid <= R + 4; ++rid) {
        const auto r = send_and_get(poll(rid, "", ack_attr(R)), t0_ + 2s);
        ASSERT_EQ(r.attr("report"), std::to_string(R + 1)) << r.raw;
    }
    // Four unacknowledged responses (R+1 … R+4) is the limit: the next is refused.
    const RequestId id = new_id();
    const auto actions = send(id, poll(rid, "", ack_attr(R)), t0_ + 3s);
    EXPECT_TRUE(reply_to(actions, id).is_terminate(Condition::policy_violation));
    EXPECT_TRUE(s().ended());
}

// The limit never punishes a client that acks as it should: with hold=1 it
// never has more than requests + 1 responses unacknowledged.
TEST_F(AckTest, unacked_limit_is_never_below_requests_plus_one_94)
{
    limits_.max_unacked_responses = 1;
    establish(k_acking);
    exchange(R + 1, R, "in1", t0_ + 1s);
    const RequestId a = new_id();
    send(a, poll(R + 2, "", ack_attr(R + 1)), t0_ + 2s);
    // R+2 held; R+3 sent before R+2's answer: R+2 unacknowledged.
    const auto actions = send(new_id(), poll(R + 3, "", ack_attr(R + 1)), t0_ + 3s);
    EXPECT_TRUE(answered(actions, a));
    EXPECT_FALSE(ended_with(actions));
    EXPECT_FALSE(ended_with(send(new_id(), poll(R + 4, "", ack_attr(R + 2)), t0_ + 4s)));
}

// §17.3 with §9.1: the type='error' for a repeated early rid acks the
// highest contiguous rid.
TEST_F(AckTest, recoverable_error_carries_the_ack_80)
{
    establish(k_acking);
    send(new_id(), poll(R + 1, "", ack_attr(R)), t0_ + 1s);  // held
    const RequestId older = new_id();
    send(older, poll(R + 3, "", ack_attr(R)), t0_ + 2s);     // early: buffered
    const auto actions = send(new_id(), poll(R + 3, "", ack_attr(R)), t0_ + 3s);
    const auto err = reply_to(actions, older);
    EXPECT_EQ(err.attr("type"), "error") << err.raw;
    EXPECT_EQ(err.attr("ack"), std::to_string(R + 1)) << err.raw;
}

}  // namespace
}  // namespace bosun::bosh
