#include "xmpp/framer.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::xmpp {
namespace {

using Kind = FramerEvent::Kind;

// Heap bytes in use (glibc), so a test can see whether the framer gives
// its buffer back; a few freed chunks cached by malloc still count.
long long live_heap_bytes()
{
    struct mallinfo2 mi = mallinfo2();
    return static_cast<long long>(mi.uordblks + mi.hblkhd);
}
constexpr std::size_t big_limit = 64 * 1024;

// A Prosody 0.12 client stream, as on the wire, plus what a busy server adds:
// keepalives, a multi-byte body, references, CDATA and quoted '>' and '/'.
const std::string prosody_header
    = "<?xml version='1.0'?>"
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "id='6e1a7f3c-2b8d-4c1e-9f0a-5d3b2c1e0f9a' from='example.org' version='1.0' "
      "xml:lang='en'>";
const std::string prosody_features
    = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
      "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>"
      "<mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const std::string prosody_message
    = "<message from='juliet@example.org/balcony' to='romeo@example.org' type='chat' "
      "id=\"m&amp;1\" xml:lang='en'><body>h\xC3\xA9llo \xE2\x98\x83 \xF0\x9D\x84\x9E &amp; &lt;3 "
      "&#x1F600;&#233;</body><x a='1&gt;0' b=\"x/y>z\"/><x><x/></x></message>";
const std::string prosody_iq
    = "<iq type='result' id='q1' xmlns='jabber:client'><query xmlns='jabber:iq:private'><data>"
      "<![CDATA[<not-a-tag attr='x'/> ]] ]> </data> ]]]]></data></query></iq>";
const std::string prosody_presence = "<presence from='juliet@example.org/balcony'/>";
const std::string prosody_error
    = "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
      "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Replaced by new "
      "connection</text></stream:error>";
const std::string prosody_transcript = prosody_header + "\n" + prosody_features + prosody_message
    + " \n\t " + prosody_iq + "\n" + prosody_presence + prosody_error + "</stream:stream>";

// One line per event, so a mismatch shows which event differs.
std::string dump(const std::vector<FramerEvent>& events)
{
    std::string s;
    for (const auto& ev : events) {
        if (ev.kind == Kind::stream_open) {
            s += "open";
            for (const auto& [name, value] : ev.header.attributes)
                s += " " + name + "=[" + value + "]";
        } else if (ev.kind == Kind::element) {
            s += "element " + ev.element.qname + (ev.element.has_xmlns ? " xmlns " : " - ")
                + ev.element.xml;
        } else {
            s += "close";
        }
        s += "\n";
    }
    return s;
}

struct FeedResult {
    std::vector<FramerEvent> events;
    FramerError error = FramerError::none;
};

FeedResult feed_pieces(const std::vector<std::string_view>& pieces, std::size_t limit = big_limit)
{
    Framer framer(limit);
    FeedResult r;
    for (auto piece : pieces) {
        r.error = framer.feed(piece, r.events);
        if (r.error != FramerError::none)
            break;
    }
    return r;
}

FeedResult feed_whole(std::string_view bytes, std::size_t limit = big_limit)
{
    return feed_pieces({bytes}, limit);
}

FramerError error_of(std::string_view bytes, std::size_t limit = big_limit)
{
    return feed_whole(bytes, limit).error;
}

std::string in_stream(std::string_view body)
{
    return prosody_header + std::string(body);
}

// ---- the transcript, whole and at every split point ----

TEST(Framer, prosody_transcript_whole_yields_header_elements_and_close)
{
    FeedResult r = feed_whole(prosody_transcript);
    ASSERT_EQ(r.error, FramerError::none);
    ASSERT_EQ(r.events.size(), 7u);
    EXPECT_EQ(r.events[0].kind, Kind::stream_open);
    EXPECT_EQ(r.events[1].element.xml, prosody_features);
    EXPECT_EQ(r.events[2].element.xml, prosody_message);
    EXPECT_EQ(r.events[3].element.xml, prosody_iq);
    EXPECT_EQ(r.events[4].element.xml, prosody_presence);
    EXPECT_EQ(r.events[5].element.xml, prosody_error);
    EXPECT_EQ(r.events[6].kind, Kind::stream_close);
    for (int i = 1; i <= 5; ++i)
        EXPECT_EQ(r.events[i].kind, Kind::element) << i;
}

TEST(Framer, element_qnames_and_default_namespace_flags_are_reported)
{
    FeedResult r = feed_whole(prosody_transcript);
    ASSERT_EQ(r.events.size(), 7u);
    EXPECT_EQ(r.events[1].element.qname, "stream:features");
    EXPECT_EQ(r.events[2].element.qname, "message");
    EXPECT_EQ(r.events[3].element.qname, "iq");
    EXPECT_EQ(r.events[4].element.qname, "presence");
    EXPECT_EQ(r.events[5].element.qname, "stream:error");
    EXPECT_FALSE(r.events[1].element.has_xmlns);
    EXPECT_FALSE(r.events[2].element.has_xmlns);  // xmlns only on a child
    EXPECT_TRUE(r.events[3].element.has_xmlns);
    EXPECT_FALSE(r.events[4].element.has_xmlns);
}

TEST(Framer, header_attributes_are_in_order_with_namespace_declarations)
{
    FeedResult r = feed_whole(prosody_header);
    ASSERT_EQ(r.events.size(), 1u);
    const StreamHeader& h = r.events[0].header;
    std::vector<std::pair<std::string, std::string>> want = {
        {"xmlns", "jabber:client"},
        {"xmlns:stream", "http://etherx.jabber.org/streams"},
        {"id", "6e1a7f3c-2b8d-4c1e-9f0a-5d3b2c1e0f9a"},
        {"from", "example.org"},
        {"version", "1.0"},
        {"xml:lang", "en"},
    };
    EXPECT_EQ(h.attributes, want);
    EXPECT_EQ(h.attr("from"), "example.org");
    EXPECT_EQ(h.attr("xmlns:stream"), "http://etherx.jabber.org/streams");
    EXPECT_EQ(h.attr("to"), "");
}

TEST(Framer, header_attribute_values_are_unescaped)
{
    FeedResult r = feed_whole("<stream:stream id=\"a&amp;b&#x41;&#66;&lt;&apos;\" from='x\ty'>");
    ASSERT_EQ(r.error, FramerError::none);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].header.attr("id"), "a&bAB<'");
    EXPECT_EQ(r.events[0].header.attr("from"), "x y");  // XML 1.0 §3.3.3
}

TEST(Framer, transcript_split_in_two_at_every_point_gives_same_events)
{
    std::string_view t = prosody_transcript;
    std::string want = dump(feed_whole(t).events);
    for (std::size_t i = 0; i <= t.size(); ++i) {
        FeedResult r = feed_pieces({t.substr(0, i), t.substr(i)});
        ASSERT_EQ(r.error, FramerError::none) << "split at " << i;
        ASSERT_EQ(dump(r.events), want) << "split at " << i;
    }
}

bool same_event(const FramerEvent& a, const FramerEvent& b)
{
    return a.kind == b.kind && a.header.attributes == b.header.attributes
        && a.element.xml == b.element.xml && a.element.qname == b.element.qname
        && a.element.has_xmlns == b.element.has_xmlns;
}

// `got` are the events after the first `skip` of `want`.
bool same_events_after(
    const std::vector<FramerEvent>& want, std::size_t skip, const std::vector<FramerEvent>& got)
{
    if (skip + got.size() != want.size())
        return false;
    for (std::size_t k = 0; k < got.size(); ++k) {
        if (!same_event(want[skip + k], got[k]))
            return false;
    }
    return true;
}

// ~450,000 splits: each framer copy starts from the first piece, and only the
// events after it are compared, so this stays fast under sanitizers too.
TEST(Framer, transcript_split_in_three_at_every_pair_of_points_gives_same_events)
{
    std::string_view t = prosody_transcript;
    std::vector<FramerEvent> want = feed_whole(t).events;
    for (std::size_t i = 0; i <= t.size(); ++i) {
        Framer head(big_limit);
        std::vector<FramerEvent> head_events;
        ASSERT_EQ(head.feed(t.substr(0, i), head_events), FramerError::none) << i;
        ASSERT_LE(head_events.size(), want.size()) << i;
        ASSERT_TRUE(std::equal(head_events.begin(), head_events.end(), want.begin(), same_event))
            << i;
        for (std::size_t j = i; j <= t.size(); ++j) {
            Framer f = head;
            std::vector<FramerEvent> rest;
            ASSERT_EQ(f.feed(t.substr(i, j - i), rest), FramerError::none) << i << "," << j;
            ASSERT_EQ(f.feed(t.substr(j), rest), FramerError::none) << i << "," << j;
            ASSERT_TRUE(same_events_after(want, head_events.size(), rest))
                << "split at " << i << "," << j << "\n"
                << dump(rest);
        }
    }
}

TEST(Framer, transcript_fed_byte_by_byte_gives_same_events)
{
    std::string_view t = prosody_transcript;
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < t.size(); ++i)
        bytes.push_back(t.substr(i, 1));
    FeedResult r = feed_pieces(bytes);
    ASSERT_EQ(r.error, FramerError::none);
    EXPECT_EQ(dump(r.events), dump(feed_whole(t).events));
}

TEST(Framer, split_utf8_sequence_is_reassembled)
{
    std::string msg = "<message><body>\xF0\x9D\x84\x9E</body></message>";
    std::string s = in_stream(msg);
    std::size_t at = s.find('\xF0');
    for (std::size_t k = 1; k <= 3; ++k) {
        std::string_view v = s;
        FeedResult r = feed_pieces({v.substr(0, at + k), v.substr(at + k)});
        ASSERT_EQ(r.error, FramerError::none) << k;
        ASSERT_EQ(r.events.size(), 2u) << k;
        EXPECT_EQ(r.events[1].element.xml, msg) << k;
    }
}

TEST(Framer, element_is_emitted_as_soon_as_it_completes)
{
    Framer f(big_limit);
    std::vector<FramerEvent> events;
    ASSERT_EQ(f.feed(prosody_header, events), FramerError::none);
    ASSERT_EQ(events.size(), 1u);
    ASSERT_EQ(f.feed("<presence><show>away</show></presence", events), FramerError::none);
    EXPECT_EQ(events.size(), 1u);
    EXPECT_GT(f.buffered(), 0u);
    ASSERT_EQ(f.feed(">", events), FramerError::none);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].element.xml, "<presence><show>away</show></presence>");
    EXPECT_EQ(f.buffered(), 0u);
}

TEST(Framer, nested_element_with_parent_name_does_not_end_the_stanza)
{
    FeedResult r = feed_whole(in_stream("<x><x><x/></x>text</x><y/>"));
    ASSERT_EQ(r.error, FramerError::none);
    ASSERT_EQ(r.events.size(), 3u);
    EXPECT_EQ(r.events[1].element.xml, "<x><x><x/></x>text</x>");
    EXPECT_EQ(r.events[2].element.xml, "<y/>");
}

TEST(Framer, cdata_with_markup_does_not_change_depth)
{
    std::string iq = "<iq><![CDATA[</iq><iq>]]></iq>";
    FeedResult r = feed_whole(in_stream(iq + "<a/>"));
    ASSERT_EQ(r.error, FramerError::none);
    ASSERT_EQ(r.events.size(), 3u);
    EXPECT_EQ(r.events[1].element.xml, iq);
}

TEST(Framer, quoted_gt_and_slash_in_attribute_do_not_end_the_tag)
{
    std::string el = "<a href='x/>y' b=\"/>\"><c d='>'/></a>";
    FeedResult r = feed_whole(in_stream(el));
    ASSERT_EQ(r.error, FramerError::none);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[1].element.xml, el);
}

TEST(Framer, whitespace_keepalives_produce_no_events)
{
    Framer f(big_limit);
    std::vector<FramerEvent> events;
    ASSERT_EQ(f.feed(prosody_header, events), FramerError::none);
    for (int i = 0; i < 100; ++i)
        ASSERT_EQ(f.feed(" \n\t\r", events), FramerError::none);
    EXPECT_EQ(events.size(), 1u);
    EXPECT_EQ(f.buffered(), 0u);
}

TEST(Framer, header_without_xml_declaration_is_accepted)
{
    FeedResult r = feed_whole("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>");
    ASSERT_EQ(r.error, FramerError::none);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].kind, Kind::stream_open);
}

TEST(Framer, end_tags_may_have_trailing_whitespace)
{
    FeedResult r = feed_whole(in_stream("<a></a  ></stream:stream\n>"));
    ASSERT_EQ(r.error, FramerError::none);
    ASSERT_EQ(r.events.size(), 3u);
    EXPECT_EQ(r.events[2].kind, Kind::stream_close);
}

TEST(Framer, stream_close_ends_the_stream)
{
    FeedResult r = feed_whole(in_stream("</stream:stream>"));
    ASSERT_EQ(r.error, FramerError::none);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[1].kind, Kind::stream_close);
}

TEST(Framer, reset_accepts_a_new_stream_header)
{
    Framer f(big_limit);
    std::vector<FramerEvent> events;
    ASSERT_EQ(
        f.feed(prosody_header + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", events),
        FramerError::none);
    ASSERT_EQ(events.size(), 2u);
    f.reset();
    ASSERT_EQ(f.feed(prosody_header + "<stream:features/>", events), FramerError::none);
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[2].kind, Kind::stream_open);
    EXPECT_EQ(events[3].element.qname, "stream:features");
}

TEST(Framer, reset_discards_a_partial_element_and_clears_an_error)
{
    Framer f(big_limit);
    std::vector<FramerEvent> events;
    ASSERT_EQ(f.feed(prosody_header + "<message><bo", events), FramerError::none);
    f.reset();
    EXPECT_EQ(f.buffered(), 0u);
    ASSERT_EQ(f.feed(prosody_header, events), FramerError::none);
    EXPECT_EQ(events.size(), 2u);
    ASSERT_EQ(f.feed("<!--", events), FramerError::restricted_xml);
    f.reset();
    EXPECT_EQ(f.feed(prosody_header, events), FramerError::none);
}

// ---- errors ----

TEST(Framer, error_is_sticky_until_reset)
{
    Framer f(big_limit);
    std::vector<FramerEvent> events;
    ASSERT_EQ(f.feed(prosody_header + "<a></b>", events), FramerError::not_well_formed);
    events.clear();
    EXPECT_EQ(f.feed("<a/>", events), FramerError::not_well_formed);
    EXPECT_TRUE(events.empty());
}

TEST(Framer, events_before_an_error_are_kept)
{
    FeedResult r = feed_whole(in_stream("<a/><b>&bogus;</b>"));
    EXPECT_EQ(r.error, FramerError::restricted_xml);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[1].element.xml, "<a/>");
}

TEST(Framer, mismatched_end_tag_is_not_well_formed)
{
    EXPECT_EQ(error_of(in_stream("<a></b>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<ab></a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a></ab>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a><b></a></b>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("</stream:streams>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("</stream>")), FramerError::not_well_formed);
}

TEST(Framer, text_at_stream_level_is_not_well_formed)
{
    EXPECT_EQ(error_of(in_stream("hello")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a/> x")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("&amp;")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<![CDATA[x]]>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of("hello<stream:stream>"), FramerError::not_well_formed);
}

TEST(Framer, malformed_markup_is_not_well_formed)
{
    EXPECT_EQ(error_of(in_stream("<a b='<'/>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a b='1'c='2'/>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a b/>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a b=1/>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("< a/>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a/ >")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a>&</a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a>&amp </a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a><![CDAT[x]]></a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("</stream:stream><a/>")), FramerError::not_well_formed);
}

TEST(Framer, bad_character_reference_is_not_well_formed)
{
    EXPECT_EQ(error_of(in_stream("<a>&#0;</a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a>&#xD800;</a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a>&#x110000;</a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a>&#99999999999999999999;</a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a>&#x;</a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a>&#12a;</a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a b='&#1;'/>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a>&#x10FFFF;&#0000065;</a>")), FramerError::none);
}

TEST(Framer, control_character_is_not_well_formed)
{
    EXPECT_EQ(error_of(in_stream("<a>\x01</a>")), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream(std::string_view("<a>\0</a>", 8))), FramerError::not_well_formed);
    EXPECT_EQ(error_of(in_stream("<a>\xEF\xBF\xBF</a>")), FramerError::not_well_formed);
}

TEST(Framer, comment_is_restricted_xml)
{
    EXPECT_EQ(error_of(in_stream("<a><!-- hi --></a>")), FramerError::restricted_xml);
    EXPECT_EQ(error_of(in_stream("<!-- hi -->")), FramerError::restricted_xml);
    EXPECT_EQ(
        error_of("<?xml version='1.0'?><!-- hi --><stream:stream>"), FramerError::restricted_xml);
}

TEST(Framer, doctype_and_entity_declarations_are_restricted_xml)
{
    EXPECT_EQ(error_of("<!DOCTYPE stream [<!ENTITY x 'y'>]><stream:stream>"),
        FramerError::restricted_xml);
    EXPECT_EQ(error_of("<?xml version='1.0'?><!DOCTYPE x>"), FramerError::restricted_xml);
    EXPECT_EQ(error_of(in_stream("<a><!ENTITY x 'y'></a>")), FramerError::restricted_xml);
}

TEST(Framer, processing_instructions_other_than_xml_declaration_are_restricted_xml)
{
    EXPECT_EQ(error_of("<?xml-stylesheet href='a'?><stream:stream>"), FramerError::restricted_xml);
    EXPECT_EQ(error_of("<?php x?><stream:stream>"), FramerError::restricted_xml);
    EXPECT_EQ(error_of("<?xml version='1.0'?><?xml version='1.0'?>"), FramerError::restricted_xml);
    EXPECT_EQ(error_of(in_stream("<?xml version='1.0'?>")), FramerError::restricted_xml);
    EXPECT_EQ(error_of(in_stream("<a><?pi x?></a>")), FramerError::restricted_xml);
}

TEST(Framer, undefined_entity_reference_is_restricted_xml)
{
    EXPECT_EQ(error_of(in_stream("<a>&nbsp;</a>")), FramerError::restricted_xml);
    EXPECT_EQ(error_of(in_stream("<a b='&x;'/>")), FramerError::restricted_xml);
    EXPECT_EQ(error_of("<stream:stream id='&foo;'>"), FramerError::restricted_xml);
}

TEST(Framer, invalid_utf8_is_rejected)
{
    const char* bad[] = {
        "\xC0\xAF",  // overlong '/'
        "\xE0\x80\xAF",  // overlong '/', three bytes
        "\xF0\x80\x80\xAF",  // overlong '/', four bytes
        "\xED\xA0\x80",  // surrogate U+D800
        "\xF4\x90\x80\x80",  // U+110000
        "\xF5\x80\x80\x80",  // lead byte beyond U+10FFFF
        "\x80",  // stray continuation byte
        "\xE2\x82x",  // truncated sequence
        "\xFF",
    };
    for (const char* b : bad) {
        std::string s = in_stream("<a>" + std::string(b) + "</a>");
        EXPECT_EQ(error_of(s), FramerError::invalid_utf8) << s;
    }
}

TEST(Framer, invalid_utf8_split_across_reads_is_rejected)
{
    std::string s = in_stream("<a>\xE0\x80\xAF</a>");
    std::size_t at = s.find('\xE0');
    std::string_view v = s;
    FeedResult r = feed_pieces({v.substr(0, at + 1), v.substr(at + 1, 1), v.substr(at + 2)});
    EXPECT_EQ(r.error, FramerError::invalid_utf8);
}

TEST(Framer, largest_valid_code_points_are_accepted)
{
    EXPECT_EQ(error_of(in_stream("<a>\xF4\x8F\xBF\xBF\xED\x9F\xBF\xEE\x80\x80\xC2\x80</a>")),
        FramerError::none);
}

TEST(Framer, stanza_over_the_limit_is_rejected_before_it_ends)
{
    Framer f(100);
    std::vector<FramerEvent> events;
    ASSERT_EQ(f.feed("<stream:stream>", events), FramerError::none);
    ASSERT_EQ(f.feed("<message><body>" + std::string(80, 'x'), events), FramerError::none);
    EXPECT_EQ(f.feed(std::string(10, 'x'), events), FramerError::stanza_too_big);
    EXPECT_EQ(events.size(), 1u);
}

TEST(Framer, stanza_exactly_at_the_limit_is_accepted)
{
    std::string el = "<a>" + std::string(93, 'x') + "</a>";
    ASSERT_EQ(el.size(), 100u);
    FeedResult r = feed_whole("<stream:stream>" + el, 100);
    EXPECT_EQ(r.error, FramerError::none);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(feed_whole("<stream:stream>" + el.substr(0, 3) + "y" + el.substr(3), 100).error,
        FramerError::stanza_too_big);
}

TEST(Framer, limit_applies_to_each_stanza_not_the_stream)
{
    std::string s = "<stream:stream>";
    for (int i = 0; i < 50; ++i)
        s += "<a>" + std::string(90, 'x') + "</a> ";
    FeedResult r = feed_whole(s, 100);
    EXPECT_EQ(r.error, FramerError::none);
    EXPECT_EQ(r.events.size(), 51u);
}

TEST(Framer, oversized_header_is_rejected)
{
    std::string header = "<stream:stream id='" + std::string(200, 'x');
    EXPECT_EQ(error_of(header, 100), FramerError::stanza_too_big);
}

TEST(Framer, stream_error_conditions_follow_rfc6120)
{
    EXPECT_EQ(stream_error_condition(FramerError::not_well_formed), "not-well-formed");
    EXPECT_EQ(stream_error_condition(FramerError::restricted_xml), "restricted-xml");
    EXPECT_EQ(stream_error_condition(FramerError::invalid_utf8), "unsupported-encoding");
    EXPECT_EQ(stream_error_condition(FramerError::stanza_too_big), "policy-violation");
    EXPECT_EQ(stream_error_condition(FramerError::none), "");
}

// ---- cost ----

TEST(Framer, buffer_is_released_after_a_big_element)
{
    Framer f(1024 * 1024);
    std::vector<FramerEvent> events;
    ASSERT_EQ(f.feed(prosody_header, events), FramerError::none);
    events.clear();
    events.shrink_to_fit();
    std::string big = "<message><body>" + std::string(200 * 1024, 'x') + "</body></message>";
    long long before = live_heap_bytes();
    for (std::size_t i = 0; i < big.size(); i += 1000)
        ASSERT_EQ(f.feed(std::string_view(big).substr(i, 1000), events), FramerError::none);
    ASSERT_EQ(events.size(), 1u);
    events.clear();
    events.shrink_to_fit();
    // Sessions are meant to cost <= 16 KiB idle; the element was 200 KiB.
    EXPECT_LE(live_heap_bytes() - before, 16 * 1024);
}

TEST(Framer, idle_framer_is_small)
{
    EXPECT_LE(sizeof(Framer), 256u);
}

// 1 MiB fed a byte at a time: a framer that rescanned its buffer on every
// read would take ~5 * 10^11 steps; this one takes milliseconds. The budget
// is 1000 times what it needs, so slow machines and sanitizers pass.
TEST(Framer, large_stanza_fed_byte_by_byte_takes_linear_time)
{
    std::string big = "<message><body>" + std::string(1024 * 1024, 'x') + "</body></message>";
    Framer f(2 * 1024 * 1024);
    std::vector<FramerEvent> events;
    ASSERT_EQ(f.feed("<stream:stream>", events), FramerError::none);
    auto start = std::chrono::steady_clock::now();
    for (char c : big)
        ASSERT_EQ(f.feed(std::string_view(&c, 1), events), FramerError::none);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].element.xml.size(), big.size());
    EXPECT_LT(elapsed, std::chrono::seconds(10));
}

}  // namespace
}  // namespace bosun::xmpp
