#pragma once
// Test helpers shared by the BOSH core tests: namespace-aware reading of
// serialized XML, and readable gtest output for Condition.

#include <ostream>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "bosun/condition.hpp"

namespace bosun {

// gtest finds this by ADL, so failures print "item-not-found", not bytes.
inline void PrintTo(Condition c, std::ostream* os)
{
    *os << to_wire(c);
}

namespace bosh::test {

inline std::string prefix_of(std::string_view qname)
{
    const auto colon = qname.find(':');
    return colon == std::string_view::npos ? std::string {} : std::string(qname.substr(0, colon));
}

inline std::string local_of(std::string_view qname)
{
    const auto colon = qname.find(':');
    return std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
}

// The namespace URI bound to `prefix` ("" = default) in scope at `node`.
inline std::string namespace_of(pugi::xml_node node, std::string_view prefix)
{
    const std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
    for (; node && node.type() == pugi::node_element; node = node.parent())
        if (auto a = node.attribute(attr.c_str()))
            return a.value();
    return {};
}

// The namespace of an element's own name, resolved in scope.
inline std::string element_ns(pugi::xml_node node)
{
    return namespace_of(node, prefix_of(node.name()));
}

// The namespace of a prefixed attribute (unprefixed attributes have none).
inline std::string attribute_ns(pugi::xml_node node, std::string_view qname)
{
    const auto prefix = prefix_of(qname);
    return prefix.empty() ? std::string {} : namespace_of(node, prefix);
}

}  // namespace bosh::test
}  // namespace bosun
