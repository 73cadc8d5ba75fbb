#pragma once
// Escaping for text Bosun writes into XML it builds by hand: the five
// characters XML 1.0 gives entities for (§4.6) become &amp; &lt; &gt; &apos;
// &quot;, so the result is safe as character data (§2.4) and inside an
// attribute value quoted with ' or " (§3.1 AttValue). Other bytes pass as
// they are: checking UTF-8 and XML's character range is the caller's job.

#include <string>
#include <string_view>

namespace bosun {

/// `text` with & < > ' " replaced by their entity references.
std::string xml_escape(std::string_view text);

/// Appends xml_escape(text) to `out`.
void append_xml_escaped(std::string& out, std::string_view text);

}  // namespace bosun
