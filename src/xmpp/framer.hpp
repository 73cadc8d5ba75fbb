#pragma once
// Incremental XMPP stream framer (sans-I/O). Bytes from the upstream TCP/TLS
// stream go in, in pieces of any size; events come out: the stream header,
// each complete top-level element ("stanza", including <stream:features/> and
// <stream:error/>), and the stream close. It survives any fragmentation,
// including a UTF-8 sequence split across reads.
//
// RFC 6120 §11.1 restricted XML (comments, processing instructions other than
// the XML declaration, DTDs, entity declarations, non-predefined entity
// references) is refused with an error, as is a stanza over the size limit.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bosun::xmpp {

enum class FramerError {
    none,
    not_well_formed,   ///< RFC 6120 <not-well-formed/>
    restricted_xml,    ///< RFC 6120 <restricted-xml/>
    invalid_utf8,      ///< RFC 6120 <unsupported-encoding/> (§4.9.3.22: bad UTF-8)
    stanza_too_big,    ///< RFC 6120 <policy-violation/>
};

/// The RFC 6120 stream error condition for a framer error ("not-well-formed", ...).
std::string_view stream_error_condition(FramerError e);

struct StreamHeader {
    /// Attributes in document order as written (qualified name, unescaped value),
    /// including namespace declarations such as xmlns and xmlns:stream.
    std::vector<std::pair<std::string, std::string>> attributes;
    /// Convenience: the value of a qualified attribute name, or "" if absent.
    std::string_view attr(std::string_view qname) const;
};

struct Element {
    std::string xml;     ///< the raw bytes of the element, exactly as received
    std::string qname;   ///< qualified name of the top-level element, e.g. "stream:features"
    bool has_xmlns = false;  ///< the start tag declares a default namespace (xmlns='...')
};

struct FramerEvent {
    enum class Kind { stream_open, element, stream_close };
    Kind kind;
    StreamHeader header;  ///< for stream_open
    Element element;      ///< for element
};

class Framer {
public:
    explicit Framer(std::size_t max_stanza_bytes);

    /// Consumes bytes and appends the events they complete to `out`.
    /// Returns FramerError::none, or the first error; after an error the
    /// framer stays failed until reset().
    FramerError feed(std::string_view bytes, std::vector<FramerEvent>& out);

    /// Forgets all state, for a new stream after STARTTLS or SASL (RFC 6120 §4.3.3).
    void reset();

    /// Bytes buffered for the element in progress (for memory accounting).
    std::size_t buffered() const;

private:
    // The byte-at-a-time state machine (framer.cpp). Every byte is looked at
    // once, whatever the read sizes, so feeding is linear in the input.
    struct Machine;
    enum class Mode : unsigned char;
    struct OpenTag {
        std::size_t name_at;   ///< offset of the element's name in buf_
        std::size_t name_len;
    };

    std::size_t max_stanza_bytes_;
    std::string buf_;            ///< raw bytes of the element (or header) in progress
    std::string stream_name_;    ///< qname of the stream header, to match its end tag
    std::vector<OpenTag> stack_; ///< elements open inside the current top-level element
    std::size_t tag_at_ = 0;     ///< offset of the '<' of the tag being read
    std::size_t mark_at_ = 0;    ///< offset of the attribute name or '&' being read
    std::size_t match_ = 0;      ///< progress through a fixed token ("CDATA[", "]]>", "?>")
    char32_t ref_value_ = 0;     ///< numeric character reference being read
    char32_t utf8_cp_ = 0;       ///< code point of the UTF-8 sequence being read
    char32_t utf8_min_ = 0;      ///< smallest code point its length may encode
    int utf8_need_ = 0;          ///< continuation bytes still expected
    Mode mode_;
    char quote_ = 0;             ///< quote of the attribute value being read, or 0
    bool in_stream_ = false;     ///< the header has been read
    bool decl_allowed_ = true;   ///< the XML declaration may still come
    bool top_has_xmlns_ = false;
    FramerError error_ = FramerError::none;
};

}  // namespace bosun::xmpp
