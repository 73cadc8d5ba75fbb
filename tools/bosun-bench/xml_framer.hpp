#pragma once
// Splits an XMPP stream into top-level stanzas without a full XML parser:
// it tracks the element depth across tags (quotes, comments, CDATA and
// processing instructions are skipped correctly) and hands out the bytes of
// each complete depth-1 element, which the caller parses with pugixml.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bosun::bench {

class XmlFramer {
public:
    explicit XmlFramer(std::size_t max_stanza_bytes = 1 << 20)
        : max_(max_stanza_bytes)
    {
    }

    void feed(std::string_view bytes) { buf_.append(bytes); }
    // The next complete stanza, or nullopt when more bytes are needed, the
    // stream ended (closed()) or the input is bad (failed()).
    std::optional<std::string> next();
    // Forget everything: after STARTTLS and SASL success a new stream starts.
    void reset();

    [[nodiscard]] bool opened() const { return opened_; }
    [[nodiscard]] bool closed() const { return closed_; }
    [[nodiscard]] bool failed() const { return failed_; }

private:
    // End of the construct starting at '<' at pos (one past its '>'), or npos.
    std::size_t construct_end(std::size_t pos) const;
    void compact();

    std::string buf_;
    std::size_t pos_ = 0;
    std::size_t stanza_start_ = 0;
    int depth_ = 0;
    bool opened_ = false;
    bool closed_ = false;
    bool failed_ = false;
    std::size_t max_;
};

}  // namespace bosun::bench
