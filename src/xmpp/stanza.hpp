#pragma once
// Small helpers over the framer's raw elements (pure). They read only the
// start tag of an element the Framer has already checked for well-formedness.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xmpp/framer.hpp"

namespace bosun::xmpp {

inline constexpr std::string_view streams_namespace = "http://etherx.jabber.org/streams";
inline constexpr std::string_view jabber_client_namespace = "jabber:client";

/// The attributes of the start tag at the beginning of `xml` (qualified name,
/// unescaped and normalized value), in document order. `xml` must begin with a
/// well-formed start tag, as the Framer emits; parsing stops at anything else.
std::vector<std::pair<std::string, std::string>> start_tag_attributes(std::string_view xml);

/// `e.xml` with ` xmlns='<ns>'` inserted right after the start tag's name when
/// the element has no prefix and no default namespace of its own; otherwise
/// `e.xml` unchanged. XEP-0206 §2: stanzas sent to BOSH clients carry
/// xmlns='jabber:client'.
std::string with_default_namespace(const Element& e, std::string_view ns);

/// True when `e` is <prefix:local/> (or unprefixed) and its prefix is bound to
/// http://etherx.jabber.org/streams, by the element itself or by the stream
/// header: e.g. is_stream_element(h, e, "error") for <stream:error/>.
bool is_stream_element(const StreamHeader& header, const Element& e, std::string_view local);

}  // namespace bosun::xmpp
