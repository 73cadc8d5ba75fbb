#pragma once
// TLS channel binding data for SCRAM -PLUS (I/O edge: reads the OpenSSL
// connection). RFC 9266 tls-exporter, RFC 5929 tls-server-end-point and
// tls-unique.

#include <optional>
#include <string>
#include <string_view>

struct ssl_st;  // OpenSSL's SSL

namespace bosun::xmpp {

/// The binding data of `type` for an established client connection, or
/// nullopt when the type is unknown or does not apply:
///  - "tls-exporter": TLS 1.3 only; 32 bytes exported with the label
///    "EXPORTER-Channel-Binding" and no context (RFC 9266 §2).
///  - "tls-server-end-point": the hash of the server certificate with its
///    signature hash, SHA-256 for MD5 and SHA-1 (RFC 5929 §4.1).
///  - "tls-unique": TLS 1.2 only and with extended master secret
///    (RFC 7627 §5.4); the first Finished message of the handshake (RFC 5929 §3.1).
std::optional<std::string> channel_binding_data(ssl_st* ssl, std::string_view type);

}  // namespace bosun::xmpp
