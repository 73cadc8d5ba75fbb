#include "xmpp/framer.hpp"

#include <array>
#include <cstdint>

#include "xmpp/stanza.hpp"

// How it works: one state machine consumes the stream a byte at a time, so a
// read may end anywhere (inside a UTF-8 sequence, a name, a reference, "]]>")
// and nothing is ever scanned twice. Bytes of the element (or header) in
// progress are kept in buf_; whitespace between elements is dropped. End tags
// are matched byte by byte against the open element's name, which is already
// in buf_, so no names are copied while an element is read.

namespace bosun::xmpp {

enum class Framer::Mode : unsigned char {
    prolog,  // before the header: whitespace, the XML declaration, the header
    prolog_lt,  // after '<' in the prolog
    decl_target,  // after "<?": expecting "xml"
    decl_body,  // inside the XML declaration, until "?>"
    stream,  // between top-level elements: whitespace only
    closed,  // after the stream's end tag
    tag_open,  // after '<' inside the stream
    start_name,  // the name of a start tag
    tag_space,  // inside a start tag, after whitespace
    after_value,  // after a name or an attribute value: whitespace, '/' or '>'
    attr_name,
    attr_eq,  // after an attribute name, before '='
    attr_quote,  // after '=', before the opening quote
    attr_value,
    empty_close,  // after '/' in a start tag
    end_name,  // the name of an end tag
    end_tail,  // after an end tag's name, before '>'
    content,  // character data inside an element
    bang,  // after "<!"
    cdata_open,  // reading "CDATA["
    cdata,  // inside a CDATA section, until "]]>"
    ref_start,  // after '&'
    entity_name,
    char_ref,  // after "&#"
    char_dec,
    char_hex,
    count_,
};

namespace {

using Events = std::vector<FramerEvent>;

constexpr FramerError ok = FramerError::none;
constexpr FramerError not_well_formed = FramerError::not_well_formed;
constexpr FramerError restricted_xml = FramerError::restricted_xml;
constexpr FramerError invalid_utf8 = FramerError::invalid_utf8;

// After a big element the buffer is given back, so an idle session keeps
// at most this much (sessions are meant to cost <= 16 KiB idle).
constexpr std::size_t kept_buffer_bytes = 4096;
constexpr std::size_t kept_open_tags = 32;

bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// XML 1.0 §2.3 NameStartChar, loosened: every non-ASCII byte is accepted (it
// has passed UTF-8 validation); namespaces are the server's business.
bool is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

bool is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// XML 1.0 §2.2 Char.
bool is_xml_char(char32_t cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF)
        || (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

std::size_t name_length(std::string_view s, std::size_t from)
{
    std::size_t i = from;
    while (i < s.size() && is_name_char(static_cast<unsigned char>(s[i])))
        ++i;
    return i - from;
}

}  // namespace

std::string_view stream_error_condition(FramerError e)
{
    switch (e) {
    case FramerError::none:
        return "";
    case FramerError::not_well_formed:
        return "not-well-formed";  // RFC 6120 §4.9.3.13
    case FramerError::restricted_xml:
        return "restricted-xml";  // RFC 6120 §4.9.3.18, §11.1
    case FramerError::invalid_utf8:
        return "unsupported-encoding";  // RFC 6120 §4.9.3.22: "violating the rules of UTF-8"
    case FramerError::stanza_too_big:
        return "policy-violation";  // RFC 6120 §4.9.3.16, §13.12 item 4
    }
    return "undefined-condition";
}

std::string_view StreamHeader::attr(std::string_view qname) const
{
    for (const auto& [name, value] : attributes) {
        if (name == qname)
            return value;
    }
    return {};
}

// The transition functions. A nested struct so they may touch Framer's
// private state without being declared one by one in the public header.
struct Framer::Machine {
    static FramerError consume(Framer& f, unsigned char c, Events& out)
    {
        if (auto e = check_char(f, c); e != ok)
            return e;
        // Whitespace between elements is not kept; everything else is.
        if (!is_idle(f.mode_) || c == '<') {
            f.buf_.push_back(static_cast<char>(c));
            if (f.buf_.size() > f.max_stanza_bytes_)
                return FramerError::stanza_too_big;  // RFC 6120 §13.12: policy-violation
        }
        return step(f.mode_)(f, c, out);
    }

    static bool is_idle(Mode m)
    {
        return m == Mode::prolog || m == Mode::stream || m == Mode::closed;
    }

    using Step = FramerError (*)(Framer&, unsigned char, Events&);
    struct Transition {
        Mode mode;
        Step step;
    };

    template <std::size_t N>
    static constexpr bool in_mode_order(const std::array<Transition, N>& table)
    {
        for (std::size_t i = 0; i < N; ++i) {
            if (static_cast<std::size_t>(table[i].mode) != i)
                return false;
        }
        return N == static_cast<std::size_t>(Mode::count_);
    }

    // Table-driven dispatch, indexed by Mode.
    static Step step(Mode m)
    {
        static constexpr std::array<Transition, static_cast<std::size_t>(Mode::count_)> table
            = {{{Mode::prolog, &prolog}, {Mode::prolog_lt, &prolog_lt},
                {Mode::decl_target, &decl_target}, {Mode::decl_body, &decl_body},
                {Mode::stream, &stream}, {Mode::closed, &closed}, {Mode::tag_open, &tag_open},
                {Mode::start_name, &start_name}, {Mode::tag_space, &tag_space},
                {Mode::after_value, &after_value}, {Mode::attr_name, &attr_name},
                {Mode::attr_eq, &attr_eq}, {Mode::attr_quote, &attr_quote},
                {Mode::attr_value, &attr_value}, {Mode::empty_close, &empty_close},
                {Mode::end_name, &end_name}, {Mode::end_tail, &end_tail}, {Mode::content, &content},
                {Mode::bang, &bang}, {Mode::cdata_open, &cdata_open}, {Mode::cdata, &cdata},
                {Mode::ref_start, &ref_start}, {Mode::entity_name, &entity_name},
                {Mode::char_ref, &char_ref}, {Mode::char_dec, &char_dec},
                {Mode::char_hex, &char_hex}}};
        static_assert(in_mode_order(table), "transitions must follow the order of Mode");
        return table[static_cast<std::size_t>(m)].step;
    }

    // ---- characters: UTF-8 (RFC 3629 §3) and XML 1.0 §2.2 Char ----

    static FramerError check_char(Framer& f, unsigned char c)
    {
        if (f.utf8_need_ == 0) {
            if (c < 0x80)
                return c < 0x20 && !is_space(c) ? not_well_formed : ok;
            return start_sequence(f, c);
        }
        if ((c & 0xC0) != 0x80)
            return invalid_utf8;
        f.utf8_cp_ = (f.utf8_cp_ << 6) | (c & 0x3F);
        if (--f.utf8_need_ > 0)
            return ok;
        if (f.utf8_cp_ < f.utf8_min_ || f.utf8_cp_ > 0x10FFFF
            || (f.utf8_cp_ >= 0xD800 && f.utf8_cp_ <= 0xDFFF))
            return invalid_utf8;  // overlong, out of range, or a surrogate
        return is_xml_char(f.utf8_cp_) ? ok : not_well_formed;  // U+FFFE, U+FFFF
    }

    static FramerError start_sequence(Framer& f, unsigned char c)
    {
        // 0x80..0xBF: a stray continuation; 0xC0, 0xC1: always overlong;
        // 0xF5..0xFF: beyond U+10FFFF.
        if (c < 0xC2 || c > 0xF4)
            return invalid_utf8;
        if (c < 0xE0) {
            f.utf8_need_ = 1, f.utf8_cp_ = c & 0x1F, f.utf8_min_ = 0x80;
        } else if (c < 0xF0) {
            f.utf8_need_ = 2, f.utf8_cp_ = c & 0x0F, f.utf8_min_ = 0x800;
        } else {
            f.utf8_need_ = 3, f.utf8_cp_ = c & 0x07, f.utf8_min_ = 0x10000;
        }
        return ok;
    }

    // ---- before the stream header ----

    static FramerError prolog(Framer& f, unsigned char c, Events&)
    {
        if (is_space(c))
            return ok;
        if (c != '<')
            return not_well_formed;
        f.tag_at_ = f.buf_.size() - 1;
        f.mode_ = Mode::prolog_lt;
        return ok;
    }

    static FramerError prolog_lt(Framer& f, unsigned char c, Events&)
    {
        if (c == '?' && f.decl_allowed_) {
            f.mode_ = Mode::decl_target;
            f.match_ = 0;
            return ok;
        }
        // RFC 6120 §11.1: no processing instructions (beyond the one XML
        // declaration), comments or DTDs.
        if (c == '?' || c == '!')
            return restricted_xml;
        if (!is_name_start(c))
            return not_well_formed;
        f.decl_allowed_ = false;
        f.mode_ = Mode::start_name;
        return ok;
    }

    static FramerError decl_target(Framer& f, unsigned char c, Events&)
    {
        constexpr std::string_view target = "xml";
        if (f.match_ < target.size()) {
            if (c != static_cast<unsigned char>(target[f.match_]))
                return restricted_xml;  // RFC 6120 §11.1: another PI, e.g. <?xml-stylesheet
            ++f.match_;
            return ok;
        }
        if (!is_space(c))
            return restricted_xml;
        f.mode_ = Mode::decl_body;
        f.match_ = 0;
        return ok;
    }

    static FramerError decl_body(Framer& f, unsigned char c, Events&)
    {
        if (c == '<')
            return not_well_formed;
        if (c == '>' && f.match_ == 1) {
            f.decl_allowed_ = false;
            f.mode_ = Mode::prolog;
            release_buffer(f);
            return ok;
        }
        f.match_ = c == '?' ? 1 : 0;
        return ok;
    }

    // ---- between top-level elements ----

    static FramerError stream(Framer& f, unsigned char c, Events&)
    {
        // RFC 6120 §4.6.1: only whitespace keepalives travel between elements.
        if (is_space(c))
            return ok;
        if (c != '<')
            return not_well_formed;
        f.tag_at_ = f.buf_.size() - 1;
        f.mode_ = Mode::tag_open;
        return ok;
    }

    static FramerError closed(Framer&, unsigned char c, Events&)
    {
        return is_space(c) ? ok : not_well_formed;
    }

    static FramerError tag_open(Framer& f, unsigned char c, Events&)
    {
        if (c == '/') {
            f.mode_ = Mode::end_name;
            f.match_ = 0;
        } else if (c == '!') {
            f.mode_ = Mode::bang;
        } else if (c == '?') {
            return restricted_xml;  // RFC 6120 §11.1: processing instruction
        } else if (is_name_start(c)) {
            f.mode_ = Mode::start_name;
        } else {
            return not_well_formed;
        }
        return ok;
    }

    // ---- start tags ----

    static FramerError start_name(Framer& f, unsigned char c, Events& out)
    {
        if (is_name_char(c))
            return ok;
        if (f.in_stream_) {
            std::size_t name_at = f.tag_at_ + 1;
            f.stack_.push_back({name_at, f.buf_.size() - 1 - name_at});
            if (f.stack_.size() == 1)
                f.top_has_xmlns_ = false;
        }
        return after_value(f, c, out);
    }

    static FramerError after_value(Framer& f, unsigned char c, Events& out)
    {
        if (is_space(c)) {
            f.mode_ = Mode::tag_space;
        } else if (c == '/') {
            f.mode_ = Mode::empty_close;
        } else if (c == '>') {
            return start_tag_end(f, out);
        } else {
            return not_well_formed;  // XML 1.0 §3.1: attributes need whitespace between
        }
        return ok;
    }

    static FramerError tag_space(Framer& f, unsigned char c, Events& out)
    {
        if (!is_name_start(c))
            return after_value(f, c, out);
        f.mark_at_ = f.buf_.size() - 1;
        f.mode_ = Mode::attr_name;
        return ok;
    }

    static FramerError attr_name(Framer& f, unsigned char c, Events&)
    {
        if (is_name_char(c))
            return ok;
        note_attribute_name(f);
        if (is_space(c))
            f.mode_ = Mode::attr_eq;
        else if (c == '=')
            f.mode_ = Mode::attr_quote;
        else
            return not_well_formed;
        return ok;
    }

    // Element::has_xmlns: the top-level start tag declares a default namespace.
    static void note_attribute_name(Framer& f)
    {
        if (!f.in_stream_ || f.stack_.size() != 1)
            return;
        std::string_view name(f.buf_.data() + f.mark_at_, f.buf_.size() - 1 - f.mark_at_);
        if (name == "xmlns")
            f.top_has_xmlns_ = true;
    }

    static FramerError attr_eq(Framer& f, unsigned char c, Events&)
    {
        if (is_space(c))
            return ok;
        if (c != '=')
            return not_well_formed;
        f.mode_ = Mode::attr_quote;
        return ok;
    }

    static FramerError attr_quote(Framer& f, unsigned char c, Events&)
    {
        if (is_space(c))
            return ok;
        if (c != '\'' && c != '"')
            return not_well_formed;
        f.quote_ = static_cast<char>(c);
        f.mode_ = Mode::attr_value;
        return ok;
    }

    static FramerError attr_value(Framer& f, unsigned char c, Events&)
    {
        if (c == static_cast<unsigned char>(f.quote_)) {
            f.quote_ = 0;
            f.mode_ = Mode::after_value;
        } else if (c == '<') {
            return not_well_formed;  // XML 1.0 §3.1 AttValue
        } else if (c == '&') {
            begin_reference(f);
        }
        return ok;  // '>' and '/' are plain characters here
    }

    static FramerError empty_close(Framer& f, unsigned char c, Events& out)
    {
        if (c != '>')
            return not_well_formed;
        if (!f.in_stream_) {
            open_stream(f, out);
            close_stream(f, out);
            return ok;
        }
        return close_element(f, out);
    }

    static FramerError start_tag_end(Framer& f, Events& out)
    {
        if (!f.in_stream_) {
            open_stream(f, out);
            return ok;
        }
        f.mode_ = Mode::content;
        return ok;
    }

    // ---- end tags ----

    static std::string_view expected_end_name(const Framer& f)
    {
        if (f.stack_.empty())
            return f.stream_name_;  // RFC 6120 §4.4: </stream:stream>
        const OpenTag& top = f.stack_.back();
        return std::string_view(f.buf_).substr(top.name_at, top.name_len);
    }

    static FramerError end_name(Framer& f, unsigned char c, Events& out)
    {
        std::string_view expected = expected_end_name(f);
        if (is_name_char(c) && (f.match_ > 0 || is_name_start(c))) {
            if (f.match_ >= expected.size() || static_cast<unsigned char>(expected[f.match_]) != c)
                return not_well_formed;  // XML 1.0 §3 WFC: Element Type Match
            ++f.match_;
            return ok;
        }
        if (f.match_ == 0 || f.match_ != expected.size())
            return not_well_formed;
        f.mode_ = Mode::end_tail;
        return end_tail(f, c, out);
    }

    static FramerError end_tail(Framer& f, unsigned char c, Events& out)
    {
        if (is_space(c))
            return ok;
        if (c != '>')
            return not_well_formed;
        if (f.stack_.empty()) {
            close_stream(f, out);
            return ok;
        }
        return close_element(f, out);
    }

    // ---- content, CDATA, references ----

    static FramerError content(Framer& f, unsigned char c, Events&)
    {
        if (c == '<') {
            f.tag_at_ = f.buf_.size() - 1;
            f.mode_ = Mode::tag_open;
        } else if (c == '&') {
            begin_reference(f);
        }
        return ok;
    }

    static FramerError bang(Framer& f, unsigned char c, Events&)
    {
        // RFC 6120 §11.1: "<!--", "<!DOCTYPE", "<!ENTITY" and the rest of the DTD.
        if (c != '[')
            return restricted_xml;
        // A CDATA section between elements would be text at stream level.
        if (f.stack_.empty())
            return not_well_formed;
        f.mode_ = Mode::cdata_open;
        f.match_ = 0;
        return ok;
    }

    static FramerError cdata_open(Framer& f, unsigned char c, Events&)
    {
        constexpr std::string_view rest = "CDATA[";
        if (c != static_cast<unsigned char>(rest[f.match_]))
            return not_well_formed;
        if (++f.match_ == rest.size()) {
            f.mode_ = Mode::cdata;
            f.match_ = 0;
        }
        return ok;
    }

    static FramerError cdata(Framer& f, unsigned char c, Events&)
    {
        // Counts the ']' before a '>': "]]>" ends the section, "]]]>" too.
        if (c == ']') {
            f.match_ = f.match_ < 2 ? f.match_ + 1 : 2;
        } else if (c == '>' && f.match_ == 2) {
            f.mode_ = Mode::content;
            f.match_ = 0;
        } else {
            f.match_ = 0;
        }
        return ok;
    }

    static void begin_reference(Framer& f)
    {
        f.mark_at_ = f.buf_.size() - 1;
        f.mode_ = Mode::ref_start;
    }

    static FramerError end_reference(Framer& f)
    {
        f.mode_ = f.quote_ != 0 ? Mode::attr_value : Mode::content;
        return ok;
    }

    static FramerError ref_start(Framer& f, unsigned char c, Events&)
    {
        if (c == '#') {
            f.mode_ = Mode::char_ref;
        } else if (is_name_start(c)) {
            f.mode_ = Mode::entity_name;
        } else {
            return not_well_formed;  // a bare '&'
        }
        return ok;
    }

    static FramerError entity_name(Framer& f, unsigned char c, Events&)
    {
        if (is_name_char(c))
            return ok;
        if (c != ';')
            return not_well_formed;
        std::size_t from = f.mark_at_ + 1;
        std::string_view name(f.buf_.data() + from, f.buf_.size() - 1 - from);
        if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos")
            return end_reference(f);
        return restricted_xml;  // RFC 6120 §11.1: only the predefined entities
    }

    static FramerError char_ref(Framer& f, unsigned char c, Events&)
    {
        f.ref_value_ = 0;
        f.match_ = 0;  // digits seen
        if (c == 'x') {
            f.mode_ = Mode::char_hex;
            return ok;
        }
        if (c < '0' || c > '9')
            return not_well_formed;
        f.mode_ = Mode::char_dec;
        return add_digit(f, 10, c - '0');
    }

    static FramerError char_dec(Framer& f, unsigned char c, Events&)
    {
        if (c >= '0' && c <= '9')
            return add_digit(f, 10, c - '0');
        return finish_char_ref(f, c);
    }

    static FramerError char_hex(Framer& f, unsigned char c, Events&)
    {
        int d = hex_value(c);
        if (d >= 0)
            return add_digit(f, 16, d);
        return finish_char_ref(f, c);
    }

    static FramerError add_digit(Framer& f, char32_t base, int digit)
    {
        // Saturates just past U+10FFFF, however many digits follow.
        char32_t v = f.ref_value_ * base + static_cast<char32_t>(digit);
        f.ref_value_ = v > 0x10FFFF ? 0x110000 : v;
        ++f.match_;
        return ok;
    }

    static FramerError finish_char_ref(Framer& f, unsigned char c)
    {
        // XML 1.0 §4.1 WFC: Legal Character.
        if (c != ';' || f.match_ == 0 || !is_xml_char(f.ref_value_))
            return not_well_formed;
        return end_reference(f);
    }

    // ---- events ----

    static void open_stream(Framer& f, Events& out)
    {
        FramerEvent ev {FramerEvent::Kind::stream_open, {}, {}};
        ev.header.attributes = start_tag_attributes(f.buf_);
        f.stream_name_.assign(f.buf_, 1, name_length(f.buf_, 1));
        f.in_stream_ = true;
        f.mode_ = Mode::stream;
        release_buffer(f);
        out.push_back(std::move(ev));
    }

    static void close_stream(Framer& f, Events& out)
    {
        out.push_back(FramerEvent {FramerEvent::Kind::stream_close, {}, {}});
        f.mode_ = Mode::closed;
        release_buffer(f);
    }

    // The end of an element (an end tag or "/>"): the stanza is complete
    // when no element is left open.
    static FramerError close_element(Framer& f, Events& out)
    {
        f.stack_.pop_back();
        if (!f.stack_.empty()) {
            f.mode_ = Mode::content;
            return ok;
        }
        FramerEvent ev {FramerEvent::Kind::element, {}, {}};
        ev.element.xml = f.buf_;  // an exact-size copy; buf_ keeps its capacity
        ev.element.qname.assign(f.buf_, 1, name_length(f.buf_, 1));
        ev.element.has_xmlns = f.top_has_xmlns_;
        out.push_back(std::move(ev));
        f.mode_ = Mode::stream;
        release_buffer(f);
        return ok;
    }

    // ---- fast path ----

    // The length of the run at the start of `bytes` that cannot change the
    // state: printable ASCII in character data, an attribute value or a CDATA
    // section, short of the next byte the state machine must look at.
    static std::size_t plain_run(const Framer& f, std::string_view bytes)
    {
        if (f.utf8_need_ != 0)
            return 0;
        unsigned char a = '<', b = '&', q = '<';
        if (f.mode_ == Mode::attr_value)
            q = static_cast<unsigned char>(f.quote_);
        else if (f.mode_ == Mode::cdata)
            a = ']', b = '>', q = ']';
        else if (f.mode_ != Mode::content)
            return 0;
        std::size_t n = 0;
        for (; n < bytes.size(); ++n) {
            auto c = static_cast<unsigned char>(bytes[n]);
            if (c >= 0x80 || (c < 0x20 && !is_space(c)) || c == a || c == b || c == q)
                break;
        }
        return n;
    }

    static FramerError take_run(Framer& f, std::string_view run)
    {
        if (f.buf_.size() + run.size() > f.max_stanza_bytes_)
            return FramerError::stanza_too_big;  // RFC 6120 §13.12: policy-violation
        f.buf_.append(run);
        f.match_ = 0;  // in CDATA, any byte but ']' breaks a "]]>" in progress
        return ok;
    }

    static FramerError feed_one(Framer& f, std::string_view bytes, Events& out, std::size_t& taken)
    {
        std::size_t run = plain_run(f, bytes);
        if (run > 0) {
            taken = run;
            return take_run(f, bytes.substr(0, run));
        }
        taken = 1;
        return consume(f, static_cast<unsigned char>(bytes[0]), out);
    }

    static void release_buffer(Framer& f)
    {
        f.buf_.clear();
        if (f.buf_.capacity() > kept_buffer_bytes)
            std::string().swap(f.buf_);
        f.stack_.clear();
        if (f.stack_.capacity() > kept_open_tags)
            std::vector<OpenTag>().swap(f.stack_);
    }
};

Framer::Framer(std::size_t max_stanza_bytes)
    : max_stanza_bytes_(max_stanza_bytes)
    , mode_(Mode::prolog)
{
}

FramerError Framer::feed(std::string_view bytes, std::vector<FramerEvent>& out)
{
    if (error_ != FramerError::none)
        return error_;
    // Each byte is taken once, by the fast path or the state machine.
    std::size_t taken = 0;
    for (std::size_t i = 0; i < bytes.size(); i += taken) {
        FramerError e = Machine::feed_one(*this, bytes.substr(i), out, taken);
        if (e != FramerError::none) {
            error_ = e;
            Machine::release_buffer(*this);
            return e;
        }
    }
    // Between elements, which is where an idle stream waits, no buffer is
    // kept: thousands of idle sessions should not each pin the capacity of
    // their last stanza (W1 memory, docs/benchmarks.md).
    if (buf_.empty())
        std::string().swap(buf_);
    if (stack_.empty())
        std::vector<OpenTag>().swap(stack_);
    return FramerError::none;
}

void Framer::reset()
{
    *this = Framer(max_stanza_bytes_);
}

std::size_t Framer::buffered() const
{
    return buf_.size();
}

}  // namespace bosun::xmpp
