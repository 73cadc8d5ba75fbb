#include "xmpp/upstream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/log.hpp"
#include "common/xml_escape.hpp"
#include "xmpp/channel_binding.hpp"
#include "xmpp/stanza.hpp"

// Memory (STYLE.md, target <= 16 KiB per idle session): TLS does not use
// Asio's ssl::stream, which allocates ~79 KiB per connection (two 17 KiB
// stream_core buffers and a 2 x 17 KiB BIO pair) whether idle or not.
// OpenSSL instead reads and writes the non-blocking socket itself through a
// small BIO, and we wait for readiness with socket.async_wait (Asio's
// "reactor-style" operations). Reads go through a 4 KiB buffer on the
// thread's stack and the write queue is released once drained, so an idle
// session holds no I/O buffer of ours. Once the stream is open, reading is
// a plain completion handler re-armed on each readiness (read_ready), not a
// suspended coroutine chain: an idle connection then holds one small
// handler instead of four coroutine frames (~1.5 KiB). Measured with
// heaptrack on Debian 12 (500 idle sessions, OpenSSL 3.0): ~17 KiB per TLS
// connection is OpenSSL's own state (the SSL object alone is 7.6 KiB, the two
// AES-GCM contexts 1.9 KiB, the peer certificate and session ~2 KiB).

namespace bosun::xmpp {
namespace {

using Kind = UpstreamClosed::Kind;

constexpr std::string_view tls_ns = "urn:ietf:params:xml:ns:xmpp-tls";
constexpr std::string_view starttls_xml = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
constexpr std::string_view stream_close_xml = "</stream:stream>";
constexpr std::size_t read_chunk_bytes = 4096;
// The write queue drops its written prefix once it is this big and at least
// half the queue, so a long queue is not moved for every partial write.
constexpr std::size_t compact_after_bytes = 16 * 1024;

// ---- XML helpers (the pure framer does the parsing) ----

void append_attr(std::string& out, std::string_view name, std::string_view value)
{
    if (value.empty())
        return;
    out += ' ';
    out += name;
    out += "='";
    append_xml_escaped(out, value);
    out += '\'';
}

// RFC 6120 §4.7 / XEP-0206 §3. A new XML document starts with every stream
// (after STARTTLS and SASL too), so the declaration may come each time.
std::string stream_header_xml(const StreamOpen& open)
{
    std::string out = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams'";
    append_attr(out, "to", open.to);
    append_attr(out, "version", open.version.empty() ? std::string_view("1.0") : open.version);
    append_attr(out, "from", open.from);
    append_attr(out, "xml:lang", open.lang);
    out += '>';
    return out;
}

// RFC 6120 §4.9: the stream error we send for bad XML, then our close tag.
std::string stream_error_xml(std::string_view condition)
{
    return fmt::format("<stream:error><{} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                       "</stream:error></stream:stream>",
        condition);
}

// What is_stream_element() needs of a header: its namespace declarations.
// Kept instead of the whole header, which idle sessions need not carry.
StreamHeader namespace_scope(const StreamHeader& header)
{
    StreamHeader scope;
    for (const auto& attribute : header.attributes) {
        if (attribute.first == "xmlns" || attribute.first.starts_with("xmlns:"))
            scope.attributes.push_back(attribute);
    }
    return scope;
}

// The name of the first child, e.g. "host-unknown" in a <stream:error/>.
std::string_view first_child_name(std::string_view xml)
{
    auto start_end = xml.find('>');
    if (start_end == std::string_view::npos || (start_end > 0 && xml[start_end - 1] == '/'))
        return {};
    auto lt = xml.find('<', start_end);
    if (lt == std::string_view::npos || lt + 1 >= xml.size() || xml[lt + 1] == '/')
        return {};
    auto end = xml.find_first_of(" \t\r\n/>", lt + 1);
    return xml.substr(lt + 1, end == std::string_view::npos ? end : end - lt - 1);
}

// RFC 6120 §5.4.1: <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/> in the features.
bool offers_starttls(const Element& features)
{
    std::string_view xml = features.xml;
    return xml.find(tls_ns) != std::string_view::npos
        && xml.find("starttls") != std::string_view::npos;
}

bool is_tls_element(const Element& element, std::string_view local)
{
    if (element.qname != local)
        return false;
    for (const auto& [name, value] : start_tag_attributes(element.xml)) {
        if (name == "xmlns")
            return value == tls_ns;
    }
    return false;
}

enum class TlsStep { starttls, plain, refuse };

TlsStep tls_step(TlsPolicy policy, bool offered)
{
    if (policy == TlsPolicy::none)
        return TlsStep::plain;
    if (offered)
        return TlsStep::starttls;
    return policy == TlsPolicy::required ? TlsStep::refuse : TlsStep::plain;
}

// ---- Transport: plain TCP, or OpenSSL straight on the socket ----

enum class Want { nothing, read, write };

// One non-blocking attempt: bytes moved, or what to wait for, or an error.
struct IoStep {
    std::size_t bytes = 0;
    Want want = Want::nothing;
    error_code ec;
};

struct SocketBioState {
    tcp::socket* socket;
    error_code last;
    bool eof = false;
};

int socket_bio_read(BIO* bio, char* data, int size)
{
    auto& state = *static_cast<SocketBioState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    error_code ec;
    auto n = state.socket->read_some(net::buffer(data, static_cast<std::size_t>(size)), ec);
    if (!ec)
        return static_cast<int>(n);
    if (ec == net::error::would_block || ec == net::error::try_again) {
        BIO_set_retry_read(bio);
        return -1;
    }
    state.eof = ec == net::error::eof;
    if (!state.eof)
        state.last = ec;
    return state.eof ? 0 : -1;
}

int socket_bio_write(BIO* bio, const char* data, int size)
{
    auto& state = *static_cast<SocketBioState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    error_code ec;
    // Asio sends with MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE.
    auto n = state.socket->write_some(net::buffer(data, static_cast<std::size_t>(size)), ec);
    if (!ec)
        return static_cast<int>(n);
    if (ec == net::error::would_block || ec == net::error::try_again) {
        BIO_set_retry_write(bio);
        return -1;
    }
    state.last = ec;
    return -1;
}

long socket_bio_ctrl(BIO* bio, int cmd, long, void*)
{
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return static_cast<SocketBioState*>(BIO_get_data(bio))->eof ? 1 : 0;
    default:
        return 0;
    }
}

int socket_bio_create(BIO* bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

// Created once and kept for the life of the process.
BIO_METHOD* socket_bio_method()
{
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bosun-socket");
        if (m == nullptr)
            return m;
        BIO_meth_set_read(m, socket_bio_read);
        BIO_meth_set_write(m, socket_bio_write);
        BIO_meth_set_ctrl(m, socket_bio_ctrl);
        BIO_meth_set_create(m, socket_bio_create);
        return m;
    }();
    return method;
}

error_code ssl_error_code(unsigned long err)
{
    return error_code(static_cast<int>(err), net::error::get_ssl_category());
}

// The certificate must carry this name: DNS-ID with SNI, or an IP address
// (RFC 6066 §3: no SNI for IP literals).
bool set_peer_name(SSL* ssl, const std::string& name)
{
    error_code not_ip;
    net::ip::make_address(name, not_ip);
    if (!not_ip)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set_tlsext_host_name(ssl, name.c_str()) == 1
        && SSL_set1_host(ssl, name.c_str()) == 1;
}

// SSL_free_buffers() is safe once CVE-2024-4741 (use after free with a
// partly read record) is fixed: 3.0.14, 3.1.6, 3.2.2, 3.3.1.
bool free_buffers_is_safe()
{
    static const bool safe = [] {
        unsigned long v = OpenSSL_version_num();  // 0xMNN00PPSL
        unsigned long major = v >> 28, minor = (v >> 20) & 0xff, patch = (v >> 4) & 0xff;
        if (major != 3 || minor > 3)
            return major > 3 || (major == 3 && minor > 3);
        constexpr unsigned long first_fixed[] = {14, 6, 2, 1};
        return patch >= first_fixed[minor];
    }();
    return safe;
}

struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};

class Transport {
public:
    explicit Transport(tcp::socket& socket)
        : bio_ {&socket, {}, false}
    {
    }

    error_code start_tls(SSL_CTX* ctx, const std::string& peer_name);
    IoStep handshake();
    IoStep read_some(char* data, std::size_t size);
    IoStep write_some(std::string_view data);
    IoStep shutdown_tls();
    bool secure() const { return ssl_ != nullptr; }
    SSL* native() const { return ssl_.get(); }
    long verify_result() const { return ssl_ ? SSL_get_verify_result(ssl_.get()) : X509_V_OK; }
    std::string describe() const;
    void release() { ssl_.reset(); }

private:
    void begin_call();
    IoStep ssl_step(int rc, std::size_t bytes);
    tcp::socket& socket() { return *bio_.socket; }

    SocketBioState bio_;
    std::unique_ptr<SSL, SslFree> ssl_;
};

error_code Transport::start_tls(SSL_CTX* ctx, const std::string& peer_name)
{
    begin_call();
    std::unique_ptr<SSL, SslFree> ssl {SSL_new(ctx)};
    BIO* bio = ssl ? BIO_new(socket_bio_method()) : nullptr;
    if (bio == nullptr)
        return ssl_error_code(ERR_get_error());
    BIO_set_data(bio, &bio_);
    SSL_set_bio(ssl.get(), bio, bio);
    SSL_set_mode(ssl.get(),
        SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE
            | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // Verification is not optional, whatever the context says.
    SSL_set_verify(ssl.get(), SSL_VERIFY_PEER, nullptr);
    if (!set_peer_name(ssl.get(), peer_name))
        return ssl_error_code(ERR_get_error());
    SSL_set_connect_state(ssl.get());
    ssl_ = std::move(ssl);
    return {};
}

void Transport::begin_call()
{
    ERR_clear_error();  // SSL_get_error reads the thread's error queue
    bio_.last = {};
}

IoStep Transport::ssl_step(int rc, std::size_t bytes)
{
    if (rc > 0)
        return {bytes};
    switch (SSL_get_error(ssl_.get(), rc)) {
    case SSL_ERROR_WANT_READ:
        return {0, Want::read};
    case SSL_ERROR_WANT_WRITE:
        return {0, Want::write};
    case SSL_ERROR_ZERO_RETURN:
        return {0, Want::nothing, net::error::eof};
    default:
        break;
    }
    if (auto err = ERR_get_error(); err != 0 && !bio_.eof)
        return {0, Want::nothing, ssl_error_code(err)};
    if (bio_.last)
        return {0, Want::nothing, bio_.last};
    return {0, Want::nothing, net::error::eof};
}

IoStep Transport::handshake()
{
    begin_call();
    return ssl_step(SSL_connect(ssl_.get()), 0);
}

IoStep Transport::read_some(char* data, std::size_t size)
{
    if (!ssl_) {
        error_code ec;
        auto n = socket().read_some(net::buffer(data, size), ec);
        if (ec == net::error::would_block || ec == net::error::try_again)
            return {0, Want::read};
        return {n, Want::nothing, ec};
    }
    begin_call();
    std::size_t n = 0;
    int rc = SSL_read_ex(ssl_.get(), data, size, &n);
    auto step = ssl_step(rc, n);
    // Going idle. RELEASE_BUFFERS misses the 16 KiB write buffer that
    // reading a TLS 1.3 NewSessionTicket allocates and never uses; this
    // frees both record buffers unless they hold data.
    if (step.want == Want::read && free_buffers_is_safe())
        SSL_free_buffers(ssl_.get());
    return step;
}

IoStep Transport::write_some(std::string_view data)
{
    if (!ssl_) {
        error_code ec;
        auto n = socket().write_some(net::buffer(data), ec);
        if (ec == net::error::would_block || ec == net::error::try_again)
            return {0, Want::write};
        return {n, Want::nothing, ec};
    }
    begin_call();
    std::size_t n = 0;
    int rc = SSL_write_ex(ssl_.get(), data.data(), data.size(), &n);
    return ssl_step(rc, n);
}

// Sends close_notify; the reader sees the server's (or EOF) later.
IoStep Transport::shutdown_tls()
{
    begin_call();
    int rc = SSL_shutdown(ssl_.get());
    return rc >= 0 ? IoStep {} : ssl_step(rc, 0);
}

std::string Transport::describe() const
{
    if (!ssl_)
        return "plain";
    return fmt::format("{} {}", SSL_get_version(ssl_.get()), SSL_get_cipher_name(ssl_.get()));
}

// ---- The connection ----

class Connection final : public UpstreamConnection {
public:
    Connection(net::any_io_executor ex, UpstreamTarget target,
        std::shared_ptr<ssl::context> tls_ctx, UpstreamEvents& events,
        std::shared_ptr<OpeningGate> gate);
    ~Connection() override;

    void start(StreamOpen open) override;
    bool send(std::string data) override;
    void restart(StreamOpen open) override;
    void close() override;
    std::size_t queued_bytes() const override { return out_.size() - out_sent_; }
    bool tls_active() const override
    {
        return transport_.secure() && SSL_is_init_finished(transport_.native()) == 1;
    }
    std::optional<std::string> channel_binding(std::string_view type) const override
    {
        return channel_binding_data(transport_.native(), type);
    }

private:
    enum class Phase { idle, connecting, negotiating, open, closing, closed };

    struct Opened {
        StreamHeader header;
        Element features;
    };

    std::shared_ptr<Connection> self();
    auto escape_handler();
    void on_escape(std::string_view what);
    std::string where() const;

    // The opening gate: a slot from start() until open or the end.
    void spawn_run(StreamOpen open);
    void leave_gate(bool hand_on = true);

    // The reader: connect, negotiate, then every element to the owner.
    net::awaitable<void> run(StreamOpen open);
    net::awaitable<bool> connect();
    net::awaitable<void> negotiate(StreamOpen open);
    net::awaitable<std::optional<Opened>> open_stream(StreamOpen open);
    net::awaitable<bool> start_tls(StreamOpen open);
    net::awaitable<error_code> handshake();
    void go_open(Opened opened);
    void read_ready();
    void pump_reads();
    void handle_event(FramerEvent event);
    net::awaitable<std::optional<FramerEvent>> next_event();
    net::awaitable<std::optional<StreamHeader>> next_header();
    net::awaitable<std::optional<Element>> next_element();
    void unexpected_event(const FramerEvent& event);
    IoStep read_and_feed();
    net::awaitable<error_code> wait(Want want);

    // The writer: one at a time, started when there is something to write.
    void kick_writer();
    net::awaitable<void> write_loop();
    net::awaitable<bool> write_now(std::string data);
    net::awaitable<void> shutdown_send();
    void consume(std::size_t bytes);

    // Endings.
    void report_open(const StreamHeader& header);
    void deliver(Element element);
    void notify_closed(Kind kind, std::string detail);
    void fail(Kind kind, std::string detail);
    void end_stream(Kind kind, std::string detail, std::string tail);
    void begin_graceful(std::string tail);
    void hard_close();
    void on_read_error(error_code ec);
    void on_write_error(error_code ec);
    void on_framer_error();
    std::string tls_failure_detail(error_code ec) const;
    void arm_timer(Seconds after);
    void on_timer();

    UpstreamTarget target_;
    std::shared_ptr<ssl::context> tls_ctx_;
    UpstreamEvents* events_;
    std::shared_ptr<OpeningGate> gate_;
    OpeningGate::Ticket ticket_;  ///< valid while queued_
    bool queued_ = false;         ///< waiting in the gate's queue
    bool holds_slot_ = false;     ///< one of the gate's slots is ours
    tcp::resolver resolver_;
    tcp::socket socket_;
    net::steady_timer timer_;  ///< connect+TLS+features deadline, then the close linger
    Transport transport_;
    Framer framer_;
    FramerError framer_error_ = FramerError::none;
    std::vector<FramerEvent> pending_;  ///< framed, not yet handled
    std::size_t pending_next_ = 0;
    std::string out_;  ///< write queue; out_[0, out_sent_) is already written
    std::size_t out_sent_ = 0;
    StreamHeader scope_;  ///< the server header's namespace declarations
    std::string tls_name_;
    const char* stage_ = "start";
    Phase phase_ = Phase::idle;
    bool writing_ = false;
    bool shutdown_sent_ = false;
};

Connection::Connection(net::any_io_executor ex, UpstreamTarget target,
    std::shared_ptr<ssl::context> tls_ctx, UpstreamEvents& events,
    std::shared_ptr<OpeningGate> gate)
    : target_(std::move(target))
    , tls_ctx_(std::move(tls_ctx))
    , events_(&events)
    , gate_(std::move(gate))
    , resolver_(ex)
    , socket_(ex)
    , timer_(ex)
    , transport_(socket_)
    , framer_(target_.max_stanza_bytes)
{
}

// A connection torn down while queued or opening (its io_context destroyed;
// otherwise a running coroutine or hard_close() comes first) gives its place
// back, so the gate's count can never leak. The slot is not handed on: no
// new work may start on an io_context being torn down.
Connection::~Connection()
{
    leave_gate(false);
}

std::shared_ptr<Connection> Connection::self()
{
    return std::static_pointer_cast<Connection>(shared_from_this());
}

auto Connection::escape_handler()
{
    return [self = self()](std::exception_ptr e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            self->on_escape(ex.what());
        } catch (...) {
            self->on_escape("unknown exception");
        }
    };
}

void Connection::on_escape(std::string_view what)
{
    log::error("upstream {}: {}", where(), what);
    fail(Kind::closed, fmt::format("internal error: {}", what));
}

std::string Connection::where() const
{
    if (target_.host.find(':') != std::string::npos)
        return fmt::format("[{}]:{}", target_.host, target_.port);
    return fmt::format("{}:{}", target_.host, target_.port);
}

void Connection::start(StreamOpen open)
{
    if (phase_ != Phase::idle)
        return;
    phase_ = Phase::connecting;
    // The deadline covers the wait for a slot as well as the opening itself.
    arm_timer(target_.connect_timeout);
    if (!gate_) {
        spawn_run(std::move(open));
        return;
    }
    // The resume callback runs from another connection's leave_gate(), with
    // this one still alive: the destructor withdraws it from the queue.
    auto resume = [this, open]() mutable {
        queued_ = false;
        holds_slot_ = true;
        spawn_run(std::move(open));
    };
    switch (gate_->arrive(std::move(resume), ticket_)) {
    case OpeningGate::Admission::enter:
        holds_slot_ = true;
        spawn_run(std::move(open));
        return;
    case OpeningGate::Admission::queued:
        queued_ = true;
        return;
    case OpeningGate::Admission::refused:
        // Reported from the executor, not from inside the owner's start().
        net::post(socket_.get_executor(), [self = self()] {
            self->fail(Kind::busy,
                fmt::format("not connecting to {}: {} connections being opened and {} waiting "
                            "(bosh.max_connecting, bosh.max_connect_queue)",
                    self->where(), self->gate_->opening(), self->gate_->queued()));
        });
        return;
    }
}

void Connection::spawn_run(StreamOpen open)
{
    net::co_spawn(
        socket_.get_executor(),
        [self = self(), open = std::move(open)]() mutable { return self->run(std::move(open)); },
        escape_handler());
}

// Leaves the queue or gives the slot back; `hand_on`: to the first waiter.
void Connection::leave_gate(bool hand_on)
{
    if (!gate_)
        return;
    if (std::exchange(queued_, false))
        gate_->withdraw(ticket_);
    if (!std::exchange(holds_slot_, false))
        return;
    if (hand_on)
        gate_->leave();
    else
        gate_->release();
}

bool Connection::send(std::string data)
{
    if (phase_ == Phase::closing || phase_ == Phase::closed)
        return false;
    if (queued_bytes() + data.size() > target_.max_write_queue_bytes)
        return false;
    if (out_.empty())
        out_ = std::move(data);
    else
        out_ += data;
    kick_writer();
    return true;
}

void Connection::restart(StreamOpen open)
{
    if (phase_ != Phase::open) {
        log::debug("upstream {}: restart ignored, stream not open", where());
        return;
    }
    // XEP-0206 §5 / RFC 6120 §4.3.3: the server sends nothing after <success/>
    // until our new header, so whatever the framer holds belongs to the old stream.
    framer_.reset();
    framer_error_ = FramerError::none;
    pending_next_ = pending_.size();
    out_ += stream_header_xml(open);
    kick_writer();
}

void Connection::close()
{
    events_ = nullptr;
    if (phase_ == Phase::open)
        begin_graceful(std::string(stream_close_xml));
    else if (phase_ != Phase::closing)
        hard_close();
}

// ---- Reader ----

net::awaitable<void> Connection::run(StreamOpen open)
{
    if (phase_ == Phase::closed)  // close() came before we ran
        co_return;
    // GCC 12.2 miscompiles co_await inside an if or while condition (the
    // frame is corrupt on resume), so awaited results go to a local first.
    bool connected = co_await connect();
    if (connected)
        co_await negotiate(std::move(open));
    // From here on, reads are handlers (read_ready); this frame ends.
    if (phase_ == Phase::open || phase_ == Phase::closing)
        pump_reads();
}

net::awaitable<bool> Connection::connect()
{
    stage_ = "resolve";
    // No address_configured flag: a host with only loopback must still resolve.
    auto [rec, endpoints]
        = co_await resolver_.async_resolve(target_.host, std::to_string(target_.port),
            tcp::resolver::numeric_service, net::as_tuple(net::use_awaitable));
    if (phase_ == Phase::closed)
        co_return false;
    if (rec) {
        fail(Kind::connect_failed, fmt::format("resolve {}: {}", where(), rec.message()));
        co_return false;
    }
    stage_ = "connect";
    auto [cec, endpoint]
        = co_await net::async_connect(socket_, endpoints, net::as_tuple(net::use_awaitable));
    error_code ec = cec;
    if (phase_ == Phase::closed) {
        // Closing aborts one attempt, but the range connect may have opened
        // the socket again for the next address.
        socket_.close(ec);
        co_return false;
    }
    if (!ec)
        socket_.non_blocking(true, ec);
    if (ec) {
        fail(Kind::connect_failed, fmt::format("connect {}: {}", where(), ec.message()));
        co_return false;
    }
    socket_.set_option(tcp::no_delay(true), ec);
    log::debug("upstream {}: connected to {}", where(), endpoint.address().to_string());
    co_return true;
}

net::awaitable<void> Connection::negotiate(StreamOpen open)
{
    phase_ = Phase::negotiating;
    stage_ = "stream negotiation";
    auto opened = co_await open_stream(open);
    if (!opened)
        co_return;
    switch (tls_step(target_.tls, offers_starttls(opened->features))) {
    case TlsStep::refuse:
        fail(Kind::tls_failed, "server did not offer STARTTLS and tls=required");
        co_return;
    case TlsStep::plain:
        go_open(std::move(*opened));
        co_return;
    case TlsStep::starttls:
        break;
    }
    bool secured = co_await start_tls(open);
    if (!secured)
        co_return;
    // RFC 6120 §5.4.3.3: only the features of the new stream count.
    stage_ = "stream negotiation after TLS";
    opened = co_await open_stream(std::move(open));
    if (opened)
        go_open(std::move(*opened));
}

// Sends our header, then reads the server's header and its first element,
// which must be <stream:features/> (RFC 6120 §4.3.2).
net::awaitable<std::optional<Connection::Opened>> Connection::open_stream(StreamOpen open)
{
    bool written = co_await write_now(stream_header_xml(open));
    if (!written)
        co_return std::nullopt;
    auto header = co_await next_header();
    if (!header)
        co_return std::nullopt;
    scope_ = namespace_scope(*header);
    auto features = co_await next_element();
    if (!features)
        co_return std::nullopt;
    if (is_stream_element(scope_, *features, "error")) {
        end_stream(Kind::stream_error,
            fmt::format("stream error during {}: {}", stage_, first_child_name(features->xml)),
            std::string(stream_close_xml));
        co_return std::nullopt;
    }
    if (!is_stream_element(scope_, *features, "features")) {
        end_stream(Kind::protocol_error,
            fmt::format("expected <stream:features/>, got <{}>", features->qname),
            stream_error_xml("invalid-xml"));
        co_return std::nullopt;
    }
    co_return Opened {std::move(*header), std::move(*features)};
}

// RFC 6120 §5.4.2: <starttls/>, <proceed/> or <failure/>, then the handshake
// on the same socket.
net::awaitable<bool> Connection::start_tls(StreamOpen open)
{
    stage_ = "STARTTLS";
    bool written = co_await write_now(std::string(starttls_xml));
    if (!written)
        co_return false;
    auto reply = co_await next_element();
    if (!reply)
        co_return false;
    if (!is_tls_element(*reply, "proceed")) {
        bool refused = is_tls_element(*reply, "failure");
        fail(Kind::tls_failed,
            refused ? std::string("server refused STARTTLS (<failure/>)")
                    : fmt::format("expected <proceed/>, got <{}>", reply->qname));
        co_return false;
    }
    // Anything sent in clear after <proceed/> is dropped, never read as
    // part of the TLS stream (the STARTTLS injection of CVE-2011-0411).
    framer_.reset();
    pending_ = {};
    pending_next_ = 0;
    tls_name_ = !target_.tls_server_name.empty() ? target_.tls_server_name
        : !open.to.empty()                       ? open.to
                                                 : target_.host;
    if (auto ec = transport_.start_tls(tls_ctx_->native_handle(), tls_name_)) {
        fail(Kind::tls_failed, fmt::format("TLS setup for '{}': {}", tls_name_, ec.message()));
        co_return false;
    }
    stage_ = "TLS handshake";
    auto ec = co_await handshake();
    if (phase_ == Phase::closed)
        co_return false;
    if (ec) {
        fail(Kind::tls_failed, tls_failure_detail(ec));
        co_return false;
    }
    log::debug("upstream {}: TLS established ({})", where(), transport_.describe());
    co_return true;
}

net::awaitable<error_code> Connection::handshake()
{
    for (;;) {
        auto step = transport_.handshake();
        if (step.want == Want::nothing)
            co_return step.ec;
        auto ec = co_await wait(step.want);
        if (ec)
            co_return ec;
    }
}

// Punjab #49, #64: say why, so an operator can fix the trust store or name.
std::string Connection::tls_failure_detail(error_code ec) const
{
    long result = transport_.verify_result();
    if (result != X509_V_OK)
        return fmt::format("certificate verification failed for {} (expected name '{}'): {}",
            where(), tls_name_, X509_verify_cert_error_string(result));
    return fmt::format("TLS handshake with {} failed: {}", where(), ec.message());
}

void Connection::go_open(Opened opened)
{
    timer_.cancel();
    leave_gate();
    phase_ = Phase::open;
    stage_ = "open stream";
    report_open(opened.header);
    deliver(std::move(opened.features));
    kick_writer();  // anything the owner queued early
}

// The reader of an open (or closing) stream: hands what is framed to the
// owner, reads until the socket would block, then waits for readiness with
// a handler. While closing, bytes are read and dropped until the server
// closes or the linger timer ends it.
void Connection::pump_reads()
{
    while (phase_ == Phase::open || phase_ == Phase::closing) {
        if (pending_next_ < pending_.size()) {
            auto event = std::move(pending_[pending_next_++]);
            if (phase_ == Phase::open)
                handle_event(std::move(event));
            continue;
        }
        pending_ = {};
        pending_next_ = 0;
        if (framer_error_ != FramerError::none && phase_ != Phase::closing) {
            on_framer_error();
            continue;
        }
        auto step = read_and_feed();
        if (step.want != Want::nothing) {
            auto type = step.want == Want::read ? tcp::socket::wait_read : tcp::socket::wait_write;
            socket_.async_wait(type, [self = self()](error_code ec) {
                if (ec && self->phase_ != Phase::closed)
                    self->on_read_error(ec);
                self->read_ready();
            });
            return;
        }
        if (step.ec)
            on_read_error(step.ec);
    }
}

// A handler has no escape_handler as the coroutines do: what escapes is
// caught here and ends the stream the same way.
void Connection::read_ready()
{
    try {
        pump_reads();
    } catch (const std::exception& ex) {
        on_escape(ex.what());
    } catch (...) {
        on_escape("unknown exception");
    }
}

void Connection::handle_event(FramerEvent event)
{
    switch (event.kind) {
    case FramerEvent::Kind::stream_open:
        scope_ = namespace_scope(event.header);
        report_open(event.header);
        return;
    case FramerEvent::Kind::element:
        deliver(std::move(event.element));
        return;
    case FramerEvent::Kind::stream_close:
        // RFC 6120 §4.4: answer the server's close tag with ours.
        end_stream(Kind::closed, "server closed the stream", std::string(stream_close_xml));
        return;
    }
}

// Returns the next framed event, reading as needed; nullopt once closed.
// While closing, bytes are read and dropped until the server closes.
net::awaitable<std::optional<FramerEvent>> Connection::next_event()
{
    while (pending_next_ == pending_.size()) {
        pending_ = {};
        pending_next_ = 0;
        if (phase_ == Phase::closed)
            co_return std::nullopt;
        if (framer_error_ != FramerError::none && phase_ != Phase::closing) {
            on_framer_error();
            continue;
        }
        auto step = read_and_feed();
        if (step.want != Want::nothing) {
            auto ec = co_await wait(step.want);
            if (ec)
                on_read_error(ec);
        } else if (step.ec) {
            on_read_error(step.ec);
        }
    }
    co_return std::move(pending_[pending_next_++]);
}

net::awaitable<std::optional<StreamHeader>> Connection::next_header()
{
    auto event = co_await next_event();
    if (!event)
        co_return std::nullopt;
    if (event->kind == FramerEvent::Kind::stream_open)
        co_return std::move(event->header);
    unexpected_event(*event);
    co_return std::nullopt;
}

net::awaitable<std::optional<Element>> Connection::next_element()
{
    auto event = co_await next_event();
    if (!event)
        co_return std::nullopt;
    if (event->kind == FramerEvent::Kind::element)
        co_return std::move(event->element);
    unexpected_event(*event);
    co_return std::nullopt;
}

void Connection::unexpected_event(const FramerEvent& event)
{
    if (event.kind == FramerEvent::Kind::stream_close) {
        end_stream(Kind::closed, fmt::format("server closed the stream during {}", stage_),
            std::string(stream_close_xml));
        return;
    }
    end_stream(Kind::protocol_error, fmt::format("unexpected stream header during {}", stage_),
        stream_error_xml("invalid-xml"));
}

// Reads into a buffer on the thread's stack (not in the coroutine frame), so
// idle connections hold none, and frames the bytes at once.
IoStep Connection::read_and_feed()
{
    std::array<char, read_chunk_bytes> chunk;
    auto step = transport_.read_some(chunk.data(), chunk.size());
    if (step.want != Want::nothing || step.ec || phase_ == Phase::closing)
        return step;
    framer_error_ = framer_.feed(std::string_view(chunk.data(), step.bytes), pending_);
    return step;
}

net::awaitable<error_code> Connection::wait(Want want)
{
    auto type = want == Want::read ? tcp::socket::wait_read : tcp::socket::wait_write;
    auto [ec] = co_await socket_.async_wait(type, net::as_tuple(net::use_awaitable));
    if (!ec && phase_ == Phase::closed)
        ec = net::error::operation_aborted;
    co_return ec;
}

// ---- Writer ----

void Connection::kick_writer()
{
    if (writing_ || queued_bytes() == 0)
        return;
    if (phase_ != Phase::open && phase_ != Phase::closing)
        return;
    // What the socket takes at once is written here, without spawning the
    // writer coroutine (W2 cost per message, docs/benchmarks.md). A wait is
    // left to write_loop; an error is reported from a handler of its own,
    // as write_loop would, so that the caller (the session, in the middle
    // of its actions) is not re-entered.
    if (phase_ == Phase::open) {
        auto step = transport_.write_some(std::string_view(out_).substr(out_sent_));
        if (step.ec) {
            writing_ = true;
            net::post(socket_.get_executor(), [self = self(), ec = step.ec] {
                self->writing_ = false;
                self->on_write_error(ec);
            });
            return;
        }
        if (step.want == Want::nothing) {
            consume(step.bytes);
            if (queued_bytes() == 0)
                return;
        }
    }
    writing_ = true;
    net::co_spawn(
        socket_.get_executor(), [self = self()] { return self->write_loop(); }, escape_handler());
}

net::awaitable<void> Connection::write_loop()
{
    while (queued_bytes() > 0 && phase_ != Phase::closed) {
        // Re-read the queue each time: send() may have grown (moved) it.
        auto step = transport_.write_some(std::string_view(out_).substr(out_sent_));
        if (step.want != Want::nothing) {
            auto ec = co_await wait(step.want);
            if (ec) {
                on_write_error(ec);
                break;
            }
            continue;
        }
        if (step.ec) {
            on_write_error(step.ec);
            break;
        }
        consume(step.bytes);
    }
    writing_ = false;
    if (phase_ == Phase::closing && queued_bytes() == 0)
        co_await shutdown_send();
}

void Connection::consume(std::size_t bytes)
{
    out_sent_ += bytes;
    if (out_sent_ == out_.size()) {
        out_ = std::string();  // idle sessions keep no write buffer
        out_sent_ = 0;
    } else if (out_sent_ >= compact_after_bytes && out_sent_ * 2 >= out_.size()) {
        out_.erase(0, out_sent_);
        out_sent_ = 0;
    }
}

// Negotiation writes (headers, <starttls/>) go straight out, ahead of the queue.
net::awaitable<bool> Connection::write_now(std::string data)
{
    std::size_t sent = 0;
    while (sent < data.size()) {
        auto step = transport_.write_some(std::string_view(data).substr(sent));
        if (step.want != Want::nothing) {
            auto ec = co_await wait(step.want);
            if (ec) {
                on_write_error(ec);
                co_return false;
            }
            continue;
        }
        if (step.ec) {
            on_write_error(step.ec);
            co_return false;
        }
        sent += step.bytes;
    }
    co_return true;
}

// After the last queued byte: close_notify, then FIN. The reader keeps
// reading until the server closes too, or the linger timer ends it.
net::awaitable<void> Connection::shutdown_send()
{
    if (std::exchange(shutdown_sent_, true))
        co_return;
    while (transport_.secure() && phase_ != Phase::closed) {
        auto step = transport_.shutdown_tls();
        if (step.want != Want::write)
            break;
        auto ec = co_await wait(Want::write);
        if (ec)
            co_return;
    }
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

// ---- Endings ----

void Connection::report_open(const StreamHeader& header)
{
    if (events_)
        events_->on_upstream_open(header);
}

void Connection::deliver(Element element)
{
    bool stream_error = is_stream_element(scope_, element, "error");
    std::string detail;
    if (stream_error)
        detail = fmt::format("server sent stream error: {}", first_child_name(element.xml));
    if (events_)
        events_->on_upstream_element(std::move(element));
    // RFC 6120 §4.9.1.1: a stream error ends the stream; we close ours too.
    if (stream_error)
        end_stream(Kind::stream_error, std::move(detail), std::string(stream_close_xml));
}

void Connection::notify_closed(Kind kind, std::string detail)
{
    log::debug("upstream {}: stream ended: {}", where(), detail);
    if (auto* events = std::exchange(events_, nullptr))
        events->on_upstream_closed(UpstreamClosed {kind, std::move(detail)});
}

void Connection::fail(Kind kind, std::string detail)
{
    notify_closed(kind, std::move(detail));
    hard_close();
}

void Connection::end_stream(Kind kind, std::string detail, std::string tail)
{
    notify_closed(kind, std::move(detail));
    begin_graceful(std::move(tail));
}

// Writes `tail` after the queue, then shuts down; waits at most
// connect_timeout for the server to close its side.
void Connection::begin_graceful(std::string tail)
{
    if (phase_ == Phase::closing || phase_ == Phase::closed)
        return;
    if (phase_ != Phase::open && phase_ != Phase::negotiating) {
        hard_close();
        return;
    }
    if (phase_ == Phase::negotiating) {
        out_.clear();  // queued for a stream that never opened
        out_sent_ = 0;
    }
    phase_ = Phase::closing;
    leave_gate();  // closing is not opening: the slot is free for the next
    out_ += tail;
    arm_timer(target_.connect_timeout);
    kick_writer();
}

void Connection::hard_close()
{
    if (phase_ == Phase::closed)
        return;
    phase_ = Phase::closed;
    leave_gate();
    error_code ignored;
    timer_.cancel();
    resolver_.cancel();
    // Closing cancels every wait. No SSL call follows: each coroutine checks
    // the phase after resuming, and the SSL object goes now.
    socket_.close(ignored);
    transport_.release();
    framer_.reset();
    pending_ = {};
    pending_next_ = 0;
    out_ = std::string();
    out_sent_ = 0;
}

void Connection::on_read_error(error_code ec)
{
    if (phase_ == Phase::closed)
        return;
    if (phase_ == Phase::closing) {
        hard_close();
        return;
    }
    if (ec == net::error::eof) {
        fail(Kind::closed, fmt::format("{} closed the connection during {}", where(), stage_));
        return;
    }
    fail(Kind::closed, fmt::format("read {}: {}", where(), ec.message()));
}

void Connection::on_write_error(error_code ec)
{
    if (phase_ == Phase::closed)
        return;
    if (phase_ == Phase::closing) {
        hard_close();
        return;
    }
    fail(Kind::closed, fmt::format("write {}: {}", where(), ec.message()));
}

// RFC 6120 §4.9.3: tell the server what was wrong with its XML, then close.
void Connection::on_framer_error()
{
    auto condition = stream_error_condition(std::exchange(framer_error_, FramerError::none));
    end_stream(Kind::protocol_error, fmt::format("bad XML from {}: {}", where(), condition),
        stream_error_xml(condition));
}

void Connection::arm_timer(Seconds after)
{
    timer_.expires_after(after);
    timer_.async_wait([self = self()](error_code ec) {
        if (!ec)
            self->on_timer();
    });
}

void Connection::on_timer()
{
    // A wait that completed just before the timer was re-armed is stale.
    if (timer_.expiry() > net::steady_timer::clock_type::now())
        return;
    if (phase_ == Phase::closing) {
        hard_close();
        return;
    }
    if (queued_)
        fail(Kind::busy,
            fmt::format("waited {}s for an upstream connection slot to {} (bosh.max_connecting)",
                target_.connect_timeout.count(), where()));
    else if (phase_ == Phase::connecting || phase_ == Phase::negotiating)
        fail(Kind::connect_failed,
            fmt::format("timed out after {}s during {} with {}", target_.connect_timeout.count(),
                stage_, where()));
}

}  // namespace

std::shared_ptr<UpstreamConnection> UpstreamConnection::create(net::any_io_executor ex,
    UpstreamTarget target, std::shared_ptr<ssl::context> tls_ctx, UpstreamEvents& events,
    std::shared_ptr<OpeningGate> gate)
{
    return std::make_shared<Connection>(
        std::move(ex), std::move(target), std::move(tls_ctx), events, std::move(gate));
}

std::shared_ptr<ssl::context> make_upstream_tls_context(const std::string& ca_file)
{
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    SSL_CTX* native = ctx->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
        throw std::runtime_error("upstream TLS: cannot require TLS 1.2 or later");
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION);
    // Idle sessions should cost little memory: drop record buffers when empty.
    SSL_CTX_set_mode(native,
        SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE
            | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    ctx->set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
        if (ec)
            throw std::runtime_error(
                fmt::format("upstream TLS: cannot load the system trust store: {}", ec.message()));
        return ctx;
    }
    ctx->load_verify_file(ca_file, ec);
    if (ec)
        throw std::runtime_error(
            fmt::format("upstream TLS: cannot load CA file '{}': {}", ca_file, ec.message()));
    return ctx;
}

}  // namespace bosun::xmpp
