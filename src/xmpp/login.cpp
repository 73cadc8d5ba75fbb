#include "xmpp/login.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/base64.hpp"
#include "common/random.hpp"
#include "common/xml_escape.hpp"
#include "xmpp/stanza.hpp"

namespace bosun::xmpp {
namespace {

constexpr std::string_view sasl_ns = "urn:ietf:params:xml:ns:xmpp-sasl";
constexpr std::string_view sasl_cb_ns = "urn:xmpp:sasl-cb:0";  // XEP-0440
constexpr std::string_view bind_ns = "urn:ietf:params:xml:ns:xmpp-bind";
constexpr std::string_view session_ns = "urn:ietf:params:xml:ns:xmpp-session";
constexpr std::string_view stream_errors_ns = "urn:ietf:params:xml:ns:xmpp-streams";
constexpr std::string_view stanza_errors_ns = "urn:ietf:params:xml:ns:xmpp-stanzas";

// ---- Reading elements (pugixml has no namespaces: resolve by hand) ----

std::string_view local_name(std::string_view qname)
{
    auto colon = qname.find(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// The namespace of `node`: its prefix (or the default) looked up through its
// own and its ancestors' declarations, then the stream header's.
std::string namespace_of(const pugi::xml_node& node, const StreamHeader& header)
{
    std::string_view qname = node.name();
    auto colon = qname.find(':');
    std::string decl = colon == std::string_view::npos
        ? std::string("xmlns")
        : "xmlns:" + std::string(qname.substr(0, colon));
    for (pugi::xml_node n = node; n.type() == pugi::node_element; n = n.parent()) {
        if (auto a = n.attribute(decl.c_str()))
            return a.value();
    }
    return std::string(header.attr(decl));
}

bool is(const pugi::xml_node& node, std::string_view local, std::string_view ns,
    const StreamHeader& header)
{
    return node.type() == pugi::node_element && local_name(node.name()) == local
        && namespace_of(node, header) == ns;
}

pugi::xml_node child(const pugi::xml_node& parent, std::string_view local, std::string_view ns,
    const StreamHeader& header)
{
    for (pugi::xml_node c : parent.children()) {
        if (is(c, local, ns, header))
            return c;
    }
    return {};
}

// RFC 6120 §4.9.2, §6.5, §8.3.2: the defined condition is the child in the
// namespace that is not <text/> (whose content we never read).
std::string condition_in(
    const pugi::xml_node& parent, std::string_view ns, const StreamHeader& header)
{
    for (pugi::xml_node c : parent.children()) {
        if (c.type() != pugi::node_element || local_name(c.name()) == "text")
            continue;
        if (namespace_of(c, header) == ns)
            return std::string(local_name(c.name()));
    }
    return {};
}

std::string trimmed_text(const pugi::xml_node& node)
{
    std::string_view text = node.child_value();
    auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return {};
    auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

sasl::ServerOffer read_offer(const pugi::xml_node& features, const StreamHeader& header)
{
    sasl::ServerOffer offer;
    pugi::xml_node mechanisms = child(features, "mechanisms", sasl_ns, header);
    for (pugi::xml_node m : mechanisms.children()) {
        if (is(m, "mechanism", sasl_ns, header))
            offer.mechanisms.push_back(trimmed_text(m));
    }
    if (pugi::xml_node cb = child(features, "sasl-channel-binding", sasl_cb_ns, header)) {
        offer.channel_bindings.emplace();
        for (pugi::xml_node type : cb.children()) {
            if (is(type, "channel-binding", sasl_cb_ns, header))
                offer.channel_bindings->push_back(type.attribute("type").value());
        }
    }
    return offer;
}

std::string join(const std::vector<std::string>& items)
{
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : " ") + item;
    return out;
}

// jabber:client, or no namespace declared at all (an empty header).
bool in_client_namespace(const pugi::xml_node& node, const StreamHeader& header)
{
    std::string ns = namespace_of(node, header);
    return ns == jabber_client_namespace || ns.empty();
}

// RFC 6120 §8: message, presence or iq.
bool is_stanza(const pugi::xml_node& root, const StreamHeader& header)
{
    std::string_view local = local_name(root.name());
    return (local == "message" || local == "presence" || local == "iq")
        && in_client_namespace(root, header);
}

// RFC 6120 §8.3.2: the <error/> child of a stanza.
pugi::xml_node stanza_error(const pugi::xml_node& stanza, const StreamHeader& header)
{
    for (pugi::xml_node c : stanza.children()) {
        if (c.type() == pugi::node_element && local_name(c.name()) == "error"
            && in_client_namespace(c, header))
            return c;
    }
    return {};
}

// ---- Writing ----

// RFC 6120 §6.4.2: a zero-length initial response is a single "=".
std::string auth_xml(sasl::Mechanism m, std::string_view initial)
{
    std::string out = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='";
    out += sasl::name(m);
    out += "'>";
    out += initial.empty() ? std::string("=") : base64_encode(initial);
    out += "</auth>";
    return out;
}

std::string response_xml(std::string_view data)
{
    if (data.empty())
        return "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
    return "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64_encode(data)
        + "</response>";
}

std::string new_id(std::string_view what)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t v = random_u64();
    std::string id = "bosun-" + std::string(what) + "-";
    for (int i = 0; i < 16; ++i, v >>= 4)
        id += hex[v & 0xf];
    return id;
}

// RFC 6120 §7.4: the resource is optional; the server picks one without it.
std::string bind_xml(std::string_view id, std::string_view resource)
{
    std::string out = "<iq type='set' id='" + std::string(id)
        + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'";
    if (resource.empty())
        return out + "/></iq>";
    out += "><resource>";
    append_xml_escaped(out, resource);
    return out + "</resource></bind></iq>";
}

// RFC 3921 §3 (draft-cridland-xmpp-session-01): only when required.
std::string session_xml(std::string_view id)
{
    return "<iq type='set' id='" + std::string(id)
        + "'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>";
}

// RFC 6120 §6.5 conditions to our errors; the rest are sasl_failure.
LoginError sasl_failure_error(std::string_view condition)
{
    struct Row {
        std::string_view condition;
        LoginError error;
    };
    static constexpr Row rows[] = {
        {"not-authorized", LoginError::not_authorized},
        {"account-disabled", LoginError::account_disabled},
        {"credentials-expired", LoginError::credentials_expired},
        {"temporary-auth-failure", LoginError::temporary_auth_failure},
        {"invalid-mechanism", LoginError::mechanism_unavailable},
        {"mechanism-too-weak", LoginError::mechanism_unavailable},
        {"encryption-required", LoginError::mechanism_unavailable},
    };
    for (const auto& row : rows) {
        if (row.condition == condition)
            return row.error;
    }
    return LoginError::sasl_failure;
}

LoginError scram_error(sasl::Error e)
{
    switch (e) {
    case sasl::Error::server_signature_mismatch:
        return LoginError::server_signature_mismatch;
    case sasl::Error::server_error:
    case sasl::Error::weak_iteration_count:
        return LoginError::sasl_failure;
    default:
        return LoginError::protocol_error;
    }
}

// A challenge or success payload: empty, "=" (RFC 6120 §6.4.2) or base64.
std::optional<std::string> sasl_payload(const pugi::xml_node& node)
{
    std::string text = trimmed_text(node);
    if (text.empty() || text == "=")
        return std::string();
    return base64_decode(text);
}

}  // namespace

Login::Login(LoginRequest req, ChannelBindingFn cb, std::string test_nonce)
    : req_(std::move(req))
    , cb_(std::move(cb))
    , test_nonce_(std::move(test_nonce))
{
}

Login::~Login()
{
    sasl::wipe(req_.secret);
}

std::vector<LoginStep> Login::on_element(const StreamHeader& header, const Element& e)
{
    if (state_ == State::finished)
        return {};
    // RFC 6120 §4.9.1.1: a stream error ends the stream, whatever the step.
    if (is_stream_element(header, e, "error")) {
        pugi::xml_document doc;
        std::string condition;
        if (doc.load_buffer(e.xml.data(), e.xml.size()))
            condition = condition_in(doc.document_element(), stream_errors_ns, header);
        return fail(LoginError::stream_error, condition, "server sent stream error: " + condition);
    }
    switch (state_) {
    case State::features:
        return on_features(header, e);
    case State::sasl:
        return on_sasl_element(header, e);
    case State::restart_features:
        return on_bind_features(header, e);
    case State::bind:
    case State::session:
        return on_iq_reply(header, e);
    case State::finished:
        break;
    }
    return {};
}

// RFC 6120 §6.4.1-2: pick a mechanism from the features and start.
std::vector<LoginStep> Login::on_features(const StreamHeader& header, const Element& e)
{
    pugi::xml_document doc;
    if (!is_stream_element(header, e, "features") || !doc.load_buffer(e.xml.data(), e.xml.size()))
        return fail(
            LoginError::protocol_error, {}, "expected <stream:features/>, got <" + e.qname + ">");
    sasl::ServerOffer offer = read_offer(doc.document_element(), header);
    auto selection = sasl::choose(req_.policy, offer, req_.confidential, cb_);
    if (!selection)
        return fail(LoginError::mechanism_unavailable, {},
            "no SASL mechanism the policy allows among [" + join(offer.mechanisms) + "]"
                + (req_.confidential ? "" : " (stream not confidential)"));
    std::string_view authcid;
    if (req_.policy != sasl::Policy::anonymous)
        authcid = req_.username;
    sasl::Mechanism mechanism = selection->mechanism;
    mechanism_ = sasl::name(mechanism);
    client_
        = std::make_unique<sasl::Client>(std::move(*selection), authcid, req_.secret, test_nonce_);
    sasl::wipe(req_.secret);  // the client holds it now
    std::string initial = client_->initial_response();
    LoginSend send {auth_xml(mechanism, initial)};
    sasl::wipe(initial);
    state_ = State::sasl;
    return {std::move(send)};
}

// RFC 6120 §6.4.3-6.4.6: challenge, success or failure.
std::vector<LoginStep> Login::on_sasl_element(const StreamHeader& header, const Element& e)
{
    pugi::xml_document doc;
    if (!doc.load_buffer(e.xml.data(), e.xml.size()))
        return fail(LoginError::protocol_error, {}, "unreadable element during SASL");
    pugi::xml_node root = doc.document_element();
    if (is(root, "failure", sasl_ns, header)) {
        std::string condition = condition_in(root, sasl_ns, header);
        return fail(sasl_failure_error(condition), condition,
            "SASL " + mechanism_ + " failed: " + (condition.empty() ? "no condition" : condition));
    }
    bool challenge = is(root, "challenge", sasl_ns, header);
    if (!challenge && !is(root, "success", sasl_ns, header))
        return fail(LoginError::protocol_error, {}, "unexpected <" + e.qname + "> during SASL");
    auto payload = sasl_payload(root);
    if (!payload)
        return fail(LoginError::protocol_error, {}, "SASL payload is not valid base64");
    if (challenge) {
        auto reply = client_->respond(*payload);
        if (!reply)
            return fail(scram_error(reply.error()), {},
                "SASL " + mechanism_ + ": " + std::string(sasl::describe(reply.error())));
        LoginSend send {response_xml(*reply)};
        sasl::wipe(*reply);
        return {std::move(send)};
    }
    auto verified = client_->verify_success(*payload);
    if (!verified)
        return fail(scram_error(verified.error()), {},
            "SASL " + mechanism_ + ": " + std::string(sasl::describe(verified.error())));
    client_.reset();  // wipes the keys
    // RFC 6120 §6.4.6: the client restarts the stream at once.
    state_ = State::restart_features;
    return {LoginRestart {}};
}

// RFC 6120 §7.1: bind on the restarted stream; note whether the legacy
// session IQ is required (reference/prebind-and-auth.md §6.4 step 6).
std::vector<LoginStep> Login::on_bind_features(const StreamHeader& header, const Element& e)
{
    pugi::xml_document doc;
    if (!is_stream_element(header, e, "features") || !doc.load_buffer(e.xml.data(), e.xml.size()))
        return fail(LoginError::protocol_error, {},
            "expected <stream:features/> after SASL, got <" + e.qname + ">");
    pugi::xml_node features = doc.document_element();
    if (!child(features, "bind", bind_ns, header))
        return fail(LoginError::bind_failed, {}, "server offered no resource binding");
    pugi::xml_node session = child(features, "session", session_ns, header);
    session_required_ = session && !child(session, "optional", session_ns, header);
    bind_id_ = new_id("bind");
    state_ = State::bind;
    return {LoginSend {bind_xml(bind_id_, req_.resource)}};
}

namespace {

// Lowercase ASCII letters; other bytes stay as they are.
std::string ascii_lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return out;
}

bool is_ascii(std::string_view s)
{
    return std::all_of(
        s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Issue 4: the prebind response names the account the caller asked for, so
// the bound JID must be of the same domain, and (except for ANONYMOUS, where
// the server picks the localpart) of the same localpart. Servers case-fold
// localparts and domains (RFC 7622 §3.2, §3.3), so ASCII case is ignored; a
// localpart with non-ASCII characters is checked by its domain only, since
// its folded form is the server's to choose.
bool bound_as_requested(std::string_view jid, const LoginRequest& req)
{
    const auto bare = jid.substr(0, jid.find('/'));
    const auto at = bare.find('@');
    const auto local = at == std::string_view::npos ? std::string_view {} : bare.substr(0, at);
    const auto domain = at == std::string_view::npos ? bare : bare.substr(at + 1);
    if (ascii_lower(domain) != ascii_lower(req.domain))
        return false;
    if (req.policy == sasl::Policy::anonymous)
        return true;
    if (!is_ascii(req.username) || !is_ascii(local))
        return !local.empty();
    return ascii_lower(local) == ascii_lower(req.username);
}

}  // namespace

// RFC 6120 §7.6: the bind result; then the session result if required.
// Other stanzas are kept for the browser.
std::vector<LoginStep> Login::on_iq_reply(const StreamHeader& header, const Element& e)
{
    pugi::xml_document doc;
    if (!doc.load_buffer(e.xml.data(), e.xml.size()))
        return fail(LoginError::protocol_error, {}, "unreadable element during bind");
    pugi::xml_node root = doc.document_element();
    if (!is_stanza(root, header))
        return fail(LoginError::protocol_error, {}, "unexpected <" + e.qname + "> during bind");
    const std::string& expected = state_ == State::bind ? bind_id_ : session_id_;
    std::string_view type = root.attribute("type").value();
    bool reply = local_name(root.name()) == "iq" && root.attribute("id").value() == expected
        && (type == "result" || type == "error");
    if (!reply) {
        early_.push_back(e);
        return {};
    }
    const char* what = state_ == State::bind ? "resource bind" : "session IQ";
    if (type == "error") {
        std::string condition = condition_in(stanza_error(root, header), stanza_errors_ns, header);
        return fail(
            LoginError::bind_failed, condition, std::string(what) + " failed: " + condition);
    }
    if (state_ == State::session)
        return done();
    jid_ = trimmed_text(child(child(root, "bind", bind_ns, header), "jid", bind_ns, header));
    if (jid_.empty())
        return fail(LoginError::bind_failed, {}, "bind result carries no <jid/>");
    if (!bound_as_requested(jid_, req_))
        return fail(LoginError::bind_failed, {},
            "the server bound a JID of another account or domain than requested");
    if (!session_required_)
        return done();
    session_id_ = new_id("session");
    state_ = State::session;
    return {LoginSend {session_xml(session_id_)}};
}

std::vector<LoginStep> Login::done()
{
    state_ = State::finished;
    return {LoginDone {jid_, mechanism_, std::move(early_)}};
}

std::vector<LoginStep> Login::fail(LoginError error, std::string condition, std::string detail)
{
    state_ = State::finished;
    client_.reset();
    sasl::wipe(req_.secret);
    return {LoginFailed {error, std::move(condition), std::move(detail)}};
}

}  // namespace bosun::xmpp
