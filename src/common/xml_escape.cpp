#include "common/xml_escape.hpp"

namespace bosun {

void append_xml_escaped(std::string& out, std::string_view text)
{
    for (char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '\'':
            out += "&apos;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
}

std::string xml_escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    append_xml_escaped(out, text);
    return out;
}

}  // namespace bosun
