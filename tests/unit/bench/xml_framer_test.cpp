#include "xml_framer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bosun::bench {
namespace {

constexpr std::string_view header
    = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

std::vector<std::string> drain(XmlFramer& f)
{
    std::vector<std::string> out;
    while (auto s = f.next())
        out.push_back(*s);
    return out;
}

TEST(XmlFramer, splits_top_level_stanzas_after_the_stream_header)
{
    XmlFramer f;
    f.feed(header);
    f.feed(
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
        "</stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    const auto got = drain(f);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0],
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
        "</stream:features>");
    EXPECT_EQ(got[1], "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    EXPECT_TRUE(f.opened());
    EXPECT_FALSE(f.closed());
}

TEST(XmlFramer, same_stanzas_whatever_the_read_boundaries)
{
    const std::string input = std::string(header)
        + "<message to='a@b' id=\"x>y\"><body>1 &lt; 2</body><!-- a > b --></message>\n"
          "<iq type='result' id='r1'><query xmlns='jabber:iq:roster'><![CDATA[</iq>]]></query></iq>"
          "<presence/>";
    XmlFramer whole;
    whole.feed(input);
    const auto expected = drain(whole);
    ASSERT_EQ(expected.size(), 3u);
    EXPECT_EQ(expected[2], "<presence/>");
    for (std::size_t cut = 1; cut < input.size(); ++cut) {
        XmlFramer f;
        f.feed(input.substr(0, cut));
        auto got = drain(f);
        f.feed(input.substr(cut));
        for (auto& s : drain(f))
            got.push_back(s);
        EXPECT_EQ(got, expected) << "cut at " << cut;
    }
}

TEST(XmlFramer, stream_end_is_reported_as_closed)
{
    XmlFramer f;
    f.feed(header);
    f.feed("<presence/></stream:stream>");
    EXPECT_EQ(drain(f).size(), 1u);
    EXPECT_TRUE(f.closed());
    EXPECT_FALSE(f.failed());
}

TEST(XmlFramer, a_stanza_over_the_limit_fails_instead_of_growing)
{
    XmlFramer f(1024);
    f.feed(header);
    f.feed("<message><body>");
    f.feed(std::string(2048, 'x'));
    EXPECT_FALSE(f.next());
    EXPECT_TRUE(f.failed());
}

TEST(XmlFramer, reset_starts_a_new_stream)
{
    XmlFramer f;
    f.feed(header);
    f.feed("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    EXPECT_EQ(drain(f).size(), 1u);
    f.reset();
    EXPECT_FALSE(f.opened());
    f.feed(header);
    f.feed("<stream:features/>");
    const auto got = drain(f);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], "<stream:features/>");
}

}  // namespace
}  // namespace bosun::bench
