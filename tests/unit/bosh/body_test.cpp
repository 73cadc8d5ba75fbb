// Unit tests for the <body/> wrapper: request parsing and response
// serialization (XEP-0124 §6, §7; XEP-0206 §2, §3, §5). Checklist numbers
// refer to /work/shared/reference/bosh-checklist.md.
#include "bosh/body.hpp"

#include "xml_check.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::bosh {
namespace {

using test::element_ns;
using test::namespace_of;

const std::string k_ns = "xmlns='http://jabber.org/protocol/httpbind'";
const std::string k_xb = "xmlns:xmpp='urn:xmpp:xbosh'";

// A parsed request that the test expects to be valid.
BodyRequest ok(std::string_view xml)
{
    auto r = parse_body(xml);
    if (!r) {
        ADD_FAILURE() << "rejected (" << r.error().detail << "): " << xml;
        return {};
    }
    return std::move(r).value();
}

// The failure for a request the test expects to be refused.
ParseFailure refused(std::string_view xml)
{
    auto r = parse_body(xml);
    if (r) {
        ADD_FAILURE() << "accepted: " << xml;
        return {Condition::undefined_condition, "accepted", {}};
    }
    return r.error();
}

// Parses one serialized payload on its own: it must stand alone (every prefix
// it uses is declared inside it).
struct Standalone {
    pugi::xml_document doc;
    pugi::xml_node root;
    bool ok = false;
};

void load(Standalone& s, const std::string& xml)
{
    s.ok = bool(s.doc.load_string(xml.c_str()));
    s.root = s.doc.document_element();
}

// ---- well-formed requests ---------------------------------------------------

// §7.1, XEP-0206 §3: every creation attribute is read.
TEST(ParseBody, creation_request_attributes_are_read_7_1)
{
    const auto r = ok(
        "<body rid='1573741820' to='example.com' from='u@example.com' route='xmpp:example.com:5222'"
        " xml:lang='de' content='text/xml; charset=utf-8' wait='60' hold='1' ver='1.6' ack='1'"
        " xmpp:version='1.0' "
        + k_xb + " " + k_ns + "/>");
    EXPECT_EQ(r.rid, 1573741820u);
    EXPECT_FALSE(r.sid);
    EXPECT_EQ(r.to, "example.com");
    EXPECT_EQ(r.from, "u@example.com");
    EXPECT_EQ(r.route, "xmpp:example.com:5222");
    EXPECT_EQ(r.lang, "de");
    EXPECT_EQ(r.content, "text/xml; charset=utf-8");
    EXPECT_EQ(r.wait, 60u);
    EXPECT_EQ(r.hold, 1u);
    EXPECT_EQ(r.ver, (Version {1, 6}));
    EXPECT_EQ(r.ack, 1u);
    EXPECT_EQ(r.xmpp_version, "1.0");
    EXPECT_FALSE(r.restart);
    EXPECT_FALSE(r.terminate);
    EXPECT_TRUE(r.payloads.empty());
}

TEST(ParseBody, absent_optional_attributes_stay_empty)
{
    const auto r = ok("<body rid='2' sid='S' " + k_ns + "/>");
    EXPECT_EQ(r.sid, "S");
    EXPECT_FALSE(r.to);
    EXPECT_FALSE(r.lang);
    EXPECT_FALSE(r.wait);
    EXPECT_FALSE(r.hold);
    EXPECT_FALSE(r.ver);  // no ver: a legacy client (§17.1)
    EXPECT_FALSE(r.xmpp_version);
    EXPECT_FALSE(r.condition);
}

TEST(ParseBody, payloads_are_kept_in_order)
{
    const auto r = ok("<body rid='2' sid='S' " + k_ns
        + "><message to='a@example.com' id='m1'/>\n  <presence id='p1'/><iq type='get' "
          "id='i1'/></body>");
    ASSERT_EQ(r.payloads.size(), 3u);
    EXPECT_EQ(r.payloads[0].find("<message"), 0u);
    EXPECT_NE(r.payloads[0].find("m1"), std::string::npos);
    EXPECT_EQ(r.payloads[1].find("<presence"), 0u);
    EXPECT_EQ(r.payloads[2].find("<iq"), 0u);
}

TEST(ParseBody, xml_declaration_is_accepted)
{
    EXPECT_EQ(
        ok("<?xml version='1.0' encoding='UTF-8'?>\n<body rid='7' sid='S' " + k_ns + "/>").rid, 7u);
}

// XML 1.0 §4.3.3: a UTF-8 byte order mark may precede the declaration.
TEST(ParseBody, byte_order_mark_before_xml_declaration_is_accepted)
{
    EXPECT_EQ(ok("\xEF\xBB\xBF<?xml version='1.0'?><body rid='7' sid='S' " + k_ns + "/>").rid, 7u);
    EXPECT_EQ(ok("\xEF\xBB\xBF<body rid='8' sid='S' " + k_ns + "/>").rid, 8u);
}

// §6 (checklist #13/#15): the namespace matters, not the prefix.
TEST(ParseBody, body_with_prefix_bound_to_httpbind_is_accepted_15)
{
    const auto r = ok("<b:body xmlns:b='http://jabber.org/protocol/httpbind' rid='9' sid='S'/>");
    EXPECT_EQ(r.rid, 9u);
    EXPECT_EQ(r.sid, "S");
}

// §6 (checklist #14): the predefined and numeric character references are allowed.
TEST(ParseBody, predefined_and_character_references_are_accepted_14)
{
    const auto r = ok("<body rid='3' sid='S' " + k_ns
        + "><message id='a&amp;b'><body>&lt;3 &gt; &quot;&apos; caf&#233; "
          "caf&#xE9;&#9;&#x1F600;</body></message></body>");
    ASSERT_EQ(r.payloads.size(), 1u);
    Standalone p;
    load(p, r.payloads[0]);
    ASSERT_TRUE(p.ok) << r.payloads[0];
    EXPECT_STREQ(p.root.attribute("id").value(), "a&b");
    EXPECT_STREQ(
        p.root.child("body").text().get(), "<3 > \"' caf\xC3\xA9 caf\xC3\xA9\t\xF0\x9F\x98\x80");
}

// §6 (checklist #14): the scan for comments must skip CDATA sections, which
// may hold any text inside a stanza.
TEST(ParseBody, comment_like_text_inside_cdata_of_a_stanza_is_accepted_14)
{
    const auto r = ok("<body rid='3' sid='S' " + k_ns
        + "><message><body><![CDATA[<!-- not a comment --> & <?x?>]]></body></message></body>");
    ASSERT_EQ(r.payloads.size(), 1u);
    Standalone p;
    load(p, r.payloads[0]);
    ASSERT_TRUE(p.ok) << r.payloads[0];
    EXPECT_STREQ(p.root.child("body").text().get(), "<!-- not a comment --> & <?x?>");
}

TEST(ParseBody, whitespace_between_payloads_is_not_character_data_14)
{
    const auto r = ok("<body rid='3' sid='S' " + k_ns + ">\r\n\t <presence/>\n </body>");
    EXPECT_EQ(r.payloads.size(), 1u);
}

TEST(ParseBody, xml_lang_is_read_25)
{
    EXPECT_EQ(ok("<body rid='1' to='example.com' xml:lang='fr' " + k_ns + "/>").lang, "fr");
}

// checklist #28: the obsolete 'secure' attribute (XEP-0124 1.7) is accepted and ignored.
TEST(ParseBody, obsolete_secure_attribute_is_ignored_28)
{
    const auto r = ok(
        "<body rid='1' to='example.com' secure='true' wait='60' hold='1' ver='1.6' " + k_ns + "/>");
    EXPECT_EQ(r.rid, 1u);
    EXPECT_EQ(r.to, "example.com");
}

// checklist §4 item 18 (lenient parsing), §22 schema anyAttribute: unknown and foreign-namespace
// attributes are ignored.
TEST(ParseBody, unknown_and_foreign_attributes_are_ignored)
{
    const auto r = ok(
        "<body rid='1' sid='S' window='5' key='abc' xmlns:f='urn:foo' f:thing='x' " + k_ns + "/>");
    EXPECT_EQ(r.rid, 1u);
    EXPECT_FALSE(r.restart);
}

TEST(ParseBody, terminate_with_condition_is_read_75)
{
    const auto r = ok("<body rid='5' sid='S' type='terminate' condition='undefined-condition' "
        + k_ns + "><presence type='unavailable' xmlns='jabber:client'/></body>");
    EXPECT_TRUE(r.terminate);
    EXPECT_EQ(r.condition, "undefined-condition");
    EXPECT_EQ(r.payloads.size(), 1u);
}

TEST(ParseBody, type_other_than_terminate_is_not_a_terminate)
{
    EXPECT_FALSE(ok("<body rid='5' sid='S' type='error' " + k_ns + "/>").terminate);
}

// ---- rid (checklist #15, #29, #76) -------------------------------------------

TEST(ParseBody, missing_rid_is_bad_request_and_sid_is_still_reported_15)
{
    const auto f = refused("<body sid='S42' " + k_ns + "/>");
    EXPECT_EQ(f.condition, Condition::bad_request);
    EXPECT_EQ(f.sid, "S42");  // so the runtime can find the session's ver (§17.1)
}

// §17.2 (checklist #14, #87): a request naming a session whose XML cannot
// be parsed still reports the sid of its start tag, so that the session
// ends with bad-request instead of living on.
TEST(ParseBody, restricted_xml_still_reports_the_sid_of_the_start_tag_87)
{
    const auto f = refused("<body rid='5' sid='S42' " + k_ns + "><!-- x --></body>");
    EXPECT_EQ(f.condition, Condition::bad_request);
    EXPECT_EQ(f.sid, "S42");
}

TEST(ParseBody, truncated_xml_still_reports_the_sid_of_a_complete_start_tag_87)
{
    EXPECT_EQ(
        refused("<?xml version='1.0'?>\n<body rid='5' sid = \"S42\" " + k_ns + "><message").sid,
        "S42");
}

TEST(ParseBody, sid_is_not_read_from_another_attribute_value_or_an_incomplete_tag_87)
{
    EXPECT_EQ(
        refused("<body rid='5' to=\" sid='X'\" sid='S42' " + k_ns + "><!--x--></body>").sid, "S42");
    EXPECT_FALSE(refused("<body rid='5' to=\" sid='X'\" " + k_ns + "><!--x--></body>").sid);
    EXPECT_FALSE(refused("<body rid='5' sid='S42").sid);
    EXPECT_FALSE(refused("<!-- sid='S42' --><body rid='5' sid='S42' " + k_ns + "/>").sid);
}

TEST(ParseBody, largest_rid_2_pow_53_minus_1_is_accepted_76)
{
    EXPECT_EQ(ok("<body rid='9007199254740991' sid='S' " + k_ns + "/>").rid, k_max_rid);
    EXPECT_EQ(k_max_rid, 9007199254740991u);
}

TEST(ParseBody, rid_above_2_pow_32_is_accepted_76)
{
    EXPECT_EQ(ok("<body rid='4294967296' sid='S' " + k_ns + "/>").rid, 4294967296u);
}

struct BadValue {
    const char* name;
    const char* text;
};

void PrintTo(const BadValue& v, std::ostream* os)
{
    *os << v.text;
}

class MalformedAttribute : public ::testing::TestWithParam<BadValue> { };

// checklist #29: a malformed rid/wait/hold/ver is a syntax error.
TEST_P(MalformedAttribute, is_bad_request_29)
{
    const auto f = refused("<body " + std::string(GetParam().text) + " " + k_ns + "/>");
    EXPECT_EQ(f.condition, Condition::bad_request);
}

INSTANTIATE_TEST_SUITE_P(ParseBody, MalformedAttribute,
    ::testing::Values(BadValue {"rid_zero", "rid='0'"}, BadValue {"rid_letters", "rid='abc'"},
        BadValue {"rid_negative", "rid='-5'"}, BadValue {"rid_empty", "rid=''"},
        BadValue {"rid_plus_sign", "rid='+5'"}, BadValue {"rid_space", "rid=' 5'"},
        BadValue {"rid_exponent", "rid='1e3'"}, BadValue {"rid_fraction", "rid='5.0'"},
        BadValue {"rid_2_pow_53", "rid='9007199254740992'"},
        BadValue {"rid_above_uint64", "rid='18446744073709551616'"},
        BadValue {"rid_very_long", "rid='000000000000000000000000001'"},
        BadValue {"wait_negative", "rid='1' to='d' wait='-1'"},
        BadValue {"wait_letters", "rid='1' to='d' wait='sixty'"},
        BadValue {"wait_above_unsigned_short", "rid='1' to='d' wait='65536'"},
        BadValue {"hold_negative", "rid='1' to='d' hold='-1'"},
        BadValue {"ver_without_minor", "rid='1' to='d' ver='1'"},
        BadValue {"ver_three_parts", "rid='1' to='d' ver='1.6.1'"},
        BadValue {"ver_letters", "rid='1' to='d' ver='one.six'"},
        BadValue {"ack_letters", "rid='1' sid='S' ack='x'"},
        BadValue {"pause_letters", "rid='1' sid='S' pause='x'"},
        BadValue {"newkey_short", "rid='1' sid='S' newkey='ca393b51'"},
        BadValue {"newkey_not_hex", "rid='1' sid='S' newkey='za393b51b682f61f98e7877d61146407f3d0a770'"}),
    [](const auto& p) { return std::string(p.param.name); });

// §15.3, §15.5 (checklist #82, #83): key and newkey are read as written;
// the session checks them.
TEST(ParseBody, key_and_newkey_are_read_82)
{
    const auto r = ok("<body rid='2' sid='S' key='6f825e81f4532b2c5fa2d12457d8a1f22e8f838e'"
                      " newkey='113F58A37245EC9637266CF2FB6E48BFEAF7964E' "
        + k_ns + "/>");
    EXPECT_EQ(r.key, "6f825e81f4532b2c5fa2d12457d8a1f22e8f838e");
    EXPECT_EQ(r.newkey, "113F58A37245EC9637266CF2FB6E48BFEAF7964E");
    EXPECT_FALSE(ok("<body rid='2' sid='S' " + k_ns + "/>").key);
}

// A 'key' that is no SHA-1 is not a syntax error: it fails the key check in
// the session, which answers item-not-found as §15.3 asks.
TEST(ParseBody, key_in_any_form_is_read_82)
{
    EXPECT_EQ(ok("<body rid='2' sid='S' key='not-a-key' " + k_ns + "/>").key, "not-a-key");
}

// §9.2, §10: ack and pause values.
TEST(ParseBody, ack_and_pause_are_read_53_60)
{
    const auto r = ok("<body rid='5' sid='S' ack='4' pause='60' " + k_ns + "/>");
    EXPECT_EQ(r.ack, 4u);
    EXPECT_EQ(r.pause, 60u);
}

// §16.3 (checklist #85): 'stream' is accepted and ignored.
TEST(ParseBody, stream_attribute_is_ignored_85)
{
    const auto r = ok("<body rid='5' sid='S' stream='s2' to='example.com' " + k_ns + "/>");
    EXPECT_EQ(r.rid, 5u);
    EXPECT_EQ(r.to, "example.com");
}

TEST(ParseBody, wait_zero_is_a_valid_polling_request_12)
{
    EXPECT_EQ(ok("<body rid='1' to='d' wait='0' hold='0' " + k_ns + "/>").wait, 0u);
}

// ---- the <body/> element itself (checklist #13–#15) ---------------------------

class MalformedBody : public ::testing::TestWithParam<BadValue> { };

// §6 (checklist #13–#15, #87): all of these are bad-request, and nothing of
// their content may be forwarded.
TEST_P(MalformedBody, is_bad_request)
{
    const auto f = refused(GetParam().text);
    EXPECT_EQ(f.condition, Condition::bad_request);
}

INSTANTIATE_TEST_SUITE_P(ParseBody, MalformedBody,
    ::testing::Values(
        // #15: root and namespace.
        BadValue {"root_not_body_15", "<foo rid='1' xmlns='http://jabber.org/protocol/httpbind'/>"},
        BadValue {"wrong_namespace_15", "<body rid='1' xmlns='urn:wrong'/>"},
        BadValue {"no_namespace_15", "<body rid='1'/>"},
        BadValue {"prefix_bound_elsewhere_15", "<b:body xmlns:b='urn:wrong' rid='1'/>"},
        BadValue {"undeclared_root_prefix_15", "<b:body rid='1'/>"},
        // #14: restricted XML.
        BadValue {"comment_14",
            "<body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'><!-- x --></body>"},
        BadValue {"comment_in_stanza_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message><!--x--></message></body>"},
        BadValue {"comment_before_root_14",
            "<!-- x --><body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'/>"},
        BadValue {"processing_instruction_14",
            "<body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'><?pi x?></body>"},
        BadValue {"stylesheet_pi_in_prolog_14",
            "<?xml-stylesheet href='x'?><body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'/>"},
        BadValue {"doctype_14",
            "<!DOCTYPE body><body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'/>"},
        BadValue {"internal_dtd_subset_14",
            "<?xml version='1.0'?><!DOCTYPE body [<!ENTITY e 'x'>]><body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message>&e;</message></body>"},
        BadValue {"undeclared_entity_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message>&nbsp;</message></body>"},
        // XML 1.0 WFC Legal Character: a character reference must name a Char.
        BadValue {"char_ref_nul_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message><body>a&#0;b</body></message></"
            "body>"},
        BadValue {"char_ref_control_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message><body>&#x1;</body></message></"
            "body>"},
        BadValue {"char_ref_surrogate_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message><body>&#xD800;</body></message></"
            "body>"},
        BadValue {"char_ref_above_unicode_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message><body>&#x110000;</body></"
            "message></body>"},
        BadValue {"char_ref_overflow_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message><body>&#99999999999;</body></"
            "message></body>"},
        BadValue {"char_ref_uppercase_x_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message><body>&#X41;</body></message></"
            "body>"},
        BadValue {"char_ref_empty_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><message><body>&#x;</body></message></"
            "body>"},
        BadValue {"bare_ampersand_14",
            "<body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'><message>a & "
            "b</message></body>"},
        BadValue {"character_data_14",
            "<body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'>hello</body>"},
        BadValue {"character_data_between_stanzas_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><presence/>hi<presence/></body>"},
        BadValue {"cdata_text_in_body_14",
            "<body rid='1' sid='S' "
            "xmlns='http://jabber.org/protocol/httpbind'><![CDATA[hello]]></body>"},
        // #87: not well-formed.
        BadValue {"truncated_87",
            "<body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'><message>"},
        BadValue {"mismatched_tags_87",
            "<body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'><a></b></body>"},
        BadValue {"empty_input_87", ""},
        BadValue {"second_root_87",
            "<body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'/><body rid='2' "
            "xmlns='http://jabber.org/protocol/httpbind'/>"},
        BadValue {"duplicate_rid_13",
            "<body rid='1' rid='2' sid='S' xmlns='http://jabber.org/protocol/httpbind'/>"},
        BadValue {"duplicate_sid_13",
            "<body rid='1' sid='A' sid='B' xmlns='http://jabber.org/protocol/httpbind'/>"},
        // XEP-0206 §3 (checklist #106): the client never sends a stream header.
        BadValue {"stream_header_106",
            "<body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind' "
            "xmlns:stream='http://etherx.jabber.org/streams'><stream:stream to='example.com' "
            "version='1.0'/></body>"},
        BadValue {"unclosed_stream_header_106",
            "<body rid='1' sid='S' xmlns='http://jabber.org/protocol/httpbind'><stream:stream "
            "xmlns:stream='http://etherx.jabber.org/streams' to='example.com'></body>"},
        // Namespaces: a prefixed attribute needs a declaration.
        BadValue {"undeclared_attribute_prefix",
            "<body rid='1' sid='S' xmpp:restart='true' "
            "xmlns='http://jabber.org/protocol/httpbind'/>"}),
    [](const auto& p) { return std::string(p.param.name); });

// ---- restart (XEP-0206 §5, checklist #107, #109) -------------------------------

TEST(ParseBody, restart_with_xmpp_prefix_is_detected_107)
{
    const auto r = ok("<body rid='4' sid='S' to='example.com' xml:lang='en' xmpp:restart='true' "
        + k_xb + " " + k_ns + "/>");
    EXPECT_TRUE(r.restart);
}

// checklist #109: the attribute is identified by namespace, not by the literal prefix.
TEST(ParseBody, restart_with_any_prefix_bound_to_xbosh_is_detected_109)
{
    const auto r
        = ok("<body rid='4' sid='S' x:restart='true' x:version='1.0' xmlns:x='urn:xmpp:xbosh' "
            + k_ns + "/>");
    EXPECT_TRUE(r.restart);
    EXPECT_EQ(r.xmpp_version, "1.0");
}

TEST(ParseBody, restart_with_xmpp_prefix_bound_elsewhere_is_not_a_restart_109)
{
    const auto r = ok(
        "<body rid='4' sid='S' xmpp:restart='true' xmpp:version='9.9' xmlns:xmpp='urn:not-xbosh' "
        + k_ns + "/>");
    EXPECT_FALSE(r.restart);
    EXPECT_FALSE(r.xmpp_version);
}

TEST(ParseBody, unprefixed_restart_attribute_is_not_a_restart_109)
{
    EXPECT_FALSE(ok("<body rid='4' sid='S' restart='true' " + k_ns + "/>").restart);
}

TEST(ParseBody, restart_false_is_not_a_restart)
{
    EXPECT_FALSE(
        ok("<body rid='4' sid='S' xmpp:restart='false' " + k_xb + " " + k_ns + "/>").restart);
}

// ---- payload serialization ------------------------------------------------------

// XEP-0206 §2 (checklist #105): an unqualified stanza stays unqualified, so it
// becomes jabber:client on the upstream stream; it must not pick up httpbind.
TEST(ParseBody, unqualified_stanza_is_not_given_the_httpbind_namespace_105)
{
    const auto r = ok("<body rid='2' sid='S' " + k_ns
        + "><message to='b@example.com'><body>x</body></message></body>");
    ASSERT_EQ(r.payloads.size(), 1u);
    EXPECT_EQ(r.payloads[0].find("httpbind"), std::string::npos) << r.payloads[0];
    Standalone p;
    load(p, r.payloads[0]);
    ASSERT_TRUE(p.ok);
    EXPECT_STREQ(p.root.name(), "message");
    EXPECT_STREQ(p.root.child("body").text().get(), "x");
}

TEST(ParseBody, explicit_payload_namespace_is_kept)
{
    const auto r = ok("<body rid='2' sid='S' " + k_ns
        + "><iq xmlns='jabber:client' type='set' id='b1'>"
          "<bind "
          "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq></body>");
    ASSERT_EQ(r.payloads.size(), 1u);
    Standalone p;
    load(p, r.payloads[0]);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(element_ns(p.root), "jabber:client");
    EXPECT_EQ(element_ns(p.root.child("bind")), "urn:ietf:params:xml:ns:xmpp-bind");
}

// A stanza whose prefix is declared on <body/> must carry the declaration
// itself once it is cut out of the body.
TEST(ParseBody, payload_keeps_its_prefix_declared_on_body)
{
    const auto r = ok("<body rid='2' sid='S' xmlns:j='jabber:client' " + k_ns
        + "><j:message to='b@example.com'/></body>");
    ASSERT_EQ(r.payloads.size(), 1u);
    Standalone p;
    load(p, r.payloads[0]);
    ASSERT_TRUE(p.ok);
    EXPECT_STREQ(p.root.name(), "j:message");
    EXPECT_EQ(element_ns(p.root), "jabber:client") << r.payloads[0];
}

// The same for a prefix used only by a descendant of the stanza.
TEST(ParseBody, payload_descendant_keeps_prefix_declared_on_body)
{
    const auto r = ok("<body rid='2' sid='S' xmlns:c='http://jabber.org/protocol/chatstates' "
        + k_ns + "><message to='b@example.com'><c:active/></message></body>");
    ASSERT_EQ(r.payloads.size(), 1u);
    Standalone p;
    load(p, r.payloads[0]);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(element_ns(p.root.child("c:active")), "http://jabber.org/protocol/chatstates")
        << r.payloads[0];
}

// The same for a prefixed attribute on the stanza.
TEST(ParseBody, payload_attribute_keeps_prefix_declared_on_body)
{
    const auto r = ok("<body rid='2' sid='S' xmlns:e='urn:example:ext' " + k_ns
        + "><message to='b@example.com' e:flag='1'/></body>");
    ASSERT_EQ(r.payloads.size(), 1u);
    Standalone p;
    load(p, r.payloads[0]);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(namespace_of(p.root, "e"), "urn:example:ext") << r.payloads[0];
}

// A stanza that declares its own prefix keeps its own binding (no duplicate
// declaration, which would not be well-formed).
TEST(ParseBody, payload_own_prefix_declaration_wins_over_body)
{
    const auto r = ok("<body rid='2' sid='S' xmlns:j='urn:other' " + k_ns
        + "><j:message xmlns:j='jabber:client'/></body>");
    ASSERT_EQ(r.payloads.size(), 1u);
    Standalone p;
    load(p, r.payloads[0]);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(element_ns(p.root), "jabber:client");
    int declarations = 0;
    for (auto a : p.root.attributes())
        declarations += std::string_view(a.name()) == "xmlns:j";
    EXPECT_EQ(declarations, 1) << r.payloads[0];
}

// The xml prefix is predefined: xml:lang on a stanza passes through unchanged
// and is never "declared".
TEST(ParseBody, payload_xml_lang_passes_through_undeclared)
{
    const auto r = ok("<body rid='2' sid='S' " + k_ns
        + "><message xml:lang='de'><body>Hallo</body></message></body>");
    ASSERT_EQ(r.payloads.size(), 1u);
    EXPECT_EQ(r.payloads[0].find("xmlns:xml"), std::string::npos) << r.payloads[0];
    Standalone p;
    load(p, r.payloads[0]);
    ASSERT_TRUE(p.ok);
    EXPECT_STREQ(p.root.attribute("xml:lang").value(), "de");
}

// Limits on every input (STYLE rule 8): a deeply nested payload is parsed and
// serialized without recursion, so it cannot exhaust the stack.
TEST(ParseBody, deeply_nested_payload_does_not_exhaust_the_stack)
{
    constexpr int depth = 200000;
    std::string xml
        = "<body rid='2' sid='S' xmlns:x='urn:x' xmlns='http://jabber.org/protocol/httpbind'>";
    for (int i = 0; i < depth; ++i)
        xml += "<x:a>";
    for (int i = 0; i < depth; ++i)
        xml += "</x:a>";
    xml += "</body>";
    const auto r = parse_body(xml);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->payloads.size(), 1u);
    EXPECT_EQ(r->payloads[0].find("<x:a xmlns:x=\"urn:x\">"), 0u) << r->payloads[0].substr(0, 80);
}

// ---- ver (§7.1, checklist #23) ---------------------------------------------------

TEST(Version, minor_is_compared_as_an_integer_23)
{
    const auto v110 = parse_version("1.10");
    const auto v11 = parse_version("1.1");
    const auto v19 = parse_version("1.9");
    ASSERT_TRUE(v110 && v11 && v19);
    EXPECT_EQ(*v110, (Version {1, 10}));
    EXPECT_EQ(*v11, (Version {1, 1}));
    EXPECT_NE(*v110, *v11);
    EXPECT_GT(*v110, *v19);
    EXPECT_LT(*v19, k_our_version);
    EXPECT_GT((Version {2, 0}), (Version {1, 99}));
}

TEST(Version, round_trips_through_to_string_23)
{
    EXPECT_EQ(to_string(Version {1, 10}), "1.10");
    EXPECT_EQ(to_string(Version {1, 6}), "1.6");
    EXPECT_EQ(to_string(*parse_version("1.11")), "1.11");
}

TEST(Version, malformed_versions_are_rejected)
{
    for (const char* s : {"", "1", "1.", ".6", "a.b", "1.6.1", "1,6", "-1.6", "1.-6", " 1.6"})
        EXPECT_FALSE(parse_version(s)) << '"' << s << '"';
}

TEST(ParseBody, ver_1_10_is_not_read_as_1_1_23)
{
    EXPECT_EQ(ok("<body rid='1' to='d' ver='1.10' " + k_ns + "/>").ver, (Version {1, 10}));
}

// ---- responses (checklist #13, #39) ------------------------------------------------

TEST(ResponseBuilder, empty_response_is_an_empty_body_in_httpbind_13)
{
    const std::string out = ResponseBuilder().build();
    EXPECT_EQ(out, "<body xmlns='http://jabber.org/protocol/httpbind'/>");
}

TEST(ResponseBuilder, attribute_values_are_escaped_13)
{
    const std::string nasty = "a'b\"c<d>e&f";
    const std::string out = ResponseBuilder().attr("from", nasty).build();
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(out.c_str())) << out;
    EXPECT_EQ(doc.document_element().attribute("from").value(), nasty);
}

TEST(ResponseBuilder, payloads_are_written_in_order_inside_body)
{
    const std::string out
        = ResponseBuilder().payload("<message id='1'/>").payload("<message id='2'/>").build();
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(out.c_str())) << out;
    const auto body = doc.document_element();
    EXPECT_EQ(element_ns(body), k_ns_httpbind);
    EXPECT_STREQ(body.first_child().attribute("id").value(), "1");
    EXPECT_STREQ(body.last_child().attribute("id").value(), "2");
}

// XEP-0206 §2 (checklist #39): stream:features resolves through the body's declaration.
TEST(ResponseBuilder, declared_stream_namespace_resolves_features_39)
{
    const std::string out
        = ResponseBuilder()
              .declare_stream_ns()
              .payload("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                       "</stream:features>")
              .build();
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(out.c_str())) << out;
    const auto features = doc.document_element().first_child();
    EXPECT_EQ(element_ns(features), k_ns_streams) << out;
}

TEST(ResponseBuilder, stream_namespace_is_not_declared_unless_asked)
{
    EXPECT_EQ(
        ResponseBuilder().attr("type", "error").build().find("xmlns:stream"), std::string::npos);
}

// §17.2: terminal binding conditions.
TEST(TerminateBody, carries_type_and_condition_17_2)
{
    const std::string out = terminate_body(Condition::item_not_found);
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(out.c_str())) << out;
    const auto body = doc.document_element();
    EXPECT_STREQ(body.name(), "body");
    EXPECT_EQ(element_ns(body), k_ns_httpbind);
    EXPECT_STREQ(body.attribute("type").value(), "terminate");
    EXPECT_STREQ(body.attribute("condition").value(), "item-not-found");
    EXPECT_FALSE(body.first_child());
    EXPECT_EQ(out.find("xmlns:stream"), std::string::npos);
}

// XEP-0206 §6 (checklist #96, #39): stanzas first, then the full
// stream:error, with xmlns:stream declared on the body.
TEST(TerminateBody, remote_stream_error_declares_stream_namespace_96)
{
    const std::string out = terminate_body(Condition::remote_stream_error,
        {"<message xmlns='jabber:client' id='last'/>",
            "<stream:error><conflict "
            "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"});
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(out.c_str())) << out;
    const auto body = doc.document_element();
    EXPECT_STREQ(body.attribute("condition").value(), "remote-stream-error");
    EXPECT_STREQ(body.first_child().name(), "message");
    const auto err = body.last_child();
    EXPECT_STREQ(err.name(), "stream:error");
    EXPECT_EQ(element_ns(err), k_ns_streams) << out;
    EXPECT_EQ(element_ns(err.first_child()), "urn:ietf:params:xml:ns:xmpp-streams");
}

}  // namespace
}  // namespace bosun::bosh
