#pragma once
// The XEP-0124 <body/> wrapper: parsing client requests and serializing
// responses. Pure: no I/O, no clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bosun/condition.hpp"
#include "bosun/expected.hpp"

namespace bosun::bosh {

inline constexpr std::string_view k_ns_httpbind = "http://jabber.org/protocol/httpbind";
inline constexpr std::string_view k_ns_xbosh = "urn:xmpp:xbosh";
inline constexpr std::string_view k_ns_streams = "http://etherx.jabber.org/streams";
inline constexpr std::string_view k_ns_client = "jabber:client";
/// XEP-0124 §7.2 'accept': the request content codings the HTTP front end
/// decodes (src/http/coding.hpp), advertised in every creation response.
inline constexpr std::string_view k_accepted_codings = "deflate gzip";
/// XEP-0124 §14.1: rids stay below 2^53 so JavaScript clients can count them.
inline constexpr std::uint64_t k_max_rid = (std::uint64_t{1} << 53) - 1;

/// XEP-0124 §7.1 'ver': <major>.<minor>, each compared as an integer (checklist #23).
struct Version {
    unsigned major = 0;
    unsigned minor = 0;
    friend bool operator==(const Version&, const Version&) = default;
    friend auto operator<=>(const Version&, const Version&) = default;
};

/// The highest XEP-0124 version Bosun implements.
inline constexpr Version k_our_version{1, 11};

/// A parsed client request body.
struct BodyRequest {
    std::uint64_t rid = 0;
    std::optional<std::string> sid;
    // Session creation attributes (§7.1); ignored on later requests (checklist #30).
    std::optional<std::string> to;
    std::optional<std::string> from;
    std::optional<std::string> route;
    std::optional<std::string> lang;        ///< xml:lang
    std::optional<std::string> content;     ///< requested Content-Type
    std::optional<unsigned> wait;
    std::optional<unsigned> hold;
    std::optional<Version> ver;
    std::optional<std::string> xmpp_version;  ///< urn:xmpp:xbosh 'version'
    std::optional<std::uint64_t> ack;
    std::optional<unsigned> pause;
    /// §15 key sequencing: 'key' is any text (checked by hashing it);
    /// 'newkey' must be 40 hex digits, the only form a key takes (§15.2).
    std::optional<std::string> key;
    std::optional<std::string> newkey;
    bool restart = false;     ///< urn:xmpp:xbosh 'restart'='true', by namespace (checklist #109)
    bool terminate = false;   ///< type='terminate'
    std::optional<std::string> condition;
    /// Child elements, serialized, in order. Unqualified children inherit no
    /// namespace here; on the upstream stream they become jabber:client
    /// (XEP-0206 §2, checklist #105).
    std::vector<std::string> payloads;
};

struct ParseFailure {
    Condition condition = Condition::bad_request;
    std::string detail;               ///< for the log; never contains payload text
    std::optional<std::string> sid;   ///< when it could still be read
};

/// Parses a request body (checklist #13–#15, #29).
Expected<BodyRequest, ParseFailure> parse_body(std::string_view text);

/// Parses "1.6"-style versions; nullopt when malformed.
std::optional<Version> parse_version(std::string_view s);
std::string to_string(Version v);

/// Builds a response <body/>. Attribute values are escaped here; payloads are
/// complete, already-serialized elements. xmlns:stream is declared when a
/// payload needs it (XEP-0206 §2, checklist #39).
class ResponseBuilder {
public:
    ResponseBuilder& attr(std::string_view name, std::string_view value);
    ResponseBuilder& payload(std::string_view xml);
    ResponseBuilder& declare_stream_ns();
    std::string build() const;

private:
    std::vector<std::pair<std::string, std::string>> attrs_;
    std::string payloads_;
    bool stream_ns_ = false;
};

/// A terminal binding error body (§17.2): type='terminate' condition='…',
/// optionally carrying payloads (e.g. a <stream:error/> for remote-stream-error).
std::string terminate_body(Condition condition, const std::vector<std::string>& payloads = {});

}  // namespace bosun::bosh
