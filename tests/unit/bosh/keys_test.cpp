// XEP-0124 §15 key sequencing: KeyChain alone, and the session refusing a
// broken sequence with item-not-found. Checklist section K (#82, #83).
#include "bosh/key_chain.hpp"
#include "bosh/session.hpp"
#include "bosh/sha1.hpp"

#include "session_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace bosun::bosh {
namespace {

using namespace test;

// K(1) = hex(SHA-1(seed)), K(i) = hex(SHA-1(K(i-1))) (§15.2); the client
// uses them from K(n) down to K(1). `upper`: a client writing upper-case
// hex, which then also hashes the upper-case text.
std::vector<std::string> chain(const std::string& seed, int n, bool upper = false)
{
    std::vector<std::string> k;
    std::string prev = seed;
    for (int i = 0; i < n; ++i) {
        const auto h = sha1_hex(prev, upper);
        prev.assign(h.begin(), h.end());
        k.push_back(prev);
    }
    return k;  // k[i] is K(i+1)
}

std::string upper(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    return s;
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

BodyRequest body_with(const std::string& attrs)
{
    return parse("<body rid='1' " + attrs + " " + k_ns + "/>");
}

// ---- KeyChain -----------------------------------------------------------------

// §15.3 example: creation newkey='ca39…', then key='bfb0…', then
// key='6f82…' (each hashes to the one before).
TEST(KeyChain, xep_0124_example_sequence_is_accepted_82)
{
    KeyChain k;
    k.start(1, body_with("newkey='ca393b51b682f61f98e7877d61146407f3d0a770'"));
    ASSERT_TRUE(k.active());
    EXPECT_TRUE(k.advance(2, body_with("key='bfb06a6f113cd6fd3838ab9d300fdb4fe3da2f7d'")));
    EXPECT_TRUE(k.advance(3, body_with("key='6f825e81f4532b2c5fa2d12457d8a1f22e8f838e'")));
}

TEST(KeyChain, key_that_does_not_hash_to_the_previous_is_refused_82)
{
    KeyChain k;
    k.start(1, body_with("newkey='ca393b51b682f61f98e7877d61146407f3d0a770'"));
    // K(1) of the example skips K(2): it does not hash to K(3).
    EXPECT_FALSE(k.advance(2, body_with("key='6f825e81f4532b2c5fa2d12457d8a1f22e8f838e'")));
    EXPECT_FALSE(k.advance(2, body_with("key='not-a-key'")));
    EXPECT_FALSE(k.advance(2, body_with("")));  // missing once a chain runs
    // The refused requests did not move the chain.
    EXPECT_TRUE(k.advance(2, body_with("key='bfb06a6f113cd6fd3838ab9d300fdb4fe3da2f7d'")));
}

TEST(KeyChain, without_newkey_nothing_is_checked_82)
{
    KeyChain k;
    k.start(1, body_with(""));
    EXPECT_FALSE(k.active());
    EXPECT_TRUE(k.advance(2, body_with("")));
    EXPECT_TRUE(k.advance(3, body_with("key='anything'")));
}

// §15.3 (checklist #83): the hash of a key is compared with the previous
// key case-insensitively; the key itself is hashed as written.
TEST(KeyChain, keys_compare_case_insensitively_83)
{
    KeyChain k;
    k.start(1, body_with("newkey='CA393B51B682F61F98E7877D61146407F3D0A770'"));
    EXPECT_TRUE(k.advance(2, body_with("key='bfb06a6f113cd6fd3838ab9d300fdb4fe3da2f7d'")));
    const auto up = chain("upper-seed", 3, true);
    KeyChain u;
    u.start(1, body_with("newkey='" + lower(up[2]) + "'"));
    EXPECT_TRUE(u.advance(2, body_with("key='" + up[1] + "'")));
    EXPECT_TRUE(u.advance(3, body_with("key='" + up[0] + "'")));
    // The lower-case text of an upper-case key is another text, another hash.
    KeyChain v;
    v.start(1, body_with("newkey='" + up[2] + "'"));
    EXPECT_FALSE(v.advance(2, body_with("key='" + lower(up[1]) + "'")));
}

// §15.5 (checklist #83): the last key of a chain comes with a newkey that
// starts the next chain.
TEST(KeyChain, newkey_next_to_a_valid_key_switches_chains_83)
{
    const auto a = chain("seed-a", 3);
    const auto b = chain("seed-b", 4, true);
    KeyChain k;
    k.start(1, body_with("newkey='" + a[2] + "'"));
    EXPECT_TRUE(k.advance(2, body_with("key='" + a[1] + "'")));
    EXPECT_TRUE(k.advance(3, body_with("key='" + a[0] + "' newkey='" + b[3] + "'")));
    EXPECT_FALSE(k.advance(4, body_with("key='" + a[0] + "'")));  // the old chain is over
    EXPECT_TRUE(k.advance(4, body_with("key='" + b[2] + "'")));
    EXPECT_TRUE(k.advance(5, body_with("key='" + b[1] + "'")));
}

// §15.5: a newkey with a wrong key does not switch.
TEST(KeyChain, newkey_with_a_wrong_key_is_refused_83)
{
    const auto a = chain("seed-a", 3);
    const auto b = chain("seed-b", 3);
    KeyChain k;
    k.start(1, body_with("newkey='" + a[2] + "'"));
    EXPECT_FALSE(k.advance(2, body_with("key='" + b[1] + "' newkey='" + b[2] + "'")));
    EXPECT_TRUE(k.advance(2, body_with("key='" + a[1] + "'")));
}

// §14.3 with §15: a re-sent request must carry its original's key.
TEST(KeyChain, copy_of_a_processed_request_must_carry_its_key_82)
{
    const auto a = chain("seed", 5);
    KeyChain k;
    k.start(10, body_with("newkey='" + a[4] + "'"));
    ASSERT_TRUE(k.advance(11, body_with("key='" + a[3] + "'")));
    ASSERT_TRUE(k.advance(12, body_with("key='" + a[2] + "'")));
    EXPECT_TRUE(k.matches_copy(12, 12, body_with("key='" + a[2] + "'")));
    EXPECT_TRUE(k.matches_copy(11, 12, body_with("key='" + upper(a[3]) + "'")));
    EXPECT_TRUE(k.matches_copy(10, 12, body_with("newkey='" + a[4] + "'")));
    EXPECT_FALSE(k.matches_copy(11, 12, body_with("key='" + a[2] + "'")));
    EXPECT_FALSE(k.matches_copy(11, 12, body_with("")));
    EXPECT_FALSE(k.matches_copy(10, 12, body_with("")));
}

// ---- the session (§15.4) ------------------------------------------------------------

class KeysTest : public SessionTest {
protected:
    std::vector<std::string> k_ = chain("session-seed", 10);  // k_[i] = K(i+1)

    // The key of the request `steps` after the creation request: K(10 - steps).
    std::string key(int steps) const { return k_[static_cast<std::size_t>(9 - steps)]; }
    std::string key_attr(int steps) const { return "key='" + key(steps) + "'"; }

    void SetUp() override { establish(k_modern + " newkey='" + key(0) + "'"); }
};

// §15.4 (checklist #82): the right keys are accepted; a wrong key carrying
// a stanza is not processed: item-not-found, nothing forwarded.
TEST_F(KeysTest, right_keys_pass_and_a_wrong_key_is_item_not_found_82)
{
    const RequestId a = new_id();
    const auto ok = send(a, poll(R + 1, message("one"), key_attr(1)), t0_ + 1s);
    EXPECT_EQ(sent_ids(ok), std::vector<std::string> {"one"});
    const RequestId bad = new_id();
    const auto actions = send(bad, poll(R + 2, message("two"), key_attr(3)), t0_ + 2s);
    EXPECT_TRUE(reply_to(actions, bad).is_terminate(Condition::item_not_found));
    EXPECT_TRUE(reply_to(actions, a).is_terminate(Condition::other_request));
    EXPECT_EQ(count<SendUpstream>(actions), 0u);
    const auto end = ended_with(actions);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->why, Condition::item_not_found);
}

// §15.4 (checklist #82): once a chain runs, a request without key is refused.
TEST_F(KeysTest, missing_key_is_item_not_found_82)
{
    EXPECT_TRUE(send_and_get(poll(R + 1, message("x")), t0_ + 1s).is_terminate(Condition::item_not_found));
}

// §15.4 with §14.2: keys are checked in rid order, so an early request with
// the right key waits for the gap and then passes.
TEST_F(KeysTest, out_of_order_requests_are_checked_in_rid_order_82_77)
{
    send(new_id(), poll(R + 2, message("two"), key_attr(2)), t0_ + 1s);
    const auto actions = send(new_id(), poll(R + 1, message("one"), key_attr(1)), t0_ + 2s);
    EXPECT_EQ(sent_ids(actions), (std::vector<std::string> {"one", "two"}));
    EXPECT_FALSE(ended_with(actions));
}

// §14.3 with §15 (checklist #79, #82): a re-sent rid with its own key is
// replayed; with another key it is item-not-found, or anyone who saw the
// sid and a rid could collect responses.
TEST_F(KeysTest, resend_needs_the_original_key_79_82)
{
    const RequestId a = new_id();
    send(a, poll(R + 1, "", key_attr(1)), t0_ + 1s);
    const auto original = reply_to(upstream({from_server("in")}, t0_ + 2s), a);
    EXPECT_EQ(send_and_get(poll(R + 1, "", key_attr(1)), t0_ + 3s).raw, original.raw);
    EXPECT_TRUE(send_and_get(poll(R + 1, "", key_attr(2)), t0_ + 4s).is_terminate(Condition::item_not_found));
}

// §14.3 with §15 (checklist #80, #82): the same for a copy of a held request.
TEST_F(KeysTest, copy_of_a_held_request_with_a_wrong_key_is_item_not_found_80_82)
{
    const RequestId a = new_id();
    send(a, poll(R + 1, "", key_attr(1)), t0_ + 1s);
    const RequestId copy = new_id();
    const auto actions = send(copy, poll(R + 1), t0_ + 2s);
    EXPECT_TRUE(reply_to(actions, copy).is_terminate(Condition::item_not_found));
    EXPECT_TRUE(reply_to(actions, a).is_terminate(Condition::other_request));
}

TEST_F(KeysTest, copy_of_a_held_request_with_its_key_takes_its_place_80_82)
{
    const RequestId a = new_id();
    send(a, poll(R + 1, "", key_attr(1)), t0_ + 1s);
    const RequestId copy = new_id();
    const auto actions = send(copy, poll(R + 1, "", key_attr(1)), t0_ + 2s);
    EXPECT_EQ(reply_to(actions, a).attr("type"), "error");
    EXPECT_TRUE(answered(upstream({from_server("in")}, t0_ + 3s), copy));
}

// §15.5 (checklist #83): switching chains mid-session, upper-case hex after.
TEST_F(KeysTest, switching_chains_then_upper_case_keys_83)
{
    const auto next = chain("second-seed", 5, true);  // upper-case hex
    EXPECT_FALSE(ended_with(send(new_id(), poll(R + 1, "", key_attr(1)), t0_ + 1s)));
    EXPECT_FALSE(ended_with(send(new_id(), poll(R + 2, "", key_attr(2) + " newkey='" + next[4] + "'"), t0_ + 2s)));
    EXPECT_FALSE(ended_with(send(new_id(), poll(R + 3, "", "key='" + next[3] + "'"), t0_ + 3s)));
    EXPECT_TRUE(send_and_get(poll(R + 4, "", key_attr(3)), t0_ + 4s).is_terminate(Condition::item_not_found));
}

// §15: a session created without newkey ignores 'key' altogether.
TEST_F(SessionTest, session_without_newkey_ignores_keys_82)
{
    establish();
    EXPECT_FALSE(ended_with(send(new_id(), poll(R + 1, message("a"), "key='whatever'"), t0_ + 1s)));
    EXPECT_FALSE(ended_with(send(new_id(), poll(R + 2, message("b")), t0_ + 2s)));
}

}  // namespace
}  // namespace bosun::bosh
