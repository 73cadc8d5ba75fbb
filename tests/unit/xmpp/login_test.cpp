#include "xmpp/login.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/base64.hpp"
#include "xmpp/framer.hpp"

namespace bosun::xmpp {
namespace {

const std::string server_header
    = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' from='example.org' id='s1' "
      "version='1.0'>";

const std::string sasl_ns = "urn:ietf:params:xml:ns:xmpp-sasl";

// One server stream: the real framer turns the server's bytes into what the
// login sees, header and elements.
class ServerStream {
public:
    ServerStream()
    {
        auto events = feed(server_header);
        EXPECT_EQ(events.size(), 1u);
        if (!events.empty())
            header_ = events[0].header;
    }
    Element element(const std::string& xml)
    {
        auto events = feed(xml);
        EXPECT_EQ(events.size(), 1u) << xml;
        return events.empty() ? Element {} : events[0].element;
    }
    const StreamHeader& header() const { return header_; }

private:
    std::vector<FramerEvent> feed(const std::string& bytes)
    {
        std::vector<FramerEvent> events;
        EXPECT_EQ(framer_.feed(bytes, events), FramerError::none);
        return events;
    }
    Framer framer_ {64 * 1024};
    StreamHeader header_;
};

// Drives a Login through scripted server elements.
class Conversation {
public:
    Conversation(LoginRequest req, ChannelBindingFn cb = {}, std::string nonce = {})
        : login(std::move(req), std::move(cb), std::move(nonce))
    {
    }
    std::vector<LoginStep> server(const std::string& xml)
    {
        return login.on_element(stream->header(), stream->element(xml));
    }
    void restart() { stream.emplace(); }

    Login login;
    std::optional<ServerStream> stream {std::in_place};
};

// The single step `steps` must hold, by value (the vector is a temporary).
template <class T> T only(const std::vector<LoginStep>& steps)
{
    EXPECT_EQ(steps.size(), 1u);
    if (steps.size() != 1 || !std::holds_alternative<T>(steps[0])) {
        ADD_FAILURE() << "unexpected step kind (index "
                      << (steps.empty() ? -1 : int(steps[0].index())) << ")";
        return T {};
    }
    return std::get<T>(steps[0]);
}

std::string sasl_element(const std::string& name, const std::string& payload)
{
    if (payload.empty())
        return "<" + name + " xmlns='" + sasl_ns + "'/>";
    return "<" + name + " xmlns='" + sasl_ns + "'>" + base64_encode(payload) + "</" + name + ">";
}

std::string features_with(const std::vector<std::string>& mechanisms, const std::string& extra = "")
{
    std::string xml = "<stream:features><mechanisms xmlns='" + sasl_ns + "'>";
    for (const auto& m : mechanisms)
        xml += "<mechanism>" + m + "</mechanism>";
    return xml + "</mechanisms>" + extra + "</stream:features>";
}

const std::string bind_features
    = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
      "</stream:features>";

// The payload of <auth/> or <response/>, decoded.
std::string payload_of(const std::string& xml)
{
    pugi::xml_document doc;
    EXPECT_TRUE(doc.load_string(xml.c_str()));
    std::string text = doc.document_element().child_value();
    if (text == "=")
        return {};
    auto decoded = base64_decode(text);
    EXPECT_TRUE(decoded) << xml;
    return decoded.value_or("");
}

pugi::xml_node parse_into(pugi::xml_document& doc, const std::string& xml)
{
    EXPECT_TRUE(doc.load_string(xml.c_str())) << xml;
    return doc.document_element();
}

std::string bind_result(const std::string& id, const std::string& jid)
{
    return "<iq type='result' id='" + id + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>"
        + jid + "</jid></bind></iq>";
}

LoginRequest request(
    sasl::Policy policy, std::string user, std::string secret, bool confidential = true)
{
    LoginRequest req;
    req.domain = "example.org";
    req.username = std::move(user);
    req.secret = std::move(secret);
    req.policy = policy;
    req.confidential = confidential;
    return req;
}

// Runs SASL with PLAIN to the point of LoginRestart and restarts the stream.
void plain_through_restart(Conversation& c)
{
    only<LoginSend>(c.server(features_with({"PLAIN"})));
    only<LoginRestart>(c.server(sasl_element("success", "")));
    c.restart();
}

// Binds and returns the bind iq id.
std::string bind_id(Conversation& c, const std::string& features = bind_features)
{
    const auto& send = only<LoginSend>(c.server(features));
    pugi::xml_document doc;
    return parse_into(doc, send.xml).attribute("id").value();
}

// ---- Whole conversations ----

// RFC 6120 §6.4 + §7 + RFC 3921 §3, with the RFC 7677 §3 SCRAM exchange.
TEST(Login, rfc6120_scram_sha256_restart_bind_and_required_session)
{
    auto req = request(sasl::Policy::password, "user", "pencil");
    req.resource = "web<1>";
    Conversation c(std::move(req), {}, "rOprNGfwEbeRWgbNEkqO");

    const auto& auth
        = only<LoginSend>(c.server(features_with({"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"})));
    pugi::xml_document auth_doc;
    pugi::xml_node auth_node = parse_into(auth_doc, auth.xml);
    EXPECT_STREQ(auth_node.name(), "auth");
    EXPECT_EQ(std::string(auth_node.attribute("xmlns").value()), sasl_ns);
    EXPECT_STREQ(auth_node.attribute("mechanism").value(), "SCRAM-SHA-256");
    EXPECT_EQ(payload_of(auth.xml), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");

    const auto& response = only<LoginSend>(c.server(sasl_element("challenge",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")));
    EXPECT_TRUE(response.xml.starts_with("<response xmlns='" + sasl_ns + "'>"));
    EXPECT_EQ(payload_of(response.xml),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");

    only<LoginRestart>(
        c.server(sasl_element("success", "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")));
    c.restart();

    const auto& bind = only<LoginSend>(
        c.server("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                 "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>"));
    pugi::xml_document bind_doc;
    pugi::xml_node iq = parse_into(bind_doc, bind.xml);
    EXPECT_STREQ(iq.name(), "iq");
    EXPECT_STREQ(iq.attribute("type").value(), "set");
    std::string id = iq.attribute("id").value();
    EXPECT_FALSE(id.empty());
    pugi::xml_node bind_node = iq.child("bind");
    EXPECT_STREQ(bind_node.attribute("xmlns").value(), "urn:ietf:params:xml:ns:xmpp-bind");
    EXPECT_STREQ(bind_node.child_value("resource"), "web<1>");  // escaped on the wire
    EXPECT_NE(bind.xml.find("web&lt;1&gt;"), std::string::npos);

    const auto& session
        = only<LoginSend>(c.server(bind_result(id, "user@example.org/web&lt;1&gt;")));
    pugi::xml_document session_doc;
    pugi::xml_node session_iq = parse_into(session_doc, session.xml);
    EXPECT_STREQ(session_iq.attribute("type").value(), "set");
    EXPECT_STREQ(session_iq.child("session").attribute("xmlns").value(),
        "urn:ietf:params:xml:ns:xmpp-session");
    std::string session_id = session_iq.attribute("id").value();
    EXPECT_NE(session_id, id);

    const auto& done = only<LoginDone>(c.server("<iq type='result' id='" + session_id + "'/>"));
    EXPECT_EQ(done.jid, "user@example.org/web<1>");
    EXPECT_EQ(done.mechanism, "SCRAM-SHA-256");
    EXPECT_TRUE(done.early.empty());
    EXPECT_TRUE(c.login.finished());
    // Finished: nothing more, and never a presence.
    EXPECT_TRUE(c.server("<message from='a@example.org'><body>x</body></message>").empty());
}

// XEP-0440 + RFC 9266: -PLUS binds the TLS connection's exporter data.
TEST(Login, rfc5802_section6_scram_plus_with_tls_exporter_from_connection)
{
    std::string seen_type;
    ChannelBindingFn cb = [&](std::string_view type) -> std::optional<std::string> {
        seen_type = type;
        if (type != "tls-exporter")
            return std::nullopt;
        return std::string(32, '\x07');
    };
    Conversation c(request(sasl::Policy::password, "user", "pencil"), cb, "nonce123");
    const auto& auth
        = only<LoginSend>(c.server(features_with({"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"},
            "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-unique'/>"
            "<channel-binding type='tls-exporter'/></sasl-channel-binding>")));
    EXPECT_NE(auth.xml.find("mechanism='SCRAM-SHA-256-PLUS'"), std::string::npos);
    EXPECT_EQ(payload_of(auth.xml), "p=tls-exporter,,n=user,r=nonce123");
    const auto& response = only<LoginSend>(
        c.server(sasl_element("challenge", "r=nonce123server,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")));
    std::string final_message = payload_of(response.xml);
    ASSERT_TRUE(final_message.starts_with("c="));
    auto c_value = base64_decode(final_message.substr(2, final_message.find(',') - 2));
    ASSERT_TRUE(c_value);
    EXPECT_EQ(*c_value, "p=tls-exporter,," + std::string(32, '\x07'));
}

// RFC 4616 + RFC 6120 §6.4.2; <session/> with <optional/> is skipped.
TEST(Login, rfc4616_plain_then_bind_without_resource_and_optional_session)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok-123"));
    const auto& auth = only<LoginSend>(c.server(features_with({"SCRAM-SHA-1", "PLAIN"})));
    EXPECT_NE(auth.xml.find("mechanism='PLAIN'"), std::string::npos);
    EXPECT_EQ(payload_of(auth.xml), std::string("\0alice\0tok-123", 14));
    only<LoginRestart>(c.server(sasl_element("success", "")));
    c.restart();
    const auto& bind = only<LoginSend>(
        c.server("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                 "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>"
                 "</stream:features>"));
    pugi::xml_document doc;
    pugi::xml_node iq = parse_into(doc, bind.xml);
    EXPECT_TRUE(iq.child("bind"));
    EXPECT_FALSE(iq.child("bind").child("resource"));
    const auto& done = only<LoginDone>(
        c.server(bind_result(iq.attribute("id").value(), "alice@example.org/abc")));
    EXPECT_EQ(done.jid, "alice@example.org/abc");
    EXPECT_EQ(done.mechanism, "PLAIN");
}

// RFC 4505 + RFC 6120 §6.4.2: a zero-length initial response is "=".
TEST(Login, rfc4505_anonymous_sends_equals_and_takes_the_jid_from_bind)
{
    Conversation c(request(sasl::Policy::anonymous, "ignored", "ignored", false));
    const auto& auth = only<LoginSend>(c.server(features_with({"ANONYMOUS", "SCRAM-SHA-1"})));
    EXPECT_EQ(auth.xml, "<auth xmlns='" + sasl_ns + "' mechanism='ANONYMOUS'>=</auth>");
    only<LoginRestart>(c.server(sasl_element("success", "")));
    c.restart();
    std::string id = bind_id(c);
    const auto& done = only<LoginDone>(c.server(bind_result(id, "7f3a@example.org/x1")));
    EXPECT_EQ(done.jid, "7f3a@example.org/x1");
    EXPECT_EQ(done.mechanism, "ANONYMOUS");
}

// reference §6.5: stanzas before the browser attaches are kept, in order.
TEST(Login, stanzas_after_sasl_go_into_early_in_order)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    plain_through_restart(c);
    std::string id = bind_id(c);
    EXPECT_TRUE(
        c.server("<message from='bob@example.org' to='alice@example.org'><body>hi</body></message>")
            .empty());
    EXPECT_TRUE(c.server("<presence from='bob@example.org/x'/>").empty());
    EXPECT_TRUE(c.server("<iq type='get' id='" + id
                     + "-not' from='example.org'><ping xmlns='urn:xmpp:ping'/></iq>")
                    .empty());
    // A result with another id is not ours either.
    EXPECT_TRUE(c.server("<iq type='result' id='other'/>").empty());
    const auto& done = only<LoginDone>(c.server(bind_result(id, "alice@example.org/r")));
    ASSERT_EQ(done.early.size(), 4u);
    EXPECT_EQ(done.early[0].qname, "message");
    EXPECT_NE(done.early[0].xml.find("<body>hi</body>"), std::string::npos);
    EXPECT_EQ(done.early[1].qname, "presence");
    EXPECT_EQ(done.early[2].qname, "iq");
    EXPECT_EQ(done.early[3].qname, "iq");
}

// Server-final in a challenge, then an empty <success/> (RFC 6120 §6.4.6 allows both).
TEST(Login, rfc6120_section6_4_6_server_final_as_challenge)
{
    Conversation c(
        request(sasl::Policy::password, "user", "pencil"), {}, "fyko+d2lbbFgONRv9qkxdawL");
    only<LoginSend>(c.server(features_with({"SCRAM-SHA-1"})));
    only<LoginSend>(c.server(sasl_element(
        "challenge", "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")));
    const auto& empty
        = only<LoginSend>(c.server(sasl_element("challenge", "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")));
    EXPECT_EQ(empty.xml, "<response xmlns='" + sasl_ns + "'/>");
    only<LoginRestart>(c.server(sasl_element("success", "")));
}

// ---- Failures ----

TEST(Login, rfc5802_section3_server_signature_mismatch_stops_before_restart)
{
    Conversation c(
        request(sasl::Policy::password, "user", "pencil"), {}, "fyko+d2lbbFgONRv9qkxdawL");
    only<LoginSend>(c.server(features_with({"SCRAM-SHA-1"})));
    only<LoginSend>(c.server(sasl_element(
        "challenge", "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")));
    const auto& failed = only<LoginFailed>(
        c.server(sasl_element("success", "v=" + base64_encode(std::string(20, 'z')))));
    EXPECT_EQ(failed.error, LoginError::server_signature_mismatch);
    EXPECT_TRUE(c.login.finished());
}

TEST(Login, rfc5802_section3_scram_success_without_proof_is_refused)
{
    Conversation c(request(sasl::Policy::password, "user", "pencil"));
    only<LoginSend>(c.server(features_with({"SCRAM-SHA-256"})));
    const auto& failed = only<LoginFailed>(c.server(sasl_element("success", "")));
    EXPECT_EQ(failed.error, LoginError::protocol_error);
}

TEST(Login, rfc6120_section6_4_2_plain_in_clear_is_mechanism_unavailable)
{
    Conversation c(request(sasl::Policy::password, "user", "pencil", false));
    const auto& failed = only<LoginFailed>(c.server(features_with({"PLAIN", "DIGEST-MD5"})));
    EXPECT_EQ(failed.error, LoginError::mechanism_unavailable);
    EXPECT_NE(failed.detail.find("DIGEST-MD5"), std::string::npos);
    EXPECT_EQ(failed.detail.find("pencil"), std::string::npos);
}

TEST(Login, features_without_sasl_is_mechanism_unavailable)
{
    Conversation c(request(sasl::Policy::password, "user", "pencil"));
    const auto& failed = only<LoginFailed>(c.server(bind_features));
    EXPECT_EQ(failed.error, LoginError::mechanism_unavailable);
}

struct FailureRow {
    const char* condition;
    LoginError error;
};

class SaslFailure : public ::testing::TestWithParam<FailureRow> { };

// RFC 6120 §6.5: each condition maps to one LoginError; <text/> is never reported.
TEST_P(SaslFailure, rfc6120_section6_5_condition_is_mapped_and_text_dropped)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "hunter2"));
    only<LoginSend>(c.server(features_with({"PLAIN"})));
    const auto& failed = only<LoginFailed>(c.server("<failure xmlns='" + sasl_ns + "'><"
        + GetParam().condition + "/><text xml:lang='en'>leaked hunter2</text></failure>"));
    EXPECT_EQ(failed.error, GetParam().error);
    EXPECT_EQ(failed.condition, GetParam().condition);
    EXPECT_EQ(failed.detail.find("leaked"), std::string::npos);
    EXPECT_EQ(failed.detail.find("hunter2"), std::string::npos);
    EXPECT_TRUE(c.login.finished());
}

INSTANTIATE_TEST_SUITE_P(Rfc6120, SaslFailure,
    ::testing::Values(FailureRow {"not-authorized", LoginError::not_authorized},
        FailureRow {"account-disabled", LoginError::account_disabled},
        FailureRow {"credentials-expired", LoginError::credentials_expired},
        FailureRow {"temporary-auth-failure", LoginError::temporary_auth_failure},
        FailureRow {"invalid-mechanism", LoginError::mechanism_unavailable},
        FailureRow {"encryption-required", LoginError::mechanism_unavailable},
        FailureRow {"mechanism-too-weak", LoginError::mechanism_unavailable},
        FailureRow {"malformed-request", LoginError::sasl_failure},
        FailureRow {"aborted", LoginError::sasl_failure},
        FailureRow {"invalid-authzid", LoginError::sasl_failure}));

TEST(Login, rfc6120_section6_4_5_failure_without_condition)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    only<LoginSend>(c.server(features_with({"PLAIN"})));
    const auto& failed = only<LoginFailed>(c.server("<failure xmlns='" + sasl_ns + "'/>"));
    EXPECT_EQ(failed.error, LoginError::sasl_failure);
    EXPECT_EQ(failed.condition, "");
}

TEST(Login, rfc6120_section7_6_bind_error_reports_stanza_condition)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    plain_through_restart(c);
    std::string id = bind_id(c);
    const auto& failed = only<LoginFailed>(c.server("<iq type='error' id='" + id
        + "'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
          "</error></iq>"));
    EXPECT_EQ(failed.error, LoginError::bind_failed);
    EXPECT_EQ(failed.condition, "conflict");
}

TEST(Login, rfc3921_section3_session_error_is_bind_failed)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    plain_through_restart(c);
    std::string id = bind_id(c,
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
        "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>");
    const auto& session = only<LoginSend>(c.server(bind_result(id, "alice@example.org/r")));
    pugi::xml_document doc;
    std::string session_id = parse_into(doc, session.xml).attribute("id").value();
    const auto& failed = only<LoginFailed>(c.server("<iq type='error' id='" + session_id
        + "'><error type='wait'><internal-server-error "
          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
          "</error></iq>"));
    EXPECT_EQ(failed.error, LoginError::bind_failed);
    EXPECT_EQ(failed.condition, "internal-server-error");
}

TEST(Login, rfc6120_section7_bind_result_without_jid_fails)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    plain_through_restart(c);
    std::string id = bind_id(c);
    const auto& failed = only<LoginFailed>(c.server("<iq type='result' id='" + id + "'/>"));
    EXPECT_EQ(failed.error, LoginError::bind_failed);
}

// Issue 4: the prebind answer names the account asked for, so a bind result
// for another account or domain fails the login (502 upstream_error).
TEST(Login, bind_result_for_another_account_fails)
{
    for (const std::string_view jid : {"mallory@example.org/r", "alice@evil.example/r",
             "example.org/r", "alice@example.org.evil/r"}) {
        Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
        plain_through_restart(c);
        std::string id = bind_id(c);
        const auto& failed = only<LoginFailed>(c.server(bind_result(id, std::string(jid))));
        EXPECT_EQ(failed.error, LoginError::bind_failed) << jid;
        EXPECT_EQ(failed.detail.find("mallory"), std::string::npos);  // no JIDs in the detail
    }
}

TEST(Login, bind_result_may_differ_in_ascii_case_only)
{
    Conversation c(request(sasl::Policy::plain_secret, "Alice", "tok"));
    plain_through_restart(c);
    std::string id = bind_id(c);
    const auto& done = only<LoginDone>(c.server(bind_result(id, "alice@Example.ORG/r")));
    EXPECT_EQ(done.jid, "alice@Example.ORG/r");
}

TEST(Login, anonymous_bind_result_must_be_in_the_requested_domain)
{
    Conversation c(request(sasl::Policy::anonymous, "", "", false));
    only<LoginSend>(c.server(features_with({"ANONYMOUS"})));
    only<LoginRestart>(c.server(sasl_element("success", "")));
    c.restart();
    std::string id = bind_id(c);
    const auto& failed = only<LoginFailed>(c.server(bind_result(id, "7f3a@other.example/x1")));
    EXPECT_EQ(failed.error, LoginError::bind_failed);
}

TEST(Login, rfc6120_section7_no_bind_feature_after_restart_fails)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    plain_through_restart(c);
    const auto& failed = only<LoginFailed>(c.server("<stream:features/>"));
    EXPECT_EQ(failed.error, LoginError::bind_failed);
}

TEST(Login, rfc6120_section4_9_stream_error_during_sasl)
{
    Conversation c(request(sasl::Policy::password, "user", "pencil"));
    only<LoginSend>(c.server(features_with({"SCRAM-SHA-1"})));
    const auto& failed = only<LoginFailed>(c.server(
        "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>too many</text></stream:error>"));
    EXPECT_EQ(failed.error, LoginError::stream_error);
    EXPECT_EQ(failed.condition, "policy-violation");
}

TEST(Login, rfc6120_section4_9_stream_error_instead_of_features)
{
    Conversation c(request(sasl::Policy::password, "user", "pencil"));
    const auto& failed = only<LoginFailed>(
        c.server("<stream:error><host-unknown "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"));
    EXPECT_EQ(failed.error, LoginError::stream_error);
    EXPECT_EQ(failed.condition, "host-unknown");
}

TEST(Login, rfc6120_section4_9_stream_error_during_bind)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    plain_through_restart(c);
    bind_id(c);
    const auto& failed = only<LoginFailed>(c.server(
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"));
    EXPECT_EQ(failed.error, LoginError::stream_error);
    EXPECT_EQ(failed.condition, "conflict");
}

TEST(Login, unexpected_element_during_sasl_is_protocol_error)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    only<LoginSend>(c.server(features_with({"PLAIN"})));
    const auto& failed = only<LoginFailed>(c.server("<message><body>early</body></message>"));
    EXPECT_EQ(failed.error, LoginError::protocol_error);
}

TEST(Login, sasl_element_in_wrong_namespace_is_protocol_error)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    only<LoginSend>(c.server(features_with({"PLAIN"})));
    const auto& failed = only<LoginFailed>(c.server("<success xmlns='urn:example:other'/>"));
    EXPECT_EQ(failed.error, LoginError::protocol_error);
}

TEST(Login, rfc6120_section6_4_2_bad_base64_challenge_is_protocol_error)
{
    Conversation c(request(sasl::Policy::password, "user", "pencil"));
    only<LoginSend>(c.server(features_with({"SCRAM-SHA-1"})));
    const auto& failed
        = only<LoginFailed>(c.server("<challenge xmlns='" + sasl_ns + "'>not*base64</challenge>"));
    EXPECT_EQ(failed.error, LoginError::protocol_error);
}

TEST(Login, rfc7677_section4_low_iteration_count_is_sasl_failure)
{
    Conversation c(request(sasl::Policy::password, "user", "pencil"), {}, "abc");
    only<LoginSend>(c.server(features_with({"SCRAM-SHA-256"})));
    const auto& failed = only<LoginFailed>(
        c.server(sasl_element("challenge", "r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=16")));
    EXPECT_EQ(failed.error, LoginError::sasl_failure);
}

TEST(Login, something_other_than_features_first_is_protocol_error)
{
    Conversation c(request(sasl::Policy::password, "user", "pencil"));
    const auto& failed = only<LoginFailed>(c.server("<presence/>"));
    EXPECT_EQ(failed.error, LoginError::protocol_error);
}

TEST(Login, non_stanza_during_bind_is_protocol_error)
{
    Conversation c(request(sasl::Policy::plain_secret, "alice", "tok"));
    plain_through_restart(c);
    bind_id(c);
    const auto& failed = only<LoginFailed>(c.server("<r xmlns='urn:xmpp:sm:3'/>"));
    EXPECT_EQ(failed.error, LoginError::protocol_error);
}

// The stream prefix may be any name bound to the streams namespace.
TEST(Login, rfc6120_section4_8_features_with_other_prefix)
{
    Login login(request(sasl::Policy::plain_secret, "alice", "tok"), {});
    Framer framer(64 * 1024);
    std::vector<FramerEvent> events;
    ASSERT_EQ(framer.feed(
                  "<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams' "
                  "version='1.0'><s:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                  "<mechanism>\n PLAIN \n</mechanism></mechanisms></s:features>",
                  events),
        FramerError::none);
    ASSERT_EQ(events.size(), 2u);
    const auto& auth = only<LoginSend>(login.on_element(events[0].header, events[1].element));
    EXPECT_NE(auth.xml.find("mechanism='PLAIN'"), std::string::npos);
}

}  // namespace
}  // namespace bosun::xmpp
