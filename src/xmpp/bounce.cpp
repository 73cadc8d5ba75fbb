#include "xmpp/bounce.hpp"

#include <pugixml.hpp>

#include <sstream>

namespace bosun::xmpp {
namespace {

constexpr const char* k_ns_stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";

std::string_view local_name(std::string_view qname)
{
    const auto colon = qname.find(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

std::string build_error(const pugi::xml_node& original, const char* error_type, const char* condition)
{
    pugi::xml_document doc;
    pugi::xml_node reply = doc.append_child(original.name());
    reply.append_attribute("xmlns").set_value("jabber:client");
    reply.append_attribute("type").set_value("error");
    if (auto id = original.attribute("id"))
        reply.append_attribute("id").set_value(id.value());
    if (auto to = original.attribute("to"))
        reply.append_attribute("from").set_value(to.value());
    if (auto from = original.attribute("from"))
        reply.append_attribute("to").set_value(from.value());
    pugi::xml_node error = reply.append_child("error");
    error.append_attribute("type").set_value(error_type);
    error.append_child(condition).append_attribute("xmlns").set_value(k_ns_stanzas);
    std::ostringstream out;
    reply.print(out, "", pugi::format_raw | pugi::format_no_declaration);
    return out.str();
}

}  // namespace

std::optional<std::string> bounce_stanza(std::string_view xml)
{
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size()))
        return std::nullopt;
    const pugi::xml_node stanza = doc.document_element();
    const std::string_view name = local_name(stanza.name());
    const std::string_view type = stanza.attribute("type").value();
    // Never answer an error with an error (RFC 6120 §8.3.1), and never bounce
    // a message without a sender.
    if (type == "error" || !stanza.attribute("from"))
        return std::nullopt;
    if (name == "message")
        return build_error(stanza, "wait", "recipient-unavailable");
    if (name == "iq" && (type == "get" || type == "set"))
        return build_error(stanza, "cancel", "service-unavailable");
    return std::nullopt;  // presence, iq results: dropped
}

}  // namespace bosun::xmpp
