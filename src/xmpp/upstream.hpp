#pragma once
// One XMPP client stream to the upstream server, per BOSH session (I/O edge).
// It resolves and connects, opens the stream, negotiates STARTTLS as the
// policy says (verifying the server certificate), and then reports the
// post-TLS stream header and every top-level element to its owner. The TLS
// step is invisible to the owner: it only ever sees the features of the
// stream it may use.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bosun/config.hpp"
#include "common/asio.hpp"
#include "xmpp/framer.hpp"
#include "xmpp/opening_gate.hpp"

namespace bosun::xmpp {

/// Attributes for an outgoing <stream:stream> header (RFC 6120 §4.7,
/// XEP-0206 §3: taken from the BOSH body's to, from, xml:lang, xmpp:version).
struct StreamOpen {
    std::string to;
    std::string from;      ///< may be empty
    std::string lang;      ///< may be empty
    std::string version = "1.0";
};

/// Why the upstream stream ended.
struct UpstreamClosed {
    enum class Kind {
        connect_failed,   ///< DNS, refused, timeout: remote-connection-failed
        busy,             ///< too many connections being opened: not tried at all
        tls_failed,       ///< STARTTLS missing while required, handshake or verification failed
        closed,           ///< the server closed the TCP connection or the stream
        stream_error,     ///< the server sent <stream:error/> (delivered first as an element)
        protocol_error,   ///< the server sent bad XML (framer error)
        local,            ///< we closed it (close() was called)
    };
    Kind kind = Kind::closed;
    std::string detail;   ///< human-readable reason for the log; never secrets
};

/// Callbacks, called on the connection's executor. The owner must outlive the
/// connection or call close(), after which no callback is made.
class UpstreamEvents {
public:
    virtual ~UpstreamEvents() = default;
    /// The server opened the (post-TLS) stream: its header.
    virtual void on_upstream_open(const StreamHeader& header) = 0;
    /// One complete top-level element, <stream:features/> and <stream:error/> included.
    virtual void on_upstream_element(Element element) = 0;
    /// The stream ended; called once.
    virtual void on_upstream_closed(UpstreamClosed why) = 0;
};

struct UpstreamTarget {
    std::string host;
    std::uint16_t port = 5222;
    TlsPolicy tls = TlsPolicy::required;
    std::string tls_server_name;   ///< name the certificate must carry
    Seconds connect_timeout{10};
    std::size_t max_stanza_bytes = 256 * 1024;
    std::size_t max_write_queue_bytes = 1024 * 1024;
};

class UpstreamConnection : public std::enable_shared_from_this<UpstreamConnection> {
public:
    /// `tls_ctx` is shared by every connection to the same upstream and holds
    /// the trust store (CA file or system store) with verify_peer set. With a
    /// `gate`, the connection holds one of its slots from start() until its
    /// stream is open or it ends, and waits for one (within connect_timeout)
    /// or ends at once as `busy` when the gate says so.
    static std::shared_ptr<UpstreamConnection> create(net::any_io_executor ex,
                                                      UpstreamTarget target,
                                                      std::shared_ptr<ssl::context> tls_ctx,
                                                      UpstreamEvents& events,
                                                      std::shared_ptr<OpeningGate> gate = {});
    virtual ~UpstreamConnection() = default;

    /// Starts connecting; events follow.
    virtual void start(StreamOpen open) = 0;
    /// Queues bytes (serialized stanzas) for the server. Returns false if the
    /// write queue is over its limit (the owner then ends the session).
    virtual bool send(std::string data) = 0;
    /// XEP-0206 §5 / RFC 6120 §4.3.3: sends a new stream header on the same
    /// connection and resets the framer. Call only after the server's SASL success.
    virtual void restart(StreamOpen open) = 0;
    /// Sends </stream:stream> after the queued data, then closes. No more callbacks.
    virtual void close() = 0;
    /// Bytes waiting to be written.
    virtual std::size_t queued_bytes() const = 0;
    /// STARTTLS completed: the stream the owner sees is encrypted.
    virtual bool tls_active() const = 0;
    /// Channel binding data for SCRAM -PLUS ("tls-exporter",
    /// "tls-server-end-point", "tls-unique"; see xmpp/channel_binding.hpp),
    /// or nullopt without TLS or when the type does not apply.
    virtual std::optional<std::string> channel_binding(std::string_view type) const = 0;
};

/// Builds a client TLS context for an upstream: TLS 1.2+, verify_peer, and
/// the CA file or the system default paths. Throws std::runtime_error with a
/// clear message if the CA file cannot be loaded (start-up only).
std::shared_ptr<ssl::context> make_upstream_tls_context(const std::string& ca_file);

}  // namespace bosun::xmpp
