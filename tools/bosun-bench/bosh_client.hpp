#pragma once
// A BOSH session that behaves like Strophe.js: hold=1, at most two requests
// in flight, one (empty) request always held by the server, outgoing stanzas
// sent at once on the second slot, two keep-alive HTTP connections.

#include <memory>
#include <string>
#include <string_view>

#include "runner.hpp"

namespace bosun::bench {

struct HttpTarget {
    tcp::endpoint endpoint;
    std::string host;  // Host header
    std::string path;
};

// Parses http://host:port/path and resolves host (once, before the run).
bool resolve_http_url(
    net::io_context& io, const std::string& url, HttpTarget& out, std::string& error);

struct BoshTargets {
    HttpTarget bosh;
    HttpTarget prebind;  // --login prebind only
    std::string api_key;
};

std::shared_ptr<Client> make_bosh_client(
    Context& ctx, const BoshTargets& targets, std::size_t index, std::uint32_t user);

// True for <stream:features/> whatever prefix (or none) the server uses.
bool is_stream_features(const char* name);

// The SASL PLAIN <auth/> element (RFC 4616: no authzid, the localpart of
// `jid` as authcid) that both clients send.
std::string plain_auth_element(std::string_view jid, std::string_view password);

}  // namespace bosun::bench
