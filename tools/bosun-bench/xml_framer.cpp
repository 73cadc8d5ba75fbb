#include "xml_framer.hpp"

namespace bosun::bench {

std::size_t XmlFramer::construct_end(std::size_t pos) const
{
    const std::string_view rest = std::string_view(buf_).substr(pos);
    auto until = [&](std::string_view end) -> std::size_t {
        const auto e = rest.find(end);
        return e == std::string_view::npos ? std::string::npos : pos + e + end.size();
    };
    if (rest.starts_with("<!--"))
        return until("-->");
    if (rest.starts_with("<![CDATA["))
        return until("]]>");
    if (rest.starts_with("<?"))
        return until("?>");
    if (rest.size() < 9
        && (std::string_view("<![CDATA[").starts_with(rest)
            || std::string_view("<!--").starts_with(rest)))
        return std::string::npos;
    char quote = 0;
    for (std::size_t i = 1; i < rest.size(); ++i) {
        const char c = rest[i];
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            return pos + i + 1;
        }
    }
    return std::string::npos;
}

std::optional<std::string> XmlFramer::next()
{
    while (!failed_ && !closed_) {
        const auto lt = buf_.find('<', pos_);
        if (lt == std::string::npos) {
            pos_ = buf_.size();
            break;
        }
        const auto end = construct_end(lt);
        if (end == std::string::npos) {
            pos_ = lt;
            break;
        }
        pos_ = end;
        const std::string_view tag = std::string_view(buf_).substr(lt, end - lt);
        if (tag.starts_with("<?") || tag.starts_with("<!"))
            continue;  // PI, comment, CDATA
        if (tag.starts_with("</")) {
            if (--depth_ == 1 && opened_) {
                std::string out = buf_.substr(stanza_start_, end - stanza_start_);
                compact();
                return out;
            }
            if (depth_ <= 0)
                closed_ = true;  // </stream:stream>
            continue;
        }
        const bool empty = tag.size() >= 2 && tag[tag.size() - 2] == '/';
        if (depth_ == 0) {
            // The stream header opens and never closes in this tag.
            opened_ = true;
            depth_ = 1;
            continue;
        }
        if (depth_ == 1) {
            stanza_start_ = lt;
            if (empty) {
                std::string out(tag);
                compact();
                return out;
            }
        }
        if (!empty)
            ++depth_;
    }
    if (depth_ >= 2 && buf_.size() - stanza_start_ > max_)
        failed_ = true;
    if (depth_ < 2 && buf_.size() - pos_ > max_)
        failed_ = true;
    return std::nullopt;
}

void XmlFramer::compact()
{
    // Drop the consumed prefix now and then, not on every stanza.
    if (pos_ > 64 * 1024 || pos_ == buf_.size()) {
        buf_.erase(0, pos_);
        pos_ = 0;
        stanza_start_ = 0;
    }
}

void XmlFramer::reset()
{
    buf_.clear();
    pos_ = stanza_start_ = 0;
    depth_ = 0;
    opened_ = closed_ = failed_ = false;
}

}  // namespace bosun::bench
