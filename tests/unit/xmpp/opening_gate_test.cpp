#include "xmpp/opening_gate.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// The bound on upstream connections being opened at once
// (bosh.max_connecting / bosh.max_connect_queue; W4 in docs/benchmarks.md).

namespace bosun::xmpp {
namespace {

using Admission = OpeningGate::Admission;

struct Waiters {
    std::vector<std::string> resumed;
    OpeningGate::Resume named(std::string who)
    {
        return [this, who] { resumed.push_back(who); };
    }
};

TEST(OpeningGate, enters_up_to_the_bound_then_queues_then_refuses)
{
    OpeningGate gate(2, 1);
    Waiters w;
    OpeningGate::Ticket t;
    EXPECT_EQ(gate.arrive(w.named("a"), t), Admission::enter);
    EXPECT_EQ(gate.arrive(w.named("b"), t), Admission::enter);
    EXPECT_EQ(gate.arrive(w.named("c"), t), Admission::queued);
    EXPECT_EQ(gate.arrive(w.named("d"), t), Admission::refused);
    EXPECT_EQ(gate.opening(), 2u);
    EXPECT_EQ(gate.queued(), 1u);
    EXPECT_EQ(gate.refused_total(), 1u);
    EXPECT_TRUE(w.resumed.empty());
}

TEST(OpeningGate, a_slot_given_back_passes_to_the_first_waiter_in_order)
{
    OpeningGate gate(1, 5);
    Waiters w;
    OpeningGate::Ticket t;
    ASSERT_EQ(gate.arrive(w.named("a"), t), Admission::enter);
    ASSERT_EQ(gate.arrive(w.named("b"), t), Admission::queued);
    ASSERT_EQ(gate.arrive(w.named("c"), t), Admission::queued);
    gate.leave();
    EXPECT_EQ(w.resumed, (std::vector<std::string> {"b"}));
    EXPECT_EQ(gate.opening(), 1u);  // the slot moved, it was not freed
    gate.leave();
    gate.leave();
    EXPECT_EQ(w.resumed, (std::vector<std::string> {"b", "c"}));
    EXPECT_EQ(gate.opening(), 0u);
    EXPECT_EQ(gate.arrive(w.named("d"), t), Admission::enter);
}

TEST(OpeningGate, a_withdrawn_waiter_is_never_resumed)
{
    OpeningGate gate(1, 5);
    Waiters w;
    OpeningGate::Ticket a, b, c;
    ASSERT_EQ(gate.arrive(w.named("a"), a), Admission::enter);
    ASSERT_EQ(gate.arrive(w.named("b"), b), Admission::queued);
    ASSERT_EQ(gate.arrive(w.named("c"), c), Admission::queued);
    gate.withdraw(b);
    EXPECT_EQ(gate.queued(), 1u);
    gate.leave();
    EXPECT_EQ(w.resumed, (std::vector<std::string> {"c"}));
}

TEST(OpeningGate, no_queue_refuses_at_once)
{
    OpeningGate gate(1, 0);
    Waiters w;
    OpeningGate::Ticket t;
    ASSERT_EQ(gate.arrive(w.named("a"), t), Admission::enter);
    EXPECT_EQ(gate.arrive(w.named("b"), t), Admission::refused);
    EXPECT_EQ(gate.queued(), 0u);
}

TEST(OpeningGate, a_bound_of_zero_still_lets_one_through)
{
    OpeningGate gate(0, 0);
    Waiters w;
    OpeningGate::Ticket t;
    EXPECT_EQ(gate.arrive(w.named("a"), t), Admission::enter);
    EXPECT_EQ(gate.arrive(w.named("b"), t), Admission::refused);
}

TEST(OpeningGate, a_waiter_may_give_its_slot_back_while_being_resumed)
{
    // A queued connection that fails at once hands the slot on from inside
    // its own resume.
    OpeningGate gate(1, 5);
    std::vector<std::string> resumed;
    OpeningGate::Ticket t;
    ASSERT_EQ(gate.arrive([] {}, t), Admission::enter);
    ASSERT_EQ(gate.arrive([&] { resumed.push_back("b"); gate.leave(); }, t), Admission::queued);
    ASSERT_EQ(gate.arrive([&] { resumed.push_back("c"); }, t), Admission::queued);
    gate.leave();
    EXPECT_EQ(resumed, (std::vector<std::string> {"b", "c"}));
    EXPECT_EQ(gate.opening(), 1u);
    EXPECT_EQ(gate.queued(), 0u);
}

TEST(OpeningGate, release_frees_a_slot_without_resuming_anyone)
{
    OpeningGate gate(1, 5);
    Waiters w;
    OpeningGate::Ticket t;
    ASSERT_EQ(gate.arrive(w.named("a"), t), Admission::enter);
    ASSERT_EQ(gate.arrive(w.named("b"), t), Admission::queued);
    gate.release();
    EXPECT_TRUE(w.resumed.empty());
    EXPECT_EQ(gate.opening(), 0u);
    gate.release();  // never below zero
    EXPECT_EQ(gate.opening(), 0u);
}

}  // namespace
}  // namespace bosun::xmpp
