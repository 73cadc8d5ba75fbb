#include "tcp_client.hpp"

#include <openssl/ssl.h>

#include <array>
#include <deque>
#include <optional>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "bosh_client.hpp"
#include "common/xml_escape.hpp"
#include "xml_framer.hpp"

namespace bosun::bench {

namespace {

using net::as_tuple;
using net::use_awaitable;

class TcpClient : public Client, public std::enable_shared_from_this<TcpClient> {
public:
    TcpClient(Context& ctx, const TcpTarget& target, std::size_t index, std::uint32_t user)
        : ctx_(ctx)
        , target_(target)
        , index_(index)
        , jid_(user_jid(ctx.opt, user))
        , sock_(ctx.io)
        , watchdog_(ctx.io)
    {
    }

    net::awaitable<bool> login() override;
    bool send_message(const std::string& to_jid, const std::string& body) override;
    net::awaitable<void> close() override;
    bool alive() const override { return alive_; }
    const std::string& jid() const override { return jid_; }

private:
    net::awaitable<bool> login_steps();
    net::awaitable<bool> write(std::string data);
    net::awaitable<std::size_t> read_some();
    // The next stanza parsed into doc; false on error, close or timeout.
    net::awaitable<bool> next(pugi::xml_document& doc, const char* what);
    net::awaitable<bool> open_stream(pugi::xml_document& features);
    net::awaitable<bool> expect_iq_result(const char* id, pugi::xml_document& doc);
    net::awaitable<void> reader();
    net::awaitable<void> writer();
    void enqueue(std::string s);
    void fail(const char* kind);

    Context& ctx_;
    const TcpTarget& target_;
    std::size_t index_;
    std::string jid_;
    tcp::socket sock_;
    std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
    net::steady_timer watchdog_;
    XmlFramer framer_;
    std::array<char, 16384> rbuf_ {};
    std::uint64_t last_read_ns_ = 0;
    std::deque<std::string> wq_;
    bool writing_ = false;
    bool alive_ = false;
    bool closing_ = false;
    bool timed_out_ = false;
};

net::awaitable<bool> TcpClient::write(std::string data)
{
    error_code ec;
    if (tls_)
        std::tie(ec, std::ignore)
            = co_await net::async_write(*tls_, net::buffer(data), as_tuple(use_awaitable));
    else
        std::tie(ec, std::ignore)
            = co_await net::async_write(sock_, net::buffer(data), as_tuple(use_awaitable));
    co_return !ec;
}

net::awaitable<std::size_t> TcpClient::read_some()
{
    error_code ec;
    std::size_t n = 0;
    if (tls_)
        std::tie(ec, n)
            = co_await tls_->async_read_some(net::buffer(rbuf_), as_tuple(use_awaitable));
    else
        std::tie(ec, n)
            = co_await sock_.async_read_some(net::buffer(rbuf_), as_tuple(use_awaitable));
    last_read_ns_ = now_ns();
    co_return ec ? 0 : n;
}

net::awaitable<bool> TcpClient::next(pugi::xml_document& doc, const char* what)
{
    for (;;) {
        if (auto stanza = framer_.next()) {
            if (!doc.load_buffer(stanza->data(), stanza->size())) {
                ctx_.error("bad_xml");
                co_return false;
            }
            co_return true;
        }
        if (framer_.failed()) {
            ctx_.error("bad_xml");
            co_return false;
        }
        if (framer_.closed()) {
            ctx_.error(fmt::format("stream_closed:{}", what));
            co_return false;
        }
        const std::size_t n = co_await read_some();
        if (n == 0) {
            if (timed_out_)
                ctx_.error(fmt::format("login_timeout:{}", what));
            else if (!closing_)
                ctx_.error("tcp_closed");
            co_return false;
        }
        framer_.feed(std::string_view(rbuf_.data(), n));
    }
}

net::awaitable<bool> TcpClient::open_stream(pugi::xml_document& features)
{
    framer_.reset();
    const std::string header = fmt::format("<?xml version='1.0'?><stream:stream to='{}' "
                                           "version='1.0' xml:lang='en' xmlns='jabber:client' "
                                           "xmlns:stream='http://etherx.jabber.org/streams'>",
        xml_escape(ctx_.opt.domain));
    if (!co_await write(header)) {
        ctx_.error("tcp_write");
        co_return false;
    }
    if (!co_await next(features, "features"))
        co_return false;
    if (!is_stream_features(features.first_child().name())) {
        ctx_.error(fmt::format("login:unexpected_{}", features.first_child().name()));
        co_return false;
    }
    co_return true;
}

net::awaitable<bool> TcpClient::expect_iq_result(const char* id, pugi::xml_document& doc)
{
    for (;;) {
        if (!co_await next(doc, id))
            co_return false;
        auto iq = doc.child("iq");
        if (!iq || std::string_view(iq.attribute("id").as_string()) != id)
            continue;
        if (std::string_view(iq.attribute("type").as_string()) == "result")
            co_return true;
        ctx_.error(fmt::format("login:iq_error_{}", id));
        co_return false;
    }
}

net::awaitable<bool> TcpClient::login()
{
    auto self = shared_from_this();
    watchdog_.expires_after(
        std::chrono::milliseconds(static_cast<long>(ctx_.opt.login_timeout * 1000)));
    watchdog_.async_wait([self](error_code ec) {
        if (ec)
            return;
        self->timed_out_ = true;
        error_code ignored;
        self->sock_.close(ignored);
    });
    const bool ok = co_await login_steps();
    watchdog_.cancel();
    if (!ok) {
        error_code ignored;
        sock_.close(ignored);
        co_return false;
    }
    alive_ = true;
    net::co_spawn(ctx_.io, reader(), [self](std::exception_ptr e) {
        if (e)
            self->ctx_.error("exception");
    });
    co_return true;
}

net::awaitable<bool> TcpClient::login_steps()
{
    const auto& o = ctx_.opt;
    auto [cec] = co_await sock_.async_connect(target_.endpoint, as_tuple(use_awaitable));
    if (cec) {
        ctx_.error(timed_out_ ? "connect_timeout" : "connect");
        co_return false;
    }
    error_code ignored;
    sock_.set_option(tcp::no_delay(true), ignored);
    pugi::xml_document doc;
    if (!co_await open_stream(doc))
        co_return false;
    auto features = doc.first_child();
    if (o.tls) {
        if (!features.child("starttls")) {
            ctx_.error("login:no_starttls");
            co_return false;
        }
        if (!co_await write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"))
            co_return false;
        // (No co_await inside || : GCC 12 miscompiles it.)
        const bool answered = co_await next(doc, "starttls");
        if (!answered)
            co_return false;
        if (!doc.child("proceed")) {
            ctx_.error("login:starttls_refused");
            co_return false;
        }
        tls_ = std::make_unique<ssl::stream<tcp::socket&>>(sock_, ctx_.ssl_ctx);
        SSL_set_tlsext_host_name(tls_->native_handle(), o.domain.c_str());
        auto [hec]
            = co_await tls_->async_handshake(ssl::stream_base::client, as_tuple(use_awaitable));
        if (hec) {
            ctx_.error("tls_handshake");
            co_return false;
        }
        if (!co_await open_stream(doc))
            co_return false;
    }
    if (!co_await write(plain_auth_element(jid_, o.password)))
        co_return false;
    if (!co_await next(doc, "auth"))
        co_return false;
    if (!doc.child("success")) {
        ctx_.error("login:sasl_failure");
        co_return false;
    }
    // RFC 6120 §6.4.6: a new stream after SASL success.
    if (!co_await open_stream(doc))
        co_return false;
    auto session = doc.first_child().child("session");
    const bool need_session = session && !session.child("optional");
    if (!co_await write(
            fmt::format("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                        "<resource>{}{}</resource></bind></iq>",
                xml_escape(o.resource), index_)))
        co_return false;
    if (!co_await expect_iq_result("b1", doc))
        co_return false;
    if (auto j = doc.child("iq").child("bind").child("jid"))
        jid_ = j.text().as_string();
    if (need_session) {
        if (!co_await write("<iq type='set' id='s1'><session "
                            "xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>"))
            co_return false;
        if (!co_await expect_iq_result("s1", doc))
            co_return false;
    }
    if (!co_await write("<presence/><iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>"))
        co_return false;
    co_return co_await expect_iq_result("r1", doc);
}

net::awaitable<void> TcpClient::reader()
{
    auto self = shared_from_this();
    for (;;) {
        while (auto stanza = framer_.next()) {
            if (!stanza->starts_with("<message"))
                continue;
            pugi::xml_document doc;
            if (!doc.load_buffer(stanza->data(), stanza->size())) {
                ctx_.error("bad_xml");
                continue;
            }
            if (auto text = doc.child("message").child("body").text())
                ctx_.on_message(index_, text.as_string(), last_read_ns_);
        }
        if (framer_.failed() || framer_.closed()) {
            fail(framer_.failed() ? "bad_xml" : "stream_closed");
            co_return;
        }
        const std::size_t n = co_await read_some();
        if (n == 0) {
            fail("tcp_closed");
            co_return;
        }
        framer_.feed(std::string_view(rbuf_.data(), n));
    }
}

void TcpClient::fail(const char* kind)
{
    if (alive_ && !closing_)
        ctx_.error(kind);
    alive_ = false;
    error_code ignored;
    sock_.close(ignored);
}

bool TcpClient::send_message(const std::string& to_jid, const std::string& body)
{
    if (!alive_ || closing_)
        return false;
    if (wq_.size() >= ctx_.opt.max_queue) {
        ctx_.error("queue_full");
        return false;
    }
    enqueue(fmt::format("<message to='{}' type='chat'><body>{}</body></message>",
        xml_escape(to_jid), xml_escape(body)));
    return true;
}

void TcpClient::enqueue(std::string s)
{
    wq_.push_back(std::move(s));
    if (writing_)
        return;
    writing_ = true;
    net::co_spawn(ctx_.io, writer(), [self = shared_from_this()](std::exception_ptr e) {
        if (e)
            self->ctx_.error("exception");
    });
}

net::awaitable<void> TcpClient::writer()
{
    auto self = shared_from_this();
    while (!wq_.empty() && (alive_ || closing_)) {
        // Coalesce what is queued into one write, as a client library does.
        std::string batch;
        while (!wq_.empty()) {
            batch += wq_.front();
            wq_.pop_front();
        }
        if (!co_await write(std::move(batch))) {
            fail("tcp_write");
            break;
        }
    }
    wq_.clear();
    writing_ = false;
}

net::awaitable<void> TcpClient::close()
{
    auto self = shared_from_this();
    if (!alive_)
        co_return;
    closing_ = true;
    enqueue("<presence type='unavailable'/></stream:stream>");
    net::steady_timer t(ctx_.io);
    for (int i = 0; i < 40 && writing_; ++i) {
        t.expires_after(std::chrono::milliseconds(50));
        co_await t.async_wait(as_tuple(use_awaitable));
    }
    alive_ = false;
    error_code ignored;
    sock_.close(ignored);
}

}  // namespace

bool resolve_host_port(
    net::io_context& io, const std::string& host_port, TcpTarget& out, std::string& error)
{
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos) {
        error = "expected HOST:PORT";
        return false;
    }
    tcp::resolver resolver(io);
    error_code ec;
    auto results = resolver.resolve(host_port.substr(0, colon), host_port.substr(colon + 1), ec);
    if (ec || results.empty()) {
        error = fmt::format("cannot resolve {}: {}", host_port, ec.message());
        return false;
    }
    out.endpoint = results.begin()->endpoint();
    return true;
}

std::shared_ptr<Client> make_tcp_client(
    Context& ctx, const TcpTarget& target, std::size_t index, std::uint32_t user)
{
    return std::make_shared<TcpClient>(ctx, target, index, user);
}

}  // namespace bosun::bench
