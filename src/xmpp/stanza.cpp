#include "xmpp/stanza.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace bosun::xmpp {
namespace {

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The framer accepts any non-ASCII byte in a name, so this scanner does too.
bool is_name_char(char c)
{
    auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_'
        || u == ':' || u == '-' || u == '.' || u >= 0x80;
}

std::size_t skip_space(std::string_view s, std::size_t i)
{
    while (i < s.size() && is_space(s[i]))
        ++i;
    return i;
}

std::size_t skip_name(std::string_view s, std::size_t i)
{
    while (i < s.size() && is_name_char(s[i]))
        ++i;
    return i;
}

void append_utf8(char32_t cp, std::string& out)
{
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// XML 1.0 §4.6: the five predefined entities. RFC 6120 §11.1 allows no others.
std::optional<char> predefined_entity(std::string_view name)
{
    if (name == "amp")
        return '&';
    if (name == "lt")
        return '<';
    if (name == "gt")
        return '>';
    if (name == "quot")
        return '"';
    if (name == "apos")
        return '\'';
    return std::nullopt;
}

std::optional<char32_t> char_reference(std::string_view body)
{
    bool hex = body.size() > 1 && body[1] == 'x';
    std::string_view digits = body.substr(hex ? 2 : 1);
    std::uint32_t value = 0;
    auto [end, ec]
        = std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 10);
    if (ec != std::errc {} || end != digits.data() + digits.size() || value > 0x10FFFF)
        return std::nullopt;
    return static_cast<char32_t>(value);
}

// Appends the reference starting at raw[i] ('&') and returns the index after
// it. The framer has validated references; anything else is copied as is.
std::size_t append_reference(std::string_view raw, std::size_t i, std::string& out)
{
    std::size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos) {
        out.push_back('&');
        return i + 1;
    }
    std::string_view body = raw.substr(i + 1, semi - i - 1);
    if (!body.empty() && body[0] == '#') {
        if (auto cp = char_reference(body)) {
            append_utf8(*cp, out);
            return semi + 1;
        }
    } else if (auto c = predefined_entity(body)) {
        out.push_back(*c);
        return semi + 1;
    }
    out.append(raw.substr(i, semi + 1 - i));
    return semi + 1;
}

// XML 1.0 §2.11 and §3.3.3: a literal CR LF, CR, LF or tab in an attribute
// value reads as one space; character references are not normalized.
std::string unescape_attribute(std::string_view raw)
{
    std::string out;
    out.reserve(raw.size());
    std::size_t i = 0;
    while (i < raw.size()) {
        char c = raw[i];
        if (c == '&') {
            i = append_reference(raw, i, out);
            continue;
        }
        if (c == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n')
            ++i;
        out.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
        ++i;
    }
    return out;
}

// Reads one `name = 'value'` at raw[i]; returns the index after it, or npos
// when the start tag has no more attributes.
std::size_t read_attribute(
    std::string_view xml, std::size_t i, std::vector<std::pair<std::string, std::string>>& attrs)
{
    std::size_t name_end = skip_name(xml, i);
    if (name_end == i)
        return std::string_view::npos;
    std::size_t q = skip_space(xml, name_end);
    if (q >= xml.size() || xml[q] != '=')
        return std::string_view::npos;
    q = skip_space(xml, q + 1);
    if (q >= xml.size() || (xml[q] != '\'' && xml[q] != '"'))
        return std::string_view::npos;
    std::size_t close = xml.find(xml[q], q + 1);
    if (close == std::string_view::npos)
        return std::string_view::npos;
    attrs.emplace_back(std::string(xml.substr(i, name_end - i)),
        unescape_attribute(xml.substr(q + 1, close - q - 1)));
    return close + 1;
}

std::string escape_attribute(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '\'')
            out += "&apos;";
        else
            out.push_back(c);
    }
    return out;
}

// The namespace bound to `prefix` ("" = the default namespace) as seen by a
// top-level element: its own declarations first, then the stream header's.
std::string namespace_of(const StreamHeader& header, const Element& e, std::string_view prefix)
{
    std::string decl = prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
    for (auto& [name, value] : start_tag_attributes(e.xml)) {
        if (name == decl)
            return value;
    }
    return std::string(header.attr(decl));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> start_tag_attributes(std::string_view xml)
{
    std::vector<std::pair<std::string, std::string>> attrs;
    if (xml.empty() || xml[0] != '<')
        return attrs;
    std::size_t i = skip_name(xml, 1);
    while (i != std::string_view::npos && i < xml.size()) {
        i = read_attribute(xml, skip_space(xml, i), attrs);
    }
    return attrs;
}

std::string with_default_namespace(const Element& e, std::string_view ns)
{
    // XEP-0206 §2 / checklist #105: only an unprefixed element without its own
    // xmlns inherits jabber:client from the stream and needs it spelled out.
    bool prefixed = e.qname.find(':') != std::string::npos;
    bool starts_with_name = e.xml.size() > e.qname.size() && e.xml[0] == '<'
        && std::string_view(e.xml).substr(1, e.qname.size()) == e.qname;
    if (e.has_xmlns || prefixed || e.qname.empty() || !starts_with_name)
        return e.xml;
    std::string out;
    std::string value = escape_attribute(ns);
    out.reserve(e.xml.size() + value.size() + 9);
    out.append(e.xml, 0, 1 + e.qname.size());
    out.append(" xmlns='").append(value).append("'");
    out.append(e.xml, 1 + e.qname.size());
    return out;
}

bool is_stream_element(const StreamHeader& header, const Element& e, std::string_view local)
{
    std::string_view qname = e.qname;
    std::size_t colon = qname.find(':');
    std::string_view prefix = colon == std::string_view::npos ? "" : qname.substr(0, colon);
    std::string_view name = colon == std::string_view::npos ? qname : qname.substr(colon + 1);
    if (name != local)
        return false;
    // RFC 6120 §4.8.1: stream-level elements are qualified by the streams
    // namespace, whatever prefix the server bound to it.
    return namespace_of(header, e, prefix) == streams_namespace;
}

}  // namespace bosun::xmpp
