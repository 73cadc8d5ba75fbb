#include "xmpp/sasl.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base64.hpp"

namespace bosun::xmpp::sasl {
namespace {

Selection plain_selection(Mechanism m)
{
    return Selection {m, std::nullopt, false};
}

std::string must_respond(Client& client, std::string_view challenge)
{
    auto reply = client.respond(challenge);
    EXPECT_TRUE(reply) << (reply ? "" : describe(reply.error()));
    return reply ? *reply : std::string();
}

// The value of attribute `name` in a SCRAM message ("c", "r", "p").
std::string attribute(std::string_view message, char name)
{
    std::string needle = std::string(1, name) + "=";
    std::size_t at = message.starts_with(needle) ? 0 : message.find("," + needle);
    if (at == std::string_view::npos)
        return {};
    if (at != 0)
        ++at;
    auto end = message.find(',', at);
    return std::string(message.substr(at + 2, end == std::string_view::npos ? end : end - at - 2));
}

// ---- Test vectors ----

TEST(Scram, rfc5802_section5_scram_sha1_example)
{
    Client client(
        plain_selection(Mechanism::scram_sha_1), "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
    EXPECT_EQ(client.initial_response(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    EXPECT_EQ(must_respond(
                  client, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"),
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    EXPECT_TRUE(client.verify_success("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="));
}

TEST(Scram, rfc7677_section3_scram_sha256_example)
{
    Client client(
        plain_selection(Mechanism::scram_sha_256), "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(client.initial_response(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(must_respond(client,
                  "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                  "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    EXPECT_TRUE(client.verify_success("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
}

// Some servers send server-final in a <challenge/> and <success/> empty.
TEST(Scram, rfc6120_section6_4_server_final_in_challenge_then_empty_success)
{
    Client client(
        plain_selection(Mechanism::scram_sha_1), "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
    (void)client.initial_response();
    must_respond(client, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    EXPECT_EQ(must_respond(client, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="), "");
    EXPECT_TRUE(client.verify_success(""));
}

// ---- Server authentication (RFC 5802 §3: mutual) ----

class ScramSha1 : public ::testing::Test {
protected:
    void SetUp() override
    {
        (void)client.initial_response();
        must_respond(
            client, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    }
    Client client {
        plain_selection(Mechanism::scram_sha_1), "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL"};
};

TEST_F(ScramSha1, rfc5802_section3_wrong_server_signature_is_refused)
{
    auto result = client.verify_success("v=" + base64_encode(std::string(20, 'x')));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error(), Error::server_signature_mismatch);
}

TEST_F(ScramSha1, rfc5802_section3_truncated_server_signature_is_refused)
{
    auto result = client.verify_success("v=rmF9pqV8S7suAoZWja4dJRkF");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error(), Error::server_signature_mismatch);
}

TEST_F(ScramSha1, rfc5802_section3_success_without_server_signature_is_refused)
{
    auto result = client.verify_success("");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error(), Error::server_signature_mismatch);
}

TEST_F(ScramSha1, rfc5802_section7_server_error_attribute)
{
    auto result = client.verify_success("e=invalid-proof");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error(), Error::server_error);
}

TEST(Scram, rfc5802_section3_success_before_client_proof_is_refused)
{
    Client client(plain_selection(Mechanism::scram_sha_256), "user", "pencil", "abc");
    (void)client.initial_response();
    auto result = client.verify_success("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error(), Error::unexpected_message);
}

// ---- server-first checks (RFC 5802 §5.1, §7) ----

struct BadServerFirst {
    const char* message;
    Error error;
};

class ScramServerFirst : public ::testing::TestWithParam<BadServerFirst> { };

TEST_P(ScramServerFirst, rfc5802_section5_1_bad_server_first_is_refused)
{
    Client client(plain_selection(Mechanism::scram_sha_1), "user", "pencil", "clientnonce");
    (void)client.initial_response();
    auto reply = client.respond(GetParam().message);
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error(), GetParam().error) << GetParam().message;
}

INSTANTIATE_TEST_SUITE_P(Rfc5802, ScramServerFirst,
    ::testing::Values(
        // The server nonce must extend ours.
        BadServerFirst {"r=othernonce123,s=QSXCR+Q6sek8bf92,i=4096", Error::nonce_mismatch},
        BadServerFirst {"r=clientnonce,s=QSXCR+Q6sek8bf92,i=4096", Error::nonce_mismatch},
        // RFC 7677 §4: at least 4096 iterations.
        BadServerFirst {"r=clientnonceXYZ,s=QSXCR+Q6sek8bf92,i=1000", Error::weak_iteration_count},
        BadServerFirst {
            "r=clientnonceXYZ,s=QSXCR+Q6sek8bf92,i=100000000", Error::weak_iteration_count},
        BadServerFirst {"r=clientnonceXYZ,s=QSXCR+Q6sek8bf92,i=04096", Error::malformed_message},
        BadServerFirst {"r=clientnonceXYZ,s=QSXCR+Q6sek8bf92,i=", Error::malformed_message},
        BadServerFirst {"r=clientnonceXYZ,s=not base64,i=4096", Error::malformed_message},
        BadServerFirst {"r=clientnonceXYZ,s=,i=4096", Error::malformed_message},
        BadServerFirst {"s=QSXCR+Q6sek8bf92,r=clientnonceXYZ,i=4096", Error::malformed_message},
        // A mandatory extension we do not know fails the exchange.
        BadServerFirst {
            "m=ext,r=clientnonceXYZ,s=QSXCR+Q6sek8bf92,i=4096", Error::malformed_message},
        BadServerFirst {"", Error::malformed_message},
        BadServerFirst {"garbage", Error::malformed_message}));

TEST(Scram, server_first_extensions_after_iterations_are_ignored)
{
    Client client(plain_selection(Mechanism::scram_sha_1), "user", "pencil", "clientnonce");
    (void)client.initial_response();
    EXPECT_TRUE(client.respond("r=clientnonceXYZ,s=QSXCR+Q6sek8bf92,i=4096,x=future"));
}

TEST(Plain, rfc6120_section6_4_3_challenge_to_plain_is_unexpected)
{
    Client client(plain_selection(Mechanism::plain), "user", "pencil");
    (void)client.initial_response();
    auto reply = client.respond("anything");
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error(), Error::unexpected_message);
}

// ---- GS2 header and escaping ----

TEST(Scram, rfc5802_section5_1_username_escaping)
{
    EXPECT_EQ(escape_saslname("a=b,c"), "a=3Db=2Cc");
    EXPECT_EQ(escape_saslname("=,"), "=3D=2C");
    EXPECT_EQ(escape_saslname("plain"), "plain");
    Client client(plain_selection(Mechanism::scram_sha_256), "jo,e=x", "pw", "nonce");
    EXPECT_EQ(client.initial_response(), "n,,n=jo=2Ce=3Dx,r=nonce");
}

TEST(Scram, random_nonce_is_fresh_and_printable)
{
    Client a(plain_selection(Mechanism::scram_sha_1), "user", "pw");
    Client b(plain_selection(Mechanism::scram_sha_1), "user", "pw");
    std::string first_a = a.initial_response();
    std::string first_b = b.initial_response();
    std::string nonce = attribute(first_a.substr(3), 'r');
    EXPECT_GE(nonce.size(), 24u);
    EXPECT_EQ(nonce.find(','), std::string::npos);
    EXPECT_NE(first_a, first_b);
}

TEST(Scram, rfc5802_section6_plus_uses_p_flag_and_binds_the_data_in_c)
{
    std::string cb_data = std::string("\x01\x02\x00\xff", 4) + std::string(28, 'k');
    Selection selection {
        Mechanism::scram_sha_256_plus, ChannelBinding {"tls-exporter", cb_data}, false};
    Client client(selection, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(client.initial_response(), "p=tls-exporter,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    std::string final_message = must_respond(client,
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    auto c = base64_decode(attribute(final_message, 'c'));
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, "p=tls-exporter,," + cb_data);
    // The proof covers c=, so it differs from the unbound RFC 7677 proof.
    EXPECT_NE(attribute(final_message, 'p'), "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
}

TEST(Scram, rfc5802_section6_y_flag_when_we_could_bind_but_server_offered_no_plus)
{
    Client client(Selection {Mechanism::scram_sha_1, std::nullopt, true}, "user", "pencil",
        "fyko+d2lbbFgONRv9qkxdawL");
    EXPECT_EQ(client.initial_response(), "y,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    std::string final_message = must_respond(
        client, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    EXPECT_EQ(attribute(final_message, 'c'), "eSws");  // base64("y,,")
}

// ---- PLAIN and ANONYMOUS ----

TEST(Plain, rfc4616_section2_message_has_empty_authzid)
{
    Client client(plain_selection(Mechanism::plain), "alice", "s3cret");
    EXPECT_EQ(client.initial_response(), std::string("\0alice\0s3cret", 13));
    EXPECT_TRUE(client.verify_success(""));
}

TEST(Anonymous, rfc4505_section2_empty_trace)
{
    Client client(plain_selection(Mechanism::anonymous), "", "");
    EXPECT_EQ(client.initial_response(), "");
    EXPECT_TRUE(client.verify_success(""));
}

TEST(Mechanisms, names_round_trip)
{
    for (auto m :
        {Mechanism::scram_sha_256_plus, Mechanism::scram_sha_256, Mechanism::scram_sha_1_plus,
            Mechanism::scram_sha_1, Mechanism::plain, Mechanism::anonymous}) {
        auto back = mechanism_from_name(name(m));
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, m);
    }
    EXPECT_EQ(name(Mechanism::scram_sha_256_plus), "SCRAM-SHA-256-PLUS");
    EXPECT_FALSE(mechanism_from_name("DIGEST-MD5"));
    EXPECT_FALSE(mechanism_from_name("scram-sha-1"));
}

// ---- Mechanism choice (reference/prebind-and-auth.md §6.4) ----

struct ChoiceRow {
    const char* what;
    Policy policy;
    std::vector<std::string> offered;
    std::optional<std::vector<std::string>> server_cb;  // XEP-0440 list
    bool confidential;
    std::set<std::string> local_cb;  // types our TLS connection can give
    std::optional<Mechanism> expected;
    std::string binding_type;  // "" for none
    bool y_flag = false;
};

class MechanismChoice : public ::testing::TestWithParam<ChoiceRow> { };

TEST_P(MechanismChoice, picks_as_the_policy_table_says)
{
    const ChoiceRow& row = GetParam();
    ChannelBindingFn cb = [&row](std::string_view type) -> std::optional<std::string> {
        if (row.local_cb.count(std::string(type)) == 0)
            return std::nullopt;
        return "data-" + std::string(type);
    };
    auto selection
        = choose(row.policy, ServerOffer {row.offered, row.server_cb}, row.confidential, cb);
    if (!row.expected) {
        EXPECT_FALSE(selection) << row.what << ": got " << name(selection->mechanism);
        return;
    }
    ASSERT_TRUE(selection) << row.what;
    EXPECT_EQ(name(selection->mechanism), name(*row.expected)) << row.what;
    EXPECT_EQ(selection->binding ? selection->binding->type : "", row.binding_type) << row.what;
    if (selection->binding) {
        EXPECT_EQ(selection->binding->data, "data-" + row.binding_type) << row.what;
    }
    EXPECT_EQ(selection->client_supports_binding, row.y_flag) << row.what;
}

const std::vector<std::string> all_scram_and_plain
    = {"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN"};

INSTANTIATE_TEST_SUITE_P(Reference6_4, MechanismChoice,
    ::testing::Values(ChoiceRow {"password: SHA-256-PLUS first, tls-exporter by default (RFC 9266)",
                          Policy::password, all_scram_and_plain, std::nullopt, true,
                          {"tls-exporter"}, Mechanism::scram_sha_256_plus, "tls-exporter"},
        ChoiceRow {"password: TLS 1.2 default tls-unique (RFC 5802 §6)", Policy::password,
            all_scram_and_plain, std::nullopt, true, {"tls-unique", "tls-server-end-point"},
            Mechanism::scram_sha_256_plus, "tls-unique"},
        ChoiceRow {"password: no binding data, PLUS offered: SHA-256 with n", Policy::password,
            all_scram_and_plain, std::nullopt, true, {}, Mechanism::scram_sha_256, ""},
        ChoiceRow {"password: only tls-server-end-point without XEP-0440: not guessed",
            Policy::password, all_scram_and_plain, std::nullopt, true, {"tls-server-end-point"},
            Mechanism::scram_sha_256, ""},
        ChoiceRow {"password: no PLUS offered but we can bind: y", Policy::password,
            {"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"}, std::nullopt, true, {"tls-exporter"},
            Mechanism::scram_sha_256, "", true},
        ChoiceRow {"password: XEP-0440 list picks a common type", Policy::password,
            {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"},
            std::vector<std::string> {"tls-server-end-point", "tls-unique"}, true,
            {"tls-exporter", "tls-server-end-point"}, Mechanism::scram_sha_256_plus,
            "tls-server-end-point"},
        ChoiceRow {"password: XEP-0440 order is ours: exporter before end-point", Policy::password,
            {"SCRAM-SHA-256-PLUS"},
            std::vector<std::string> {"tls-server-end-point", "tls-exporter"}, true,
            {"tls-exporter", "tls-server-end-point"}, Mechanism::scram_sha_256_plus,
            "tls-exporter"},
        ChoiceRow {"password: XEP-0440 no common type: no PLUS", Policy::password,
            {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, std::vector<std::string> {"tls-unique"}, true,
            {"tls-exporter"}, Mechanism::scram_sha_256, ""},
        ChoiceRow {"password: SHA-1-PLUS over SHA-1", Policy::password,
            {"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"}, std::nullopt, true, {"tls-exporter"},
            Mechanism::scram_sha_1_plus, "tls-exporter"},
        ChoiceRow {"password: SHA-256 beats SHA-1-PLUS; n since a PLUS was offered",
            Policy::password, {"SCRAM-SHA-256", "SCRAM-SHA-1-PLUS"}, std::nullopt, true,
            {"tls-exporter"}, Mechanism::scram_sha_256, ""},
        ChoiceRow {"password: SCRAM over plain TCP is allowed", Policy::password,
            {"SCRAM-SHA-1", "PLAIN"}, std::nullopt, false, {}, Mechanism::scram_sha_1, ""},
        ChoiceRow {"password: PLAIN when confidential", Policy::password, {"PLAIN"}, std::nullopt,
            true, {}, Mechanism::plain, ""},
        ChoiceRow {"password: never PLAIN in clear", Policy::password, {"PLAIN"}, std::nullopt,
            false, {}, std::nullopt, ""},
        ChoiceRow {"password: never DIGEST-MD5 or CRAM-MD5", Policy::password,
            {"DIGEST-MD5", "CRAM-MD5", "ANONYMOUS"}, std::nullopt, true, {}, std::nullopt, ""},
        ChoiceRow {"plain_secret: PLAIN even when SCRAM is offered", Policy::plain_secret,
            all_scram_and_plain, std::nullopt, true, {"tls-exporter"}, Mechanism::plain, ""},
        ChoiceRow {"plain_secret: not in clear", Policy::plain_secret, all_scram_and_plain,
            std::nullopt, false, {}, std::nullopt, ""},
        ChoiceRow {"plain_secret: PLAIN not offered", Policy::plain_secret,
            {"SCRAM-SHA-256", "SCRAM-SHA-1"}, std::nullopt, true, {}, std::nullopt, ""},
        ChoiceRow {"anonymous: ANONYMOUS, even in clear", Policy::anonymous, {"PLAIN", "ANONYMOUS"},
            std::nullopt, false, {"tls-exporter"}, Mechanism::anonymous, ""},
        ChoiceRow {"anonymous: not offered", Policy::anonymous, all_scram_and_plain, std::nullopt,
            true, {}, std::nullopt, ""},
        ChoiceRow {
            "nothing offered", Policy::password, {}, std::nullopt, true, {}, std::nullopt, ""}));

TEST(MechanismChoiceNoCallback, without_a_binding_function_no_plus)
{
    auto selection
        = choose(Policy::password, ServerOffer {all_scram_and_plain, std::nullopt}, true, {});
    ASSERT_TRUE(selection);
    EXPECT_EQ(selection->mechanism, Mechanism::scram_sha_256);
    EXPECT_FALSE(selection->binding);
}

// ---- RFC 4013 §3 examples, and what PLAIN/SCRAM need of SASLprep ----------

std::string prepped(std::string_view text)
{
    auto r = saslprep(text);
    return r ? *r : "<" + std::string(describe(r.error())) + ">";
}

TEST(Saslprep, rfc4013_section3_soft_hyphen_is_mapped_to_nothing)
{
    EXPECT_EQ(prepped("I\u00ADX"), "IX");
}

TEST(Saslprep, rfc4013_section3_ascii_is_unchanged_and_case_is_kept)
{
    EXPECT_EQ(prepped("user"), "user");
    EXPECT_EQ(prepped("USER"), "USER");
}

TEST(Saslprep, rfc4013_section3_nfkc)
{
    EXPECT_EQ(prepped("\u00AA"), "a");  // FEMININE ORDINAL INDICATOR
    EXPECT_EQ(prepped("\u2168"), "IX");  // ROMAN NUMERAL NINE
}

TEST(Saslprep, rfc4013_section3_prohibited_character)
{
    const auto r = saslprep("\u0007");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), PrepError::prohibited);
}

TEST(Saslprep, rfc4013_section3_bidirectional_check)
{
    const auto r = saslprep("\u0627\u0031");  // ARABIC LETTER ALEF, DIGIT ONE
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), PrepError::bidi);
}

TEST(Saslprep, rfc4013_section2_1_non_ascii_space_becomes_space)
{
    EXPECT_EQ(prepped("pass\u00A0word\u3000!"), "pass word !");
}

TEST(Saslprep, rfc3454_b1_commonly_mapped_to_nothing_is_removed)
{
    // Table B.1 lists U+034F, U+200D and U+FEFF, among others.
    EXPECT_EQ(prepped("a\u200Db\uFEFFc\u034Fd"), "abcd");
}

TEST(Saslprep, prohibited_outputs_and_bad_input_are_refused)
{
    for (const std::string& bad : {std::string("tab\there"), std::string("del\x7F"),
             std::string("private\uE000use"), std::string("nul\0byte", 8)}) {
        const auto r = saslprep(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), PrepError::prohibited) << bad;
    }
    const auto bad_utf8 = saslprep("\xC3\x28");
    ASSERT_FALSE(bad_utf8);
    EXPECT_EQ(bad_utf8.error(), PrepError::invalid_utf8);
    const auto empty = saslprep("\u00AD");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error(), PrepError::empty);
}

TEST(Saslprep, unassigned_code_points_are_allowed_like_query_strings)
{
    // An emoji (Unicode 6.0) is unassigned in Unicode 3.2's table A.1.
    EXPECT_EQ(prepped("pw\U0001F600"), "pw\U0001F600");
}

}  // namespace
}  // namespace bosun::xmpp::sasl
