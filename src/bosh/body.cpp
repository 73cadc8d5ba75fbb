#include "bosh/body.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>

#include "bosh/sha1.hpp"
#include "common/xml_escape.hpp"

namespace bosun::bosh {
namespace {

using Result = Expected<BodyRequest, ParseFailure>;

Unexpected<ParseFailure> fail(std::string detail, std::optional<std::string> sid = {})
{
    return unexpected(ParseFailure{Condition::bad_request, std::move(detail), std::move(sid)});
}

template <class T>
std::optional<T> parse_uint(std::string_view s, T max)
{
    if (s.empty() || s.size() > 20 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > static_cast<std::uint64_t>(max))
        return std::nullopt;
    return static_cast<T>(v);
}

// XML 1.0 §2.2 Char.
bool is_xml_char(std::uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
        || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

bool is_predefined_entity(std::string_view ref)
{
    if (ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos")
        return true;
    if (ref.size() < 2 || ref[0] != '#')
        return false;
    // XML 1.0 WFC "Legal Character": a character reference must name a Char.
    // pugixml decodes &#0; to NUL and cuts the text there, silently changing
    // the stanza, so such references are refused (checklist #14).
    const bool hex = ref[1] == 'x';
    const std::string_view digits = ref.substr(hex ? 2 : 1);
    std::uint32_t c = 0;
    const auto [p, ec]
        = std::from_chars(digits.data(), digits.data() + digits.size(), c, hex ? 16 : 10);
    return !digits.empty() && ec == std::errc {} && p == digits.data() + digits.size()
        && is_xml_char(c);
}

// XEP-0124 §6 (checklist #14): no comments, processing instructions, DTDs or
// entity references other than the predefined ones. pugixml would silently
// drop or pass some of these, so they are refused before parsing.
std::optional<std::string> find_restricted_xml(std::string_view t)
{
    // XML 1.0 §4.3.3: a UTF-8 byte order mark may precede the XML
    // declaration; without this the declaration was refused as a PI.
    if (t.starts_with("\xEF\xBB\xBF"))
        t.remove_prefix(3);
    std::size_t i = 0;
    if (t.starts_with("<?xml ") || t.starts_with("<?xml\t") || t.starts_with("<?xml\n")) {
        const auto end = t.find("?>");
        if (end == std::string_view::npos)
            return "unterminated XML declaration";
        i = end + 2;
    }
    for (; i < t.size(); ++i) {
        if (t[i] == '<') {
            const auto rest = t.substr(i);
            if (rest.starts_with("<![CDATA[")) {
                const auto end = t.find("]]>", i);
                if (end == std::string_view::npos)
                    return "unterminated CDATA section";
                i = end + 2;
            } else if (rest.starts_with("<!--")) {
                return "comment";
            } else if (rest.starts_with("<?")) {
                return "processing instruction";
            } else if (rest.starts_with("<!")) {
                return "DTD or declaration";
            }
        } else if (t[i] == '&') {
            const auto semi = t.find(';', i);
            if (semi == std::string_view::npos || !is_predefined_entity(t.substr(i + 1, semi - i - 1)))
                return "entity reference";
        }
    }
    return std::nullopt;
}

std::string_view prefix_of(std::string_view qname)
{
    const auto colon = qname.find(':');
    return colon == std::string_view::npos ? std::string_view{} : qname.substr(0, colon);
}

std::string_view local_of(std::string_view qname)
{
    const auto colon = qname.find(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// Namespace declarations on the <body/> element: prefix ("" = default) -> URI.
std::map<std::string, std::string, std::less<>> namespace_decls(const pugi::xml_node& node)
{
    std::map<std::string, std::string, std::less<>> decls;
    for (const auto& a : node.attributes()) {
        const std::string_view name = a.name();
        if (name == "xmlns")
            decls[""] = a.value();
        else if (name.starts_with("xmlns:"))
            decls[std::string(name.substr(6))] = a.value();
    }
    return decls;
}

struct StringWriter : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
};

// Collects the prefixes used by element and attribute names below a payload
// element (xml and xmlns are predefined). pugixml's traverse is iterative,
// so a deeply nested payload cannot exhaust the stack.
struct PrefixCollector : pugi::xml_tree_walker {
    std::set<std::string, std::less<>> prefixes;
    void add(std::string_view qname)
    {
        const std::string_view p = prefix_of(qname);
        if (!p.empty() && p != "xml" && p != "xmlns")
            prefixes.emplace(p);
    }
    void add_node(const pugi::xml_node& node)
    {
        add(node.name());
        for (const auto& a : node.attributes())
            add(a.name());
    }
    bool for_each(pugi::xml_node& node) override
    {
        if (node.type() == pugi::node_element)
            add_node(node);
        return true;
    }
};

// Serializes one payload element. Every prefix the element or its descendants
// borrow from the <body/> element's declarations is declared on the element
// itself, so the element stands alone on the upstream stream (a prefix used
// only by a child or an attribute used to be lost, leaving the upstream an
// undeclared prefix). A declaration the element makes itself wins.
std::string serialize_payload(pugi::xml_node child, const std::map<std::string, std::string, std::less<>>& decls)
{
    PrefixCollector used;
    used.add_node(child);
    child.traverse(used);
    for (const auto& prefix : used.prefixes) {
        const std::string attr = "xmlns:" + prefix;
        const auto it = decls.find(prefix);
        if (!child.attribute(attr.c_str()) && it != decls.end())
            child.append_attribute(attr.c_str()).set_value(it->second.c_str());
    }
    StringWriter w;
    child.print(w, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
    return std::move(w.out);
}

using Decls = std::map<std::string, std::string, std::less<>>;

// Reads one attribute of <body/> into the request. Returns an error text for
// a malformed value.
std::optional<std::string> read_attribute(std::string_view name, std::string_view value, const Decls& decls, BodyRequest& r)
{
    const std::string_view prefix = prefix_of(name);
    if (!prefix.empty() && prefix != "xml" && prefix != "xmlns") {
        const auto it = decls.find(prefix);
        if (it == decls.end())
            return "undeclared prefix on attribute";
        if (it->second != k_ns_xbosh)
            return std::nullopt;  // foreign extension attribute: ignore (§22 anyAttribute)
        const auto local = local_of(name);
        if (local == "version")
            r.xmpp_version = std::string(value);
        else if (local == "restart")
            r.restart = (value == "true" || value == "1");
        return std::nullopt;
    }
    if (name == "rid") {
        auto v = parse_uint<std::uint64_t>(value, k_max_rid);
        if (!v || *v == 0)
            return "bad rid";
        r.rid = *v;
    } else if (name == "sid") {
        r.sid = std::string(value);
    } else if (name == "to") {
        r.to = std::string(value);
    } else if (name == "from") {
        r.from = std::string(value);
    } else if (name == "route") {
        r.route = std::string(value);
    } else if (name == "xml:lang") {
        r.lang = std::string(value);
    } else if (name == "content") {
        r.content = std::string(value);
    } else if (name == "wait") {
        if (!(r.wait = parse_uint<unsigned>(value, 65535)))
            return "bad wait";
    } else if (name == "hold") {
        if (!(r.hold = parse_uint<unsigned>(value, 255)))
            return "bad hold";
    } else if (name == "ver") {
        if (!(r.ver = parse_version(value)))
            return "bad ver";
    } else if (name == "ack") {
        if (!(r.ack = parse_uint<std::uint64_t>(value, k_max_rid)))
            return "bad ack";
    } else if (name == "pause") {
        if (!(r.pause = parse_uint<unsigned>(value, 65535)))
            return "bad pause";
    } else if (name == "key") {
        r.key = std::string(value);
    } else if (name == "newkey") {
        // §15.2: K(n) is hex(SHA-1(…)); no key could ever hash to anything else.
        if (!is_sha1_hex(value))
            return "bad newkey";
        r.newkey = std::string(value);
    } else if (name == "type") {
        r.terminate = (value == "terminate");
    } else if (name == "condition") {
        r.condition = std::string(value);
    }
    // Anything else (secure, stream, hold-over legacy attributes) is
    // accepted and ignored (checklist #28, #85): multiple streams (§16) are
    // not offered, so 'stream' and a mid-session 'to' mean nothing.
    return std::nullopt;
}

// Attribute names already seen on <body/>. A body has a handful: they are
// compared in a small array, with no allocation per request (W2 cost per
// message, docs/benchmarks.md); a set takes any beyond, so a body with
// thousands of attributes costs no quadratic scan.
class SeenNames {
public:
    bool insert(std::string_view name)
    {
        const auto few_end = few_.begin() + static_cast<std::ptrdiff_t>(count_);
        if (std::find(few_.begin(), few_end, name) != few_end)
            return false;
        if (count_ < few_.size()) {
            few_[count_++] = name;
            return true;
        }
        return many_.insert(name).second;
    }

private:
    std::array<std::string_view, 16> few_ {};
    std::size_t count_ = 0;
    std::set<std::string_view> many_;
};

std::optional<std::string> read_attributes(const pugi::xml_node& root, const Decls& decls, BodyRequest& r)
{
    bool has_rid = false;
    SeenNames seen;
    for (const auto& a : root.attributes()) {
        const std::string_view name = a.name();
        // XML 1.0 WFC "Unique Att Spec" (checklist #13/#15): pugixml does not
        // check it, and with two sids ParseFailure::sid (the first) and
        // BodyRequest::sid (the last) would name different sessions.
        if (!seen.insert(name))
            return "duplicate attribute";
        if (name == "xmlns" || name.starts_with("xmlns:"))
            continue;
        has_rid = has_rid || name == "rid";
        if (auto err = read_attribute(name, a.value(), decls, r))
            return err;
    }
    if (!has_rid)
        return "missing rid";  // §6 (checklist #15)
    return std::nullopt;
}

std::optional<std::string> read_payloads(const pugi::xml_node& root, const Decls& decls, BodyRequest& r)
{
    for (pugi::xml_node child = root.first_child(); child; child = child.next_sibling()) {
        if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
            const std::string_view text = child.value();
            if (text.find_first_not_of(" \t\r\n") != std::string_view::npos)
                return "character data in body";  // §6 (checklist #14)
            continue;
        }
        if (child.type() != pugi::node_element)
            return "unexpected node in body";
        // XEP-0206 §3 (checklist #106): the client never sends a stream header.
        if (local_of(child.name()) == "stream")
            return "stream header in body";
        r.payloads.push_back(serialize_payload(child, decls));
    }
    return std::nullopt;
}

bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The sid on the root start tag of a request that could not be parsed, read
// without an XML parser: a malformed request that names a session ends that
// session with bad-request (§17.2, checklist #14, #87) instead of leaving it
// alive. Only a complete start tag counts.
std::optional<std::string> sniff_sid(std::string_view text)
{
    std::size_t i = 0;
    if (text.starts_with("<?xml")) {
        const auto end = text.find("?>");
        if (end == std::string_view::npos)
            return std::nullopt;
        i = end + 2;
    }
    while (i < text.size() && is_xml_space(text[i]))
        ++i;
    if (i + 1 >= text.size() || text[i] != '<' || text[i + 1] == '!' || text[i + 1] == '?')
        return std::nullopt;
    ++i;
    while (i < text.size() && !is_xml_space(text[i]) && text[i] != '>' && text[i] != '/')
        ++i;  // the element name
    for (;;) {
        while (i < text.size() && is_xml_space(text[i]))
            ++i;
        if (i >= text.size() || text[i] == '>' || text[i] == '/')
            return std::nullopt;
        const std::size_t name_start = i;
        while (i < text.size() && !is_xml_space(text[i]) && text[i] != '=' && text[i] != '>')
            ++i;
        const std::string_view name = text.substr(name_start, i - name_start);
        while (i < text.size() && is_xml_space(text[i]))
            ++i;
        if (i >= text.size() || text[i] != '=')
            return std::nullopt;
        ++i;
        while (i < text.size() && is_xml_space(text[i]))
            ++i;
        if (i >= text.size() || (text[i] != '\'' && text[i] != '"'))
            return std::nullopt;
        const auto close = text.find(text[i], i + 1);
        if (close == std::string_view::npos)
            return std::nullopt;
        if (name == "sid")
            return std::string(text.substr(i + 1, close - i - 1));
        i = close + 1;
    }
}

}  // namespace

std::optional<Version> parse_version(std::string_view s)
{
    const auto dot = s.find('.');
    if (dot == std::string_view::npos)
        return std::nullopt;
    auto major = parse_uint<unsigned>(s.substr(0, dot), 1000);
    auto minor = parse_uint<unsigned>(s.substr(dot + 1), 100000);
    if (!major || !minor)
        return std::nullopt;
    return Version{*major, *minor};
}

std::string to_string(Version v)
{
    return std::to_string(v.major) + "." + std::to_string(v.minor);
}

Expected<BodyRequest, ParseFailure> parse_body(std::string_view text)
{
    if (auto bad = find_restricted_xml(text))
        return fail("restricted XML: " + *bad, sniff_sid(text));
    pugi::xml_document doc;
    const auto parsed = doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed)
        return fail(std::string("not well-formed: ") + parsed.description(), sniff_sid(text));
    const pugi::xml_node root = doc.document_element();
    if (!root || root.next_sibling())
        return fail("no single root element");
    const auto decls = namespace_decls(root);
    // Read only when the request fails: a good one carries its sid in r.
    const auto sid = [&root]() -> std::optional<std::string> {
        const auto a = root.attribute("sid");
        return a ? std::optional<std::string>(a.value()) : std::nullopt;
    };
    const auto ns = decls.find(prefix_of(root.name()));
    if (local_of(root.name()) != "body" || ns == decls.end() || ns->second != k_ns_httpbind)
        return fail("root is not <body/> in the httpbind namespace", sid());  // checklist #15
    BodyRequest r;
    if (auto err = read_attributes(root, decls, r))
        return fail(*err, sid());
    if (auto err = read_payloads(root, decls, r))
        return fail(*err, sid());
    return r;
}

ResponseBuilder& ResponseBuilder::attr(std::string_view name, std::string_view value)
{
    attrs_.emplace_back(std::string(name), std::string(value));
    return *this;
}

ResponseBuilder& ResponseBuilder::payload(std::string_view xml)
{
    payloads_.append(xml);
    return *this;
}

ResponseBuilder& ResponseBuilder::declare_stream_ns()
{
    stream_ns_ = true;
    return *this;
}

std::string ResponseBuilder::build() const
{
    // One allocation for the whole body (every response goes through here):
    // the size is known but for escapes, which are rare in attribute values.
    std::size_t size = 64 + payloads_.size();
    if (stream_ns_)
        size += 16 + k_ns_streams.size();
    for (const auto& [name, value] : attrs_)
        size += 4 + name.size() + value.size();
    std::string out;
    out.reserve(size);
    out.append("<body xmlns='").append(k_ns_httpbind).append("'");
    if (stream_ns_)
        out.append(" xmlns:stream='").append(k_ns_streams).append("'");
    for (const auto& [name, value] : attrs_) {
        out.append(" ").append(name).append("='");
        append_xml_escaped(out, value);
        out.append("'");
    }
    if (payloads_.empty()) {
        out.append("/>");
        return out;
    }
    out.append(">").append(payloads_).append("</body>");
    return out;
}

std::string terminate_body(Condition condition, const std::vector<std::string>& payloads)
{
    ResponseBuilder b;
    b.attr("type", "terminate").attr("condition", to_wire(condition));
    bool stream_ns = false;
    for (const auto& p : payloads) {
        stream_ns = stream_ns || p.starts_with("<stream:");
        b.payload(p);
    }
    if (stream_ns)
        b.declare_stream_ns();
    return b.build();
}

}  // namespace bosun::bosh
