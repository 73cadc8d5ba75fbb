// prebind::ResumeStore, the resume-token store (docs/prebind.md "resume",
// reference/prebind-and-auth.md §6.7), driven with a fake clock; and the
// [prebind] resume_* configuration keys.
#include "prebind/resume.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "auth/base64url.hpp"
#include "config/config.hpp"

namespace bosun::prebind {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view alice = "alice@example.org";
constexpr std::string_view bob = "bob@example.org";

class ResumeStoreTest : public ::testing::Test {
protected:
    ResumeStoreTest()
        : store(limits())
    {
    }

    static ResumeLimits limits()
    {
        ResumeLimits l;
        l.idle_lifetime = 24h;
        l.max_lifetime = 7 * 24h;
        l.grace = 60s;
        l.max_tokens = 100;
        return l;
    }
    bool usable(const std::string& token, std::string_view client = "app")
    {
        return store.check(token, client, now).has_value();
    }
    // One resume: check, then rotate; the new token.
    std::string use(const std::string& token, std::string_view client = "app")
    {
        auto holder = store.check(token, client, now);
        EXPECT_TRUE(holder) << "token refused before rotation";
        if (!holder)
            return {};
        auto next = store.rotate(holder->hash, client, now);
        EXPECT_TRUE(next);
        return next ? next->token : std::string();
    }

    TimePoint now {};
    ResumeStore store;
};

TEST_F(ResumeStoreTest, issued_token_is_bsr1_and_256_random_bits_and_unique)
{
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        const auto t = store.issue("app", alice, now).token;
        ASSERT_TRUE(t.starts_with("bsr1_")) << t;
        const auto raw = auth::base64url_decode(t.substr(5));
        ASSERT_TRUE(raw);
        EXPECT_EQ(raw->size(), 32u);
        EXPECT_TRUE(seen.insert(t).second);
    }
}

TEST_F(ResumeStoreTest, check_names_the_jid_and_changes_nothing)
{
    const auto t = store.issue("app", alice, now).token;
    const auto a = store.check(t, "app", now);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->jid, alice);
    EXPECT_EQ(a->hash, ResumeStore::hash_of(t));
    EXPECT_TRUE(store.check(t, "app", now + 1h));  // checking is not using
    EXPECT_EQ(store.size(), 1u);
}

TEST_F(ResumeStoreTest, only_hashes_are_kept)
{
    // The store holds no token bytes: an unknown token that hashes to
    // nothing stored is refused, and the hash is SHA-256 of the text.
    const auto t = store.issue("app", alice, now).token;
    auto forged = t;
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(store.check(forged, "app", now).error(), ResumeRefusal::unknown);
    EXPECT_EQ(store.check("", "app", now).error(), ResumeRefusal::unknown);
    EXPECT_EQ(store.check("garbage", "app", now).error(), ResumeRefusal::unknown);
}

TEST_F(ResumeStoreTest, token_expires_idle_lifetime_after_issue)
{
    const auto issued = store.issue("app", alice, now);
    EXPECT_EQ(issued.expires_at, now + 24h);
    now += 24h - 1s;
    EXPECT_TRUE(usable(issued.token));
    now += 1s;
    EXPECT_EQ(store.check(issued.token, "app", now).error(), ResumeRefusal::unknown);
    EXPECT_EQ(store.families(), 0u);  // dropped, not kept
}

TEST_F(ResumeStoreTest, each_use_slides_the_expiry)
{
    auto t = store.issue("app", alice, now).token;
    for (int day = 0; day < 3; ++day) {
        now += 23h;
        t = use(t);
    }
    now += 23h;
    EXPECT_TRUE(usable(t));  // 92 h after the first issue, 23 h after the last use
}

TEST_F(ResumeStoreTest, absolute_cap_from_the_first_issue)
{
    auto t = store.issue("app", alice, now).token;
    for (int i = 0; i < 6; ++i) {
        now += 23h;
        t = use(t);
    }
    // 138 h in: the new token's expiry is capped at 168 h, not 138 + 24.
    now += 23h;
    const auto h = store.check(t, "app", now);
    ASSERT_TRUE(h);
    const auto last = store.rotate(h->hash, "app", now);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->expires_at, TimePoint {} + 7 * 24h);
    now = TimePoint {} + 7 * 24h - 1s;
    EXPECT_TRUE(usable(last->token));
    now += 1s;
    EXPECT_FALSE(usable(last->token));
}

TEST_F(ResumeStoreTest, rotation_issues_a_new_token_of_the_same_family)
{
    const auto first = store.issue("app", alice, now);
    const auto h = store.check(first.token, "app", now);
    ASSERT_TRUE(h);
    const auto next = store.rotate(h->hash, "app", now);
    ASSERT_TRUE(next);
    EXPECT_NE(next->token, first.token);
    EXPECT_EQ(next->family, first.family);
    EXPECT_EQ(store.check(next->token, "app", now)->jid, alice);
}

TEST_F(ResumeStoreTest, old_token_stays_valid_during_the_grace_period)
{
    const auto first = store.issue("app", alice, now).token;
    const auto second = use(first);
    now += 59s;
    EXPECT_TRUE(usable(first));
    EXPECT_TRUE(usable(second));
}

TEST_F(ResumeStoreTest, retry_within_grace_replaces_the_unused_successor)
{
    const auto first = store.issue("app", alice, now).token;
    const auto lost = use(first);  // the response carrying it never arrived
    now += 10s;
    const auto retried = use(first);
    EXPECT_NE(retried, lost);
    EXPECT_EQ(store.check(lost, "app", now).error(), ResumeRefusal::unknown);
    EXPECT_TRUE(usable(retried));
    // The retry did not extend the grace: 60 s after the first use it ends.
    now += 50s;
    EXPECT_EQ(store.check(first, "app", now).error(), ResumeRefusal::reused);
}

TEST_F(ResumeStoreTest, retry_within_grace_works_past_the_old_tokens_own_expiry)
{
    const auto first = store.issue("app", alice, now).token;
    now += 24h - 10s;
    (void)use(first);
    now += 20s;  // first's own 24 h are over, its grace is not
    const auto retried = use(first);
    EXPECT_TRUE(usable(retried));
    EXPECT_EQ(store.families(), 1u);
}

TEST_F(ResumeStoreTest, reuse_after_grace_revokes_the_whole_family)
{
    const auto first = store.issue("app", alice, now).token;
    const auto second = use(first);
    const auto third = use(second);
    const auto other = store.issue("app", bob, now).token;
    now += 61s;
    EXPECT_EQ(store.check(first, "app", now).error(), ResumeRefusal::reused);
    EXPECT_FALSE(usable(third));  // the legitimate holder loses it too
    EXPECT_FALSE(usable(second));
    EXPECT_TRUE(usable(other));  // another family is untouched
    EXPECT_EQ(store.families(), 1u);
}

TEST_F(ResumeStoreTest, using_the_successor_ends_the_predecessors_grace)
{
    const auto first = store.issue("app", alice, now).token;
    const auto second = use(first);
    now += 5s;
    const auto third = use(second);  // the successor is used: first is done
    EXPECT_EQ(store.check(first, "app", now).error(), ResumeRefusal::reused);
    EXPECT_FALSE(usable(third));
}

TEST_F(ResumeStoreTest, zero_grace_makes_any_second_use_a_reuse)
{
    auto l = limits();
    l.grace = 0s;
    ResumeStore strict(l);
    const auto first = strict.issue("app", alice, now).token;
    const auto h = strict.check(first, "app", now);
    ASSERT_TRUE(h);
    ASSERT_TRUE(strict.rotate(h->hash, "app", now));
    EXPECT_EQ(strict.check(first, "app", now).error(), ResumeRefusal::reused);
}

TEST_F(ResumeStoreTest, token_is_bound_to_the_client_that_got_it)
{
    const auto first = store.issue("app", alice, now).token;
    const auto second = use(first);
    now += 61s;
    // Another client: unknown, and it cannot trigger the reuse revocation.
    EXPECT_EQ(store.check(second, "other", now).error(), ResumeRefusal::unknown);
    EXPECT_EQ(store.check(first, "other", now).error(), ResumeRefusal::unknown);
    EXPECT_FALSE(store.revoke(second, "other"));
    EXPECT_TRUE(usable(second));
    const auto h = store.check(second, "app", now);
    ASSERT_TRUE(h);
    EXPECT_FALSE(store.rotate(h->hash, "other", now));
}

TEST_F(ResumeStoreTest, rotate_fails_when_the_family_went_meanwhile)
{
    const auto t = store.issue("app", alice, now).token;
    const auto h = store.check(t, "app", now);
    ASSERT_TRUE(h);
    EXPECT_EQ(store.revoke_jid("app", alice), 1u);  // e.g. a logout during the login
    EXPECT_EQ(store.rotate(h->hash, "app", now).error(), ResumeRefusal::unknown);
}

TEST_F(ResumeStoreTest, capacity_is_bounded_and_drops_the_soonest_to_expire)
{
    const auto oldest = store.issue("app", alice, now).token;
    now += 1h;
    const auto kept = store.issue("app", alice, now).token;
    for (int i = 0; i < 98; ++i)
        (void)store.issue("app", bob, now);
    EXPECT_EQ(store.size(), 100u);
    (void)store.issue("app", bob, now);
    EXPECT_EQ(store.size(), 100u);
    EXPECT_FALSE(usable(oldest));
    EXPECT_TRUE(usable(kept));
}

TEST_F(ResumeStoreTest, expired_families_go_before_live_ones)
{
    const auto early = store.issue("app", alice, now).token;
    now += 25h;  // early expired
    for (int i = 0; i < 99; ++i)
        (void)store.issue("app", bob, now);
    EXPECT_EQ(store.size(), 99u);  // the expired one was purged, not counted
    const auto h = store.issue("app", bob, now).token;
    EXPECT_TRUE(usable(h));
}

TEST_F(ResumeStoreTest, rotated_hashes_per_family_are_bounded)
{
    auto t = store.issue("app", alice, now).token;
    for (int i = 0; i < 40; ++i) {
        t = use(t);
        now += 2min;  // each predecessor's grace ends
    }
    EXPECT_LE(store.size(), resume_rotated_per_family + 2);
    EXPECT_TRUE(usable(t));
}

TEST_F(ResumeStoreTest, revoke_by_token_kills_the_family)
{
    const auto first = store.issue("app", alice, now).token;
    const auto second = use(first);
    EXPECT_TRUE(store.revoke(first, "app"));  // a rotated member names the family too
    EXPECT_FALSE(usable(second));
    EXPECT_FALSE(store.revoke(second, "app"));
    EXPECT_EQ(store.size(), 0u);
}

TEST_F(ResumeStoreTest, revoke_by_jid_is_per_client_and_revoke_user_is_for_all)
{
    const auto a1 = store.issue("app", alice, now).token;
    const auto a2 = store.issue("app", alice, now).token;
    const auto b = store.issue("app", bob, now).token;
    const auto other = store.issue("other", alice, now).token;
    EXPECT_EQ(store.revoke_jid("app", alice), 2u);
    EXPECT_FALSE(usable(a1));
    EXPECT_FALSE(usable(a2));
    EXPECT_TRUE(usable(b));
    EXPECT_TRUE(usable(other, "other"));
    EXPECT_EQ(store.revoke_user(alice), 1u);
    EXPECT_FALSE(usable(other, "other"));
    EXPECT_TRUE(usable(b));
}

// ---- configuration ----------------------------------------------------------

TEST(ResumeConfig, defaults_and_keys)
{
    const auto d = config::parse("[upstream.\"example.org\"]\n", "t.toml");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.config.prebind.resume_idle_lifetime, Seconds(86400));
    EXPECT_EQ(d.config.prebind.resume_max_lifetime, Seconds(604800));
    EXPECT_EQ(d.config.prebind.resume_grace, Seconds(60));
    EXPECT_EQ(d.config.prebind.max_resume_tokens, 100'000u);
    const auto r = config::parse(R"([upstream."example.org"]
[prebind]
resume_idle_lifetime = 3600
resume_max_lifetime = 86400
resume_grace = 2
max_resume_tokens = 500
)",
        "t.toml");
    ASSERT_TRUE(r.ok()) << r.errors.at(0);
    EXPECT_EQ(r.config.prebind.resume_idle_lifetime, Seconds(3600));
    EXPECT_EQ(r.config.prebind.resume_max_lifetime, Seconds(86400));
    EXPECT_EQ(r.config.prebind.resume_grace, Seconds(2));
    EXPECT_EQ(r.config.prebind.max_resume_tokens, 500u);
    const auto bad = config::parse(
        "[upstream.\"example.org\"]\n[prebind]\nresume_grace = 601\nmax_resume_tokens = 5\n",
        "t.toml");
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.errors.size(), 2u);
}

}  // namespace
}  // namespace bosun::prebind
