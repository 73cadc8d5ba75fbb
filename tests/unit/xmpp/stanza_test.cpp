#include "xmpp/stanza.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "xmpp/framer.hpp"

namespace bosun::xmpp {
namespace {

const std::string header_xml
    = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "from='example.org' version='1.0'>";

// Real framer output, so the helpers are tested on what they will be given.
std::vector<FramerEvent> frame(const std::string& bytes)
{
    Framer f(64 * 1024);
    std::vector<FramerEvent> events;
    EXPECT_EQ(f.feed(bytes, events), FramerError::none);
    return events;
}

Element element(const std::string& xml)
{
    auto events = frame(header_xml + xml);
    EXPECT_EQ(events.size(), 2u);
    return events.size() == 2 ? events[1].element : Element {};
}

StreamHeader header(const std::string& xml = header_xml)
{
    auto events = frame(xml);
    EXPECT_FALSE(events.empty());
    return events.empty() ? StreamHeader {} : events[0].header;
}

TEST(Stanza, unprefixed_stanza_without_xmlns_gets_jabber_client)
{
    Element e = element("<message to='romeo@example.org'><body>hi</body></message>");
    EXPECT_EQ(with_default_namespace(e, jabber_client_namespace),
        "<message xmlns='jabber:client' to='romeo@example.org'><body>hi</body></message>");
}

TEST(Stanza, self_closing_stanza_gets_xmlns_before_the_slash)
{
    Element e = element("<presence/>");
    EXPECT_EQ(with_default_namespace(e, "jabber:client"), "<presence xmlns='jabber:client'/>");
}

TEST(Stanza, stanza_with_own_xmlns_is_unchanged)
{
    Element e = element("<iq xmlns='jabber:client' type='get'/>");
    EXPECT_EQ(with_default_namespace(e, "jabber:client"), e.xml);
    Element sasl = element("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    EXPECT_EQ(with_default_namespace(sasl, "jabber:client"), sasl.xml);
}

TEST(Stanza, prefixed_element_is_unchanged)
{
    Element e = element("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
                        "</stream:features>");
    EXPECT_EQ(with_default_namespace(e, "jabber:client"), e.xml);
}

TEST(Stanza, child_xmlns_does_not_count_as_the_stanzas_own)
{
    Element e = element("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>");
    EXPECT_EQ(with_default_namespace(e, "jabber:client"),
        "<iq xmlns='jabber:client' type='get'><query xmlns='jabber:iq:roster'/></iq>");
}

TEST(Stanza, inserted_namespace_is_escaped)
{
    Element e = element("<a/>");
    EXPECT_EQ(with_default_namespace(e, "x'&<"), "<a xmlns='x&apos;&amp;&lt;'/>");
}

TEST(Stanza, stream_features_and_error_are_stream_elements)
{
    StreamHeader h = header();
    EXPECT_TRUE(is_stream_element(h, element("<stream:features/>"), "features"));
    EXPECT_TRUE(is_stream_element(h,
        element("<stream:error><conflict "
                "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                "</stream:error>"),
        "error"));
}

TEST(Stanza, wrong_local_name_is_not_the_stream_element)
{
    StreamHeader h = header();
    EXPECT_FALSE(is_stream_element(h, element("<stream:features/>"), "error"));
    EXPECT_FALSE(is_stream_element(h, element("<stream:errors/>"), "error"));
}

TEST(Stanza, stanza_in_jabber_client_is_not_a_stream_element)
{
    StreamHeader h = header();
    EXPECT_FALSE(is_stream_element(h, element("<error/>"), "error"));
    EXPECT_FALSE(is_stream_element(h, element("<message/>"), "message"));
}

TEST(Stanza, any_prefix_bound_to_the_streams_namespace_is_recognised)
{
    StreamHeader h = header("<s:stream xmlns='jabber:client' "
                            "xmlns:s='http://etherx.jabber.org/streams'>");
    Framer f(4096);
    std::vector<FramerEvent> events;
    ASSERT_EQ(f.feed("<s:stream xmlns:s='http://etherx.jabber.org/streams'><s:error/>"
                     "<stream:error xmlns:stream='urn:other'/>",
                  events),
        FramerError::none);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_TRUE(is_stream_element(h, events[1].element, "error"));
    EXPECT_FALSE(is_stream_element(h, events[2].element, "error"));
}

TEST(Stanza, element_may_bind_the_streams_namespace_itself)
{
    StreamHeader h = header();
    EXPECT_TRUE(is_stream_element(
        h, element("<features xmlns='http://etherx.jabber.org/streams'/>"), "features"));
    EXPECT_TRUE(is_stream_element(
        h, element("<x:error xmlns:x='http://etherx.jabber.org/streams'/>"), "error"));
}

TEST(Stanza, start_tag_attributes_are_unescaped_in_order)
{
    auto attrs = start_tag_attributes("<message to = \"a&amp;b\" id='&#x31;&#50;&lt;'>"
                                      "<body x='no'/></message>");
    std::vector<std::pair<std::string, std::string>> want = {{"to", "a&b"}, {"id", "12<"}};
    EXPECT_EQ(attrs, want);
}

TEST(Stanza, start_tag_attributes_of_empty_or_bare_tag_are_empty)
{
    EXPECT_TRUE(start_tag_attributes("").empty());
    EXPECT_TRUE(start_tag_attributes("<a/>").empty());
    EXPECT_TRUE(start_tag_attributes("<a>").empty());
    EXPECT_TRUE(start_tag_attributes("not xml").empty());
}

TEST(Stanza, start_tag_attribute_values_are_normalized)
{
    auto attrs = start_tag_attributes("<a v='x\r\ny\tz\nw' r='&#10;'/>");
    ASSERT_EQ(attrs.size(), 2u);
    EXPECT_EQ(attrs[0].second, "x y z w");  // XML 1.0 §2.11, §3.3.3
    EXPECT_EQ(attrs[1].second, "\n");  // references are not normalized
}

}  // namespace
}  // namespace bosun::xmpp
