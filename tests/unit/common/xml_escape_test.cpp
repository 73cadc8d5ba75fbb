#include "common/xml_escape.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bosun {
namespace {

TEST(XmlEscape, the_five_special_characters_become_entity_references)
{
    EXPECT_EQ(xml_escape("<>&'\""), "&lt;&gt;&amp;&apos;&quot;");
    EXPECT_EQ(xml_escape("a<b>c&d'e\"f"), "a&lt;b&gt;c&amp;d&apos;e&quot;f");
}

TEST(XmlEscape, other_text_passes_unchanged)
{
    EXPECT_EQ(xml_escape(""), "");
    EXPECT_EQ(xml_escape("plain text"), "plain text");
    EXPECT_EQ(xml_escape("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93");  // UTF-8 as is
    EXPECT_EQ(xml_escape(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(XmlEscape, an_entity_is_escaped_again_not_kept)
{
    EXPECT_EQ(xml_escape("&amp;"), "&amp;amp;");
}

TEST(XmlEscape, append_keeps_what_is_already_there)
{
    std::string out = "<x a='";
    append_xml_escaped(out, "it's <b>");
    out += "'/>";
    EXPECT_EQ(out, "<x a='it&apos;s &lt;b&gt;'/>");
}

}  // namespace
}  // namespace bosun
