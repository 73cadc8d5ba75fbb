// Sessions created by the prebind API (Session::create_prebound): the
// browser attaches to a session that is already logged in upstream.
// Checklist section 2, rules P1-P7.
#include "bosh/session.hpp"

#include "session_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bosun::bosh {
namespace {

using namespace test;

constexpr std::uint64_t k_next = (std::uint64_t {1} << 40) + 12345;  // first rid the browser sends
constexpr Seconds k_attach {45};

class PreboundTest : public SessionTest {
protected:
    void prebind(bool acks = false)
    {
        Negotiated n;
        n.wait = 60s;
        n.hold = 1;
        n.requests = 2;
        n.inactivity = 30s;
        n.polling = 5s;
        n.maxpause = 120s;
        n.acks = acks;
        n.ver = Version {1, 11};
        n.domain = k_domain;
        s_.emplace(Session::create_prebound(k_sid, n, limits_, k_next, k_attach, t0_));
    }
};

// P1: the first request of a new client, with the handed-over rid, is held
// like any poll: the session is not bound to whoever created it.
TEST_F(PreboundTest, first_request_with_the_handed_over_rid_is_held_P1)
{
    prebind();
    EXPECT_FALSE(s().attached());
    const RequestId id = new_id();
    const auto actions = send(id, poll(k_next), t0_ + 3s);
    EXPECT_FALSE(answered(actions, id));
    EXPECT_EQ(s().held_count(), 1u);
    EXPECT_TRUE(s().attached());
}

// P2: stanzas arriving before the browser attaches are kept and delivered
// on its first request.
TEST_F(PreboundTest, stanzas_before_attach_are_delivered_on_the_first_request_P2)
{
    prebind();
    EXPECT_TRUE(all<Respond>(upstream({from_server("early1"), from_server("early2")}, t0_ + 1s)).empty());
    const auto r = send_and_get(poll(k_next), t0_ + 5s);
    EXPECT_EQ(r.child_ids(), (std::vector<std::string> {"early1", "early2"}));
}

// P3: the rid before the handed-over one reads as answered (an empty body),
// and the sequence goes on after it.
TEST_F(PreboundTest, the_previous_rid_is_replayable_and_the_sequence_continues_P3)
{
    prebind();
    const auto replay = send_and_get(poll(k_next - 1), t0_ + 1s);
    EXPECT_TRUE(replay.is_empty()) << replay.raw;
    const RequestId id = new_id();
    send(id, poll(k_next), t0_ + 2s);
    EXPECT_EQ(s().held_count(), 1u);
    EXPECT_FALSE(s().ended());
}

// P4: a rid beyond the window is item-not-found, as for any session (#78).
TEST_F(PreboundTest, a_rid_beyond_the_window_is_item_not_found_P4)
{
    prebind();
    const auto r = send_and_get(poll(k_next + 2), t0_ + 1s);
    EXPECT_TRUE(r.is_terminate(Condition::item_not_found)) << r.raw;
}

// P5: until the browser attaches, the session lives for the attach window,
// not for `inactivity`; it then ends silently and bounces what waited.
TEST_F(PreboundTest, unattached_session_lives_for_the_attach_window_then_ends_P5)
{
    prebind();
    upstream({from_server("lost")}, t0_ + 1s);
    EXPECT_EQ(s().next_deadline(), t0_ + k_attach);
    EXPECT_FALSE(ended_with(tick(t0_ + 31s)));  // past inactivity (30 s)
    const auto actions = tick(t0_ + k_attach);
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_TRUE(end->silent);
    EXPECT_EQ(undelivered_ids(actions), std::vector<std::string> {"lost"});  // XEP-0206 §7
}

// P5: once attached, the usual inactivity applies again.
TEST_F(PreboundTest, after_attach_inactivity_applies_P5)
{
    prebind();
    const RequestId id = new_id();
    send(id, poll(k_next, message("m1")), t0_ + 10s);
    EXPECT_TRUE(answered(tick(t0_ + 10s + 60s), id));  // wait expires: answered empty
    EXPECT_EQ(s().next_deadline(), t0_ + 10s + 60s + 30s);
}

// The browser's first request carries no creation attributes; payloads go
// upstream in order and the response carries no sid/wait attributes.
TEST_F(PreboundTest, first_request_payload_goes_upstream_and_answers_without_creation_attributes)
{
    prebind();
    const RequestId id = new_id();
    const auto actions = send(id, poll(k_next, message("out1")), t0_ + 1s);
    EXPECT_EQ(sent_ids(actions), std::vector<std::string> {"out1"});
    const auto r = reply_to(tick(t0_ + 1s + 60s), id);
    EXPECT_FALSE(r.has("sid"));
    EXPECT_FALSE(r.has("wait"));
    EXPECT_TRUE(r.is_empty()) << r.raw;
}

// P6: a second request answers the held one; its stanzas go on the answer.
TEST_F(PreboundTest, a_newer_request_releases_the_held_one_P6)
{
    prebind();
    const RequestId first = new_id();
    send(first, poll(k_next), t0_ + 1s);
    upstream({}, t0_ + 1s);
    const RequestId second = new_id();
    const auto actions = send(second, poll(k_next + 1), t0_ + 2s);
    EXPECT_TRUE(answered(actions, first));
    EXPECT_FALSE(answered(actions, second));
}

// A terminate from the browser ends the prebound session like any other
// (§13), sending its payload and closing upstream.
TEST_F(PreboundTest, terminate_ends_the_prebound_session)
{
    prebind();
    const RequestId id = new_id();
    const auto actions = send(id, poll(k_next, "", "type='terminate'"), t0_ + 1s);
    EXPECT_TRUE(answered(actions, id));
    EXPECT_TRUE(ended_with(actions));
    EXPECT_EQ(count<CloseUpstream>(actions), 1u);
}

}  // namespace
}  // namespace bosun::bosh
