#pragma once
// Shared by the BOSH session tests: wire helpers in the checklist's notation
// (new(R), poll(n, X)), action helpers, the #13/#39 check every response
// passes, and the SessionTest fixture (fake time, real XML via parse_body).
// Checklist numbers refer to /work/shared/reference/bosh-checklist.md.

#include "bosh/session.hpp"

#include "xml_check.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::bosh::test {

using namespace std::chrono_literals;

inline const std::string k_ns = "xmlns='http://jabber.org/protocol/httpbind'";
inline const std::string k_xb = "xmlns:xmpp='urn:xmpp:xbosh'";
inline const std::string k_domain = "example.com";
inline const std::string k_sid = "SID-4f2a";
inline constexpr std::uint64_t R = 1000;  // rid of the creation request
inline const std::string k_modern = "wait='60' hold='1' ver='1.6'";
inline const std::string k_legacy = "wait='60' hold='1'";  // no ver (§17.1)

inline const std::string k_sasl_features
    = "<stream:features><mechanisms "
      "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
      "</mechanisms></stream:features>";
inline const std::string k_bind_features
    = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
inline const std::string k_conflict
    = "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";

inline Limits test_limits()
{
    Limits l;
    l.max_wait = 60s;
    l.default_wait = 45s;
    l.inactivity = 30s;
    l.polling = 5s;
    l.max_hold = 1;
    l.max_pending_bytes = 4096;
    l.connect_timeout = 10s;
    return l;
}

inline bool serves(std::string_view domain)
{
    return domain == k_domain;
}

// ---- wire helpers -------------------------------------------------------------

inline BodyRequest parse(std::string_view xml)
{
    auto r = parse_body(xml);
    if (!r) {
        ADD_FAILURE() << "test request rejected (" << r.error().detail << "): " << xml;
        return {};
    }
    return std::move(r).value();
}

// new(R) from the checklist notation, with `attrs` for wait/hold/ver.
inline std::string new_body(std::uint64_t rid, const std::string& attrs = k_modern)
{
    return "<body rid='" + std::to_string(rid) + "' to='" + k_domain
        + "' xml:lang='en' xmpp:version='1.0' " + k_xb + " " + attrs + " " + k_ns + "/>";
}

// poll(n) / poll(n, X) from the checklist notation.
inline std::string poll(std::uint64_t rid, const std::string& inner = "", const std::string& attrs = "")
{
    std::string out
        = "<body rid='" + std::to_string(rid) + "' sid='" + k_sid + "' " + attrs + " " + k_ns;
    return inner.empty() ? out + "/>" : out + ">" + inner + "</body>";
}

inline std::string message(const std::string& id, const std::string& extra = "")
{
    return "<message xmlns='jabber:client' to='juliet@example.com' id='" + id + "'" + extra
        + "><body>hi</body></message>";
}

inline UpstreamElement from_server(const std::string& id)
{
    return {UpstreamElement::Kind::stanza, message(id)};
}

inline UpstreamElement features(const std::string& xml = k_sasl_features)
{
    return {UpstreamElement::Kind::features, xml};
}

inline UpstreamElement stream_error(const std::string& xml = k_conflict)
{
    return {UpstreamElement::Kind::stream_error, xml};
}

// The id attributes of the top-level elements of a serialized fragment.
inline std::vector<std::string> ids_in(const std::string& fragment)
{
    pugi::xml_document doc;
    const std::string wrapped = "<w>" + fragment + "</w>";
    if (!doc.load_string(wrapped.c_str())) {
        ADD_FAILURE() << "not well-formed: " << fragment;
        return {};
    }
    std::vector<std::string> ids;
    for (auto e : doc.document_element().children())
        ids.emplace_back(e.attribute("id").value());
    return ids;
}

// ---- action helpers --------------------------------------------------------------

template <class A> std::vector<A> all(const Actions& actions)
{
    std::vector<A> out;
    for (const auto& a : actions)
        if (const auto* p = std::get_if<A>(&a))
            out.push_back(*p);
    return out;
}

template <class A> std::size_t count(const Actions& actions)
{
    return all<A>(actions).size();
}

// Position of the first action of type A matching pred, or -1.
template <class A, class Pred> int index_of(const Actions& actions, Pred pred)
{
    for (std::size_t i = 0; i < actions.size(); ++i)
        if (const auto* p = std::get_if<A>(&actions[i]); p && pred(*p))
            return static_cast<int>(i);
    return -1;
}

inline int response_index(const Actions& actions, RequestId id)
{
    return index_of<Respond>(actions, [id](const Respond& r) { return r.request == id; });
}

inline bool answered(const Actions& actions, RequestId id)
{
    return response_index(actions, id) >= 0;
}

// All stanza ids sent upstream, in order.
inline std::vector<std::string> sent_ids(const Actions& actions)
{
    std::vector<std::string> ids;
    for (const auto& s : all<SendUpstream>(actions))
        for (auto& id : ids_in(s.data))
            ids.push_back(std::move(id));
    return ids;
}

// All stanzas handed back for bouncing (XEP-0206 §7), by id.
inline std::vector<std::string> undelivered_ids(const Actions& actions)
{
    std::vector<std::string> ids;
    for (const auto& c : all<CloseUpstream>(actions))
        for (const auto& x : c.undelivered)
            for (auto& id : ids_in(x))
                ids.push_back(std::move(id));
    return ids;
}

inline std::optional<EndSession> ended_with(const Actions& actions)
{
    const auto ends = all<EndSession>(actions);
    if (ends.size() > 1)
        ADD_FAILURE() << "EndSession emitted " << ends.size() << " times";
    return ends.empty() ? std::nullopt : std::optional<EndSession>(ends.front());
}

// A response, parsed.
struct Reply {
    unsigned status = 0;
    std::string raw;
    std::shared_ptr<pugi::xml_document> doc = std::make_shared<pugi::xml_document>();
    pugi::xml_node body;

    bool has(const char* name) const { return bool(body.attribute(name)); }
    std::string attr(const char* name) const { return body.attribute(name).value(); }
    std::vector<pugi::xml_node> children() const
    {
        std::vector<pugi::xml_node> out;
        for (auto c : body.children())
            out.push_back(c);
        return out;
    }
    std::vector<std::string> child_ids() const
    {
        std::vector<std::string> out;
        for (auto c : children())
            out.emplace_back(c.attribute("id").value());
        return out;
    }
    // <body xmlns='…httpbind'/> and nothing else.
    bool is_empty() const
    {
        return status == 200 && !body.first_child()
            && std::distance(body.attributes_begin(), body.attributes_end()) == 1;
    }
    bool is_terminate(Condition c) const
    {
        return status == 200 && attr("type") == "terminate" && attr("condition") == to_wire(c);
    }
};

inline Reply reply_to(const Actions& actions, RequestId id)
{
    Reply r;
    int found = 0;
    for (const auto& resp : all<Respond>(actions)) {
        if (resp.request != id)
            continue;
        ++found;
        r.status = resp.status;
        r.raw = resp.body;
    }
    if (found != 1) {
        ADD_FAILURE() << "request " << id << " answered " << found << " times";
        return r;
    }
    if (!r.raw.empty() && r.doc->load_string(r.raw.c_str()))
        r.body = r.doc->document_element();
    return r;
}

// §6 (checklist #13): every 200 response is one well-formed <body/> in the
// httpbind namespace; a legacy HTTP error (§17.1) has no body.
inline Actions check_responses(Actions actions)
{
    for (const auto& r : all<Respond>(actions)) {
        if (r.status != 200) {
            EXPECT_TRUE(r.status == 400 || r.status == 403 || r.status == 404) << r.status;
            EXPECT_TRUE(r.body.empty()) << r.body;
            continue;
        }
        pugi::xml_document doc;
        if (!doc.load_string(r.body.c_str())) {
            ADD_FAILURE() << "not well-formed: " << r.body;
            continue;
        }
        const auto root = doc.document_element();
        EXPECT_EQ(test::local_of(root.name()), "body") << r.body;
        EXPECT_EQ(element_ns(root), k_ns_httpbind) << r.body;
        EXPECT_FALSE(root.next_sibling()) << r.body;
        // XEP-0206 §2 (checklist #39): stream-prefixed payloads resolve.
        for (auto c : root.children()) {
            if (test::prefix_of(c.name()) == "stream") {
                EXPECT_EQ(element_ns(c), k_ns_streams) << r.body;
            }
        }
    }
    return actions;
}

// ---- the session fixture ----------------------------------------------------------------

class SessionTest : public ::testing::Test {
protected:
    Limits limits_ = test_limits();
    TimePoint t0_ {};
    std::optional<Session> s_;
    RequestId next_id_ = 1;
    RequestId creation_id_ = 0;

    Session& s() { return *s_; }
    RequestId new_id() { return next_id_++; }

    // The creation request: negotiate, then Session::create.
    Actions open(const std::string& xml, TimePoint now)
    {
        const BodyRequest req = parse(xml);
        auto n = negotiate(req, limits_, serves);
        if (!n) {
            ADD_FAILURE() << "negotiation failed: " << to_wire(n.error());
            return {};
        }
        creation_id_ = new_id();
        auto [session, actions] = Session::create(k_sid, *n, limits_, creation_id_, req, now);
        s_.emplace(std::move(session));
        return check_responses(actions);
    }

    // Creation plus the server's first features: returns the creation response.
    Reply establish(const std::string& attrs = k_modern, std::uint64_t rid = R)
    {
        open(new_body(rid, attrs), t0_);
        return reply_to(upstream({features()}, t0_), creation_id_);
    }

    Actions send(RequestId id, const std::string& xml, TimePoint now)
    {
        return check_responses(s().on_request(id, parse(xml), now));
    }
    Actions upstream(std::vector<UpstreamElement> elements, TimePoint now)
    {
        return check_responses(s().on_upstream(std::move(elements), now));
    }
    Actions tick(TimePoint now) { return check_responses(s().on_tick(now)); }

    // A request that should be answered at once (used to walk the rid sequence).
    Reply send_and_get(const std::string& xml, TimePoint now)
    {
        const RequestId id = new_id();
        return reply_to(send(id, xml, now), id);
    }
};

}  // namespace bosun::bosh::test
