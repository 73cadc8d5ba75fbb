#include "xmpp/upstream.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/asio.hpp"

// The upstream connection against a fake XMPP server on 127.0.0.1:0, in the
// same io_context. The fake does what a real server will not on demand:
// wrong certificates, missing STARTTLS, bad XML, stream errors.

namespace bosun::xmpp {
namespace {

using namespace std::chrono_literals;
using Kind = UpstreamClosed::Kind;

const std::string server_header
    = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' id='first' from='localhost' "
      "version='1.0' xml:lang='en'>";
const std::string starttls_features
    = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
      "<pre-tls xmlns='urn:test'/></stream:features>";
const std::string sasl_features
    = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
      "<mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const std::string proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
const std::string chat = "<message to='romeo@localhost' type='chat'><body>hi</body></message>";

// ---- Certificates made at test start ----

struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        std::string tmpl
            = (std::filesystem::temp_directory_path() / "upstream_test.XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

void add_extension(X509* cert, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr)
        throw std::runtime_error("X509V3_EXT_conf_nid failed");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

void write_pem(const std::filesystem::path& file, const std::function<int(FILE*)>& write)
{
    FILE* f = std::fopen(file.c_str(), "w");
    if (f == nullptr || write(f) != 1)
        throw std::runtime_error("cannot write " + file.string());
    std::fclose(f);
}

// A self-signed P-256 certificate for `dns`, like
// openssl req -x509 -newkey ec -subj /CN=localhost -addext subjectAltName=DNS:localhost
void make_self_signed(
    const std::filesystem::path& dir, const std::string& stem, const std::string& dns)
{
    static long serial = 1;
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(dns.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    add_extension(cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, NID_subject_key_identifier, "hash");
    add_extension(cert, NID_subject_alt_name, ("DNS:" + dns).c_str());
    X509_sign(cert, key, EVP_sha256());
    write_pem(dir / (stem + ".crt"), [&](FILE* f) { return PEM_write_X509(f, cert); });
    write_pem(dir / (stem + ".key"), [&](FILE* f) {
        return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    });
    X509_free(cert);
    EVP_PKEY_free(key);
}

// Made once: "server" is the fake's certificate, "other" an unrelated CA.
const std::filesystem::path& cert_dir()
{
    static TempDir dir;
    static bool made = [] {
        make_self_signed(dir.path, "server", "localhost");
        make_self_signed(dir.path, "other", "localhost");
        return true;
    }();
    (void)made;
    return dir.path;
}

std::string cert_file(const std::string& stem)
{
    return (cert_dir() / (stem + ".crt")).string();
}

// ---- What the owner sees ----

struct Recorder final : UpstreamEvents {
    std::vector<StreamHeader> opens;
    std::vector<Element> elements;
    std::optional<UpstreamClosed> closed;
    std::vector<std::string> order;  ///< "open", element qnames, "closed"
    std::function<void(const Element&)> on_element;
    int callbacks_after_close = 0;
    bool close_called = false;

    void on_upstream_open(const StreamHeader& header) override
    {
        note("open");
        opens.push_back(header);
    }
    void on_upstream_element(Element element) override
    {
        note(element.qname);
        elements.push_back(std::move(element));
        if (on_element)
            on_element(elements.back());
    }
    void on_upstream_closed(UpstreamClosed why) override
    {
        note("closed");
        closed = std::move(why);
    }
    void note(std::string what)
    {
        if (close_called)
            ++callbacks_after_close;
        order.push_back(std::move(what));
    }
};

// ---- The fake server's side of one connection ----

class FakePeer {
public:
    explicit FakePeer(tcp::socket socket)
        : socket_(std::move(socket))
    {
    }

    // Returns the bytes up to and including `needle`.
    net::awaitable<std::string> read_until(std::string needle)
    {
        std::size_t at;
        while ((at = in_.find(needle)) == std::string::npos)
            co_await read_more();
        std::string out = in_.substr(0, at + needle.size());
        in_.erase(0, at + needle.size());
        co_return out;
    }

    // The client's stream header, from <?xml to the '>' of <stream:stream>.
    net::awaitable<std::string> read_header()
    {
        std::string head = co_await read_until("<stream:stream");
        std::string rest = co_await read_until(">");
        co_return head + rest;
    }

    // Everything until the client closes the connection.
    net::awaitable<std::string> read_to_eof()
    {
        for (;;) {
            auto [ec] = co_await read_some_tuple();
            if (ec)
                break;
        }
        co_return std::exchange(in_, {});
    }

    net::awaitable<void> write(std::string data)
    {
        if (tls_)
            co_await net::async_write(*tls_, net::buffer(data), net::use_awaitable);
        else
            co_await net::async_write(socket_, net::buffer(data), net::use_awaitable);
    }

    net::awaitable<void> start_tls(ssl::context& ctx)
    {
        tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_, ctx);
        co_await tls_->async_handshake(ssl::stream_base::server, net::use_awaitable);
    }

    void close()
    {
        error_code ignored;
        socket_.close(ignored);
    }

private:
    net::awaitable<std::tuple<error_code>> read_some_tuple()
    {
        std::array<char, 4096> buf;
        auto token = net::as_tuple(net::use_awaitable);
        std::tuple<error_code, std::size_t> result;
        if (tls_)
            result = co_await tls_->async_read_some(net::buffer(buf), token);
        else
            result = co_await socket_.async_read_some(net::buffer(buf), token);
        in_.append(buf.data(), std::get<1>(result));
        co_return std::tuple<error_code> {std::get<0>(result)};
    }

    net::awaitable<void> read_more()
    {
        auto [ec] = co_await read_some_tuple();
        if (ec)
            throw std::runtime_error("fake server read: " + ec.message());
    }

    tcp::socket socket_;
    std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
    std::string in_;
};

using Script = std::function<net::awaitable<void>(FakePeer&)>;

class UpstreamTest : public ::testing::Test {
protected:
    void TearDown() override
    {
        if (client_)
            client_->close();
        client_.reset();
        run_for(50ms);
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    UpstreamTarget target(TlsPolicy tls)
    {
        UpstreamTarget t;
        t.host = "127.0.0.1";
        t.port = port();
        t.tls = tls;
        t.tls_server_name = "localhost";
        t.connect_timeout = 5s;
        return t;
    }

    StreamOpen stream_open() { return StreamOpen {"localhost", "romeo@localhost", "en", "1.0"}; }

    // Accepts one connection and runs `script` on it.
    void serve(Script script)
    {
        net::co_spawn(
            io_,
            [this, script]() -> net::awaitable<void> {
                FakePeer peer(co_await acceptor_.async_accept(net::use_awaitable));
                co_await script(peer);
            },
            [this](std::exception_ptr e) {
                server_done_ = true;
                if (!e)
                    return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    server_error_ = ex.what();
                }
            });
    }

    void connect(UpstreamTarget t, std::shared_ptr<ssl::context> ctx = nullptr)
    {
        if (!ctx)
            ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
        client_
            = UpstreamConnection::create(io_.get_executor(), std::move(t), std::move(ctx), rec_);
        client_->start(stream_open());
    }

    std::shared_ptr<ssl::context> server_tls()
    {
        auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
        ctx->use_certificate_chain_file(cert_file("server"));
        ctx->use_private_key_file((cert_dir() / "server.key").string(), ssl::context::pem);
        return ctx;
    }

    template <class Pred> bool run_until(Pred pred, std::chrono::milliseconds limit = 5000ms)
    {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline)
                return false;
            if (io_.stopped())
                io_.restart();
            io_.run_one_for(10ms);
        }
        return true;
    }

    void run_for(std::chrono::milliseconds d)
    {
        run_until([] { return false; }, d);
    }

    // Plain server: header, SASL features, then `after`.
    Script plain_server(std::string after, std::string* received = nullptr)
    {
        return [after, received](FakePeer& peer) -> net::awaitable<void> {
            co_await peer.read_header();
            co_await peer.write(server_header + sasl_features + after);
            std::string rest = co_await peer.read_to_eof();
            if (received)
                *received = rest;
        };
    }

    net::io_context io_;
    tcp::acceptor acceptor_ {io_, {net::ip::make_address("127.0.0.1"), 0}};
    Recorder rec_;
    std::shared_ptr<UpstreamConnection> client_;
    bool server_done_ = false;
    std::string server_error_;
};

// (a)
TEST_F(UpstreamTest, plain_stream_reports_open_features_and_stanzas_and_sends_data)
{
    std::string client_header, received;
    serve([&](FakePeer& peer) -> net::awaitable<void> {
        client_header = co_await peer.read_header();
        co_await peer.write(server_header + sasl_features + chat);
        received = co_await peer.read_until("<presence/>");
        received += co_await peer.read_to_eof();
    });
    connect(target(TlsPolicy::optional));
    ASSERT_TRUE(run_until([&] { return rec_.elements.size() >= 2; }));

    EXPECT_EQ(client_header,
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0' "
        "from='romeo@localhost' xml:lang='en'>");
    ASSERT_EQ(rec_.opens.size(), 1u);
    EXPECT_EQ(rec_.opens[0].attr("id"), "first");
    EXPECT_EQ(rec_.elements[0].qname, "stream:features");
    EXPECT_EQ(rec_.elements[1].xml, chat);

    EXPECT_TRUE(client_->send("<presence/>"));
    client_->close();
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    EXPECT_EQ(server_error_, "");
    EXPECT_EQ(received, "<presence/></stream:stream>");
    EXPECT_FALSE(rec_.closed);
}

TEST_F(UpstreamTest, header_attribute_values_are_escaped)
{
    std::string client_header;
    serve([&](FakePeer& peer) -> net::awaitable<void> {
        client_header = co_await peer.read_header();
    });
    client_ = UpstreamConnection::create(io_.get_executor(), target(TlsPolicy::none),
        std::make_shared<ssl::context>(ssl::context::tls_client), rec_);
    client_->start(StreamOpen {"a'b<c>&\"d", "", "", "1.0"});
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    EXPECT_NE(
        client_header.find("to='a&apos;b&lt;c&gt;&amp;&quot;d' version='1.0'>"), std::string::npos)
        << client_header;
    EXPECT_EQ(client_header.find("from="), std::string::npos);
    EXPECT_EQ(client_header.find("xml:lang="), std::string::npos);
}

// (b)
TEST_F(UpstreamTest, starttls_with_trusted_certificate_reports_only_post_tls_stream)
{
    auto tls = server_tls();
    std::string received;
    serve([&](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        co_await peer.write(server_header + starttls_features);
        co_await peer.read_until("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        co_await peer.write(proceed);
        co_await peer.start_tls(*tls);
        co_await peer.read_header();
        std::string second = server_header;
        second.replace(second.find("'first'"), 7, "'second'");
        co_await peer.write(second + sasl_features);
        received = co_await peer.read_until("<presence/>");
        co_await peer.write(chat);
        received += co_await peer.read_to_eof();
    });
    connect(target(TlsPolicy::required), make_upstream_tls_context(cert_file("server")));
    ASSERT_TRUE(run_until([&] { return !rec_.elements.empty() || rec_.closed; }));
    ASSERT_FALSE(rec_.closed) << rec_.closed->detail;

    ASSERT_EQ(rec_.opens.size(), 1u);
    EXPECT_EQ(rec_.opens[0].attr("id"), "second");
    EXPECT_EQ(rec_.elements[0].xml, sasl_features);

    EXPECT_TRUE(client_->send("<presence/>"));
    ASSERT_TRUE(run_until([&] { return rec_.elements.size() >= 2; }));
    EXPECT_EQ(rec_.elements[1].xml, chat);
    for (const auto& e : rec_.elements)
        EXPECT_EQ(e.xml.find("starttls"), std::string::npos);

    client_->close();
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    EXPECT_EQ(received, "<presence/></stream:stream>");
    EXPECT_FALSE(rec_.closed);
}

// A server that answers <starttls/> with <proceed/> and a TLS handshake.
Script tls_server(std::shared_ptr<ssl::context> tls)
{
    return [tls](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        co_await peer.write(server_header + starttls_features);
        co_await peer.read_until("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        co_await peer.write(proceed);
        co_await peer.start_tls(*tls);
        co_await peer.read_header();
        co_await peer.write(server_header + sasl_features);
        co_await peer.read_to_eof();
    };
}

// (c)
TEST_F(UpstreamTest, certificate_from_unknown_ca_fails_with_the_verification_reason)
{
    serve(tls_server(server_tls()));
    connect(target(TlsPolicy::required), make_upstream_tls_context(cert_file("other")));
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::tls_failed);
    EXPECT_NE(rec_.closed->detail.find("certificate verification failed"), std::string::npos)
        << rec_.closed->detail;
    EXPECT_NE(rec_.closed->detail.find("self-signed certificate"), std::string::npos)
        << rec_.closed->detail;
    EXPECT_TRUE(rec_.opens.empty());
    EXPECT_TRUE(rec_.elements.empty());
}

TEST_F(UpstreamTest, certificate_for_another_name_fails_with_hostname_mismatch)
{
    serve(tls_server(server_tls()));
    auto t = target(TlsPolicy::required);
    t.tls_server_name = "xmpp.example.org";
    connect(t, make_upstream_tls_context(cert_file("server")));
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::tls_failed);
    EXPECT_NE(rec_.closed->detail.find("hostname mismatch"), std::string::npos)
        << rec_.closed->detail;
    EXPECT_NE(rec_.closed->detail.find("xmpp.example.org"), std::string::npos);
}

TEST_F(UpstreamTest, ip_address_as_server_name_is_checked_against_the_certificate)
{
    serve(tls_server(server_tls()));
    auto t = target(TlsPolicy::required);
    t.tls_server_name = "127.0.0.1";  // the certificate names only DNS:localhost
    connect(t, make_upstream_tls_context(cert_file("server")));
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::tls_failed);
    EXPECT_NE(rec_.closed->detail.find("IP address mismatch"), std::string::npos)
        << rec_.closed->detail;
}

TEST_F(UpstreamTest, starttls_failure_reply_is_tls_failed)
{
    serve([](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        co_await peer.write(server_header + starttls_features);
        co_await peer.read_until("/>");
        co_await peer.write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
        co_await peer.read_to_eof();
    });
    connect(target(TlsPolicy::optional), make_upstream_tls_context(cert_file("server")));
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::tls_failed);
    EXPECT_NE(rec_.closed->detail.find("<failure/>"), std::string::npos) << rec_.closed->detail;
    EXPECT_TRUE(rec_.opens.empty());
}

// (d)
TEST_F(UpstreamTest, required_tls_without_starttls_offer_is_tls_failed)
{
    serve(plain_server(""));
    connect(target(TlsPolicy::required), make_upstream_tls_context(cert_file("server")));
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::tls_failed);
    EXPECT_EQ(rec_.closed->detail, "server did not offer STARTTLS and tls=required");
    EXPECT_TRUE(rec_.opens.empty());
    EXPECT_TRUE(rec_.elements.empty());
}

TEST_F(UpstreamTest, optional_tls_without_starttls_offer_opens_plain)
{
    serve(plain_server(""));
    connect(target(TlsPolicy::optional), make_upstream_tls_context(cert_file("server")));
    ASSERT_TRUE(run_until([&] { return !rec_.elements.empty() || rec_.closed; }));
    EXPECT_EQ(rec_.opens.size(), 1u);
    EXPECT_EQ(rec_.elements[0].xml, sasl_features);
}

TEST_F(UpstreamTest, tls_none_ignores_starttls_offer)
{
    serve([](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        co_await peer.write(server_header + starttls_features);
        std::string rest = co_await peer.read_to_eof();
        if (rest.find("starttls") != std::string::npos)
            throw std::runtime_error("client sent starttls");
    });
    connect(target(TlsPolicy::none));
    ASSERT_TRUE(run_until([&] { return !rec_.elements.empty() || rec_.closed; }));
    EXPECT_EQ(rec_.opens.size(), 1u);
    EXPECT_EQ(rec_.elements[0].xml, starttls_features);
    client_->close();
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    EXPECT_EQ(server_error_, "");
}

// (e)
TEST_F(UpstreamTest, refused_connection_is_connect_failed_with_address)
{
    auto t = target(TlsPolicy::none);
    acceptor_.close();
    connect(t);
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::connect_failed);
    EXPECT_EQ(rec_.closed->detail,
        "connect 127.0.0.1:" + std::to_string(t.port) + ": Connection refused");
}

TEST_F(UpstreamTest, silent_server_is_connect_failed_after_connect_timeout)
{
    serve([](FakePeer& peer) -> net::awaitable<void> { co_await peer.read_to_eof(); });
    auto t = target(TlsPolicy::required);
    t.connect_timeout = 1s;
    connect(t);
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }, 3000ms));
    EXPECT_EQ(rec_.closed->kind, Kind::connect_failed);
    EXPECT_NE(rec_.closed->detail.find("timed out after 1s"), std::string::npos)
        << rec_.closed->detail;
    ASSERT_TRUE(run_until([&] { return server_done_; }));
}

// (f)
TEST_F(UpstreamTest, stream_error_is_delivered_then_closes)
{
    std::string received;
    serve(plain_server(
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
        &received));
    connect(target(TlsPolicy::none));
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::stream_error);
    EXPECT_NE(rec_.closed->detail.find("conflict"), std::string::npos) << rec_.closed->detail;
    EXPECT_EQ(rec_.order,
        (std::vector<std::string> {"open", "stream:features", "stream:error", "closed"}));
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    EXPECT_EQ(received, "</stream:stream>");
}

TEST_F(UpstreamTest, server_closing_the_stream_is_closed)
{
    std::string received;
    serve(plain_server(chat + "</stream:stream>", &received));
    connect(target(TlsPolicy::none));
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::closed);
    EXPECT_EQ(
        rec_.order, (std::vector<std::string> {"open", "stream:features", "message", "closed"}));
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    EXPECT_EQ(received, "</stream:stream>");
}

TEST_F(UpstreamTest, server_dropping_the_connection_is_closed)
{
    serve([](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        co_await peer.write(server_header + sasl_features);
        peer.close();
    });
    connect(target(TlsPolicy::none));
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::closed);
    EXPECT_EQ(rec_.opens.size(), 1u);
}

TEST_F(UpstreamTest, bad_xml_is_protocol_error_and_the_server_gets_a_stream_error)
{
    std::string received;
    serve(plain_server("<message><body></message>", &received));
    connect(target(TlsPolicy::none));
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::protocol_error);
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    EXPECT_EQ(received,
        "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
        "</stream:error></stream:stream>");
}

TEST_F(UpstreamTest, stanza_over_the_limit_is_protocol_error)
{
    serve(plain_server("<message><body>" + std::string(3000, 'x') + "</body></message>"));
    auto t = target(TlsPolicy::none);
    t.max_stanza_bytes = 1024;
    connect(t);
    ASSERT_TRUE(run_until([&] { return rec_.closed.has_value(); }));
    EXPECT_EQ(rec_.closed->kind, Kind::protocol_error);
    EXPECT_EQ(rec_.elements.size(), 1u);
}

// (g)
TEST_F(UpstreamTest, restart_sends_a_new_header_and_reports_the_new_stream)
{
    std::string auth, second_header;
    serve([&](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        co_await peer.write(server_header + sasl_features);
        auth = co_await peer.read_until("</auth>");
        co_await peer.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        second_header = co_await peer.read_header();
        std::string second = server_header;
        second.replace(second.find("'first'"), 7, "'second'");
        co_await peer.write(second
            + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:"
              "xmpp-bind'/></stream:features>");
        co_await peer.read_to_eof();
    });
    // The owner restarts from inside the <success/> callback, as the session will.
    rec_.on_element = [&](const Element& e) {
        if (e.qname == "success")
            client_->restart(stream_open());
    };
    connect(target(TlsPolicy::none));
    ASSERT_TRUE(run_until([&] { return !rec_.elements.empty(); }));
    EXPECT_TRUE(client_->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                              "AHJvbWVvAHNlY3JldA==</auth>"));
    ASSERT_TRUE(run_until([&] { return rec_.opens.size() >= 2 && rec_.elements.size() >= 3; }));
    EXPECT_NE(auth.find("mechanism='PLAIN'"), std::string::npos);
    EXPECT_NE(second_header.find("<stream:stream xmlns='jabber:client'"), std::string::npos);
    EXPECT_EQ(rec_.opens[1].attr("id"), "second");
    EXPECT_EQ(rec_.order,
        (std::vector<std::string> {
            "open", "stream:features", "success", "open", "stream:features"}));
    EXPECT_NE(rec_.elements[2].xml.find("xmpp-bind"), std::string::npos);
}

// (h)
TEST_F(UpstreamTest, no_callbacks_after_close)
{
    std::string received;
    serve([&](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        co_await peer.write(server_header + sasl_features);
        received = co_await peer.read_until("</stream:stream>");
        co_await peer.write(chat
            + "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:"
              "xmpp-streams'/></stream:error></stream:stream>");
        peer.close();
    });
    connect(target(TlsPolicy::none));
    ASSERT_TRUE(run_until([&] { return !rec_.elements.empty(); }));
    EXPECT_TRUE(client_->send(chat));
    client_->close();
    rec_.close_called = true;
    client_->close();
    EXPECT_FALSE(client_->send(chat));
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    run_for(100ms);
    EXPECT_EQ(received, chat + "</stream:stream>");
    EXPECT_EQ(rec_.callbacks_after_close, 0);
    EXPECT_FALSE(rec_.closed);
}

TEST_F(UpstreamTest, close_while_connecting_makes_no_callbacks)
{
    bool server_saw_eof = false, got_header = false;
    serve([&](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        got_header = true;
        co_await peer.read_to_eof();
        server_saw_eof = true;
    });
    connect(target(TlsPolicy::required));
    ASSERT_TRUE(run_until([&] { return got_header; }));
    client_->close();
    rec_.close_called = true;
    client_.reset();  // the owner lets go while coroutines are suspended
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    EXPECT_TRUE(server_saw_eof);
    EXPECT_EQ(rec_.callbacks_after_close, 0);
}

TEST_F(UpstreamTest, close_before_start_and_twice_is_harmless)
{
    client_ = UpstreamConnection::create(io_.get_executor(), target(TlsPolicy::none),
        std::make_shared<ssl::context>(ssl::context::tls_client), rec_);
    client_->close();
    client_->close();
    client_->start(stream_open());
    run_for(50ms);
    EXPECT_TRUE(rec_.order.empty());
}

TEST_F(UpstreamTest, destroying_the_io_context_with_suspended_coroutines_is_safe)
{
    Recorder rec;
    {
        net::io_context io;
        tcp::acceptor acceptor {io, {net::ip::make_address("127.0.0.1"), 0}};
        auto t = target(TlsPolicy::none);
        t.port = acceptor.local_endpoint().port();
        std::optional<tcp::socket> accepted;
        acceptor.async_accept([&](error_code, tcp::socket s) { accepted.emplace(std::move(s)); });
        auto client = UpstreamConnection::create(
            io.get_executor(), t, std::make_shared<ssl::context>(ssl::context::tls_client), rec);
        client->start(stream_open());
        client->send(chat);
        client.reset();
        io.run_for(200ms);
        ASSERT_TRUE(accepted);
    }
    EXPECT_TRUE(rec.order.empty());
}

TEST_F(UpstreamTest, send_refuses_data_over_the_queue_limit)
{
    auto t = target(TlsPolicy::none);
    t.max_write_queue_bytes = 100;
    client_ = UpstreamConnection::create(
        io_.get_executor(), t, std::make_shared<ssl::context>(ssl::context::tls_client), rec_);
    EXPECT_TRUE(client_->send(std::string(60, 'a')));
    EXPECT_FALSE(client_->send(std::string(41, 'b')));
    EXPECT_TRUE(client_->send(std::string(40, 'c')));
    EXPECT_EQ(client_->queued_bytes(), 100u);
}

TEST_F(UpstreamTest, data_queued_before_open_follows_the_stream_header)
{
    std::string received;
    serve([&](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        co_await peer.write(server_header + sasl_features);
        received = co_await peer.read_until("<presence/>");
    });
    connect(target(TlsPolicy::none));
    EXPECT_TRUE(client_->send("<presence/>"));
    ASSERT_TRUE(run_until([&] { return server_done_; }));
    EXPECT_EQ(received, "<presence/>");
    EXPECT_EQ(server_error_, "");
}

TEST_F(UpstreamTest, large_stanzas_cross_tls_in_both_directions)
{
    auto tls = server_tls();
    const std::string big_in = "<message><body>" + std::string(100000, 'i') + "</body></message>";
    const std::string big_out = "<message><body>" + std::string(300000, 'o') + "</body></message>";
    std::string received;
    serve([&](FakePeer& peer) -> net::awaitable<void> {
        co_await peer.read_header();
        co_await peer.write(server_header + starttls_features);
        co_await peer.read_until("/>");
        co_await peer.write(proceed);
        co_await peer.start_tls(*tls);
        co_await peer.read_header();
        co_await peer.write(server_header + sasl_features + big_in);
        received = co_await peer.read_until("</message>");
    });
    connect(target(TlsPolicy::required), make_upstream_tls_context(cert_file("server")));
    ASSERT_TRUE(run_until([&] { return !rec_.elements.empty() || rec_.closed; }));
    ASSERT_FALSE(rec_.closed) << rec_.closed->detail;
    EXPECT_TRUE(client_->send(big_out));
    ASSERT_TRUE(run_until([&] { return rec_.elements.size() >= 2 && server_done_; }));
    EXPECT_EQ(rec_.elements[1].xml, big_in);
    EXPECT_EQ(received, big_out);
    EXPECT_EQ(server_error_, "");
}

// ---- The opening gate (bosh.max_connecting, bosh.max_connect_queue) ----

// A server that accepts every connection, reads its stream header and
// answers it only once `open_now` is set, so connections stay "opening" as
// long as a test wants.
class GateTest : public UpstreamTest {
protected:
    void serve_all()
    {
        net::co_spawn(io_, accept_loop(), net::detached);
    }

    net::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(net::as_tuple(net::use_awaitable));
            if (ec)
                co_return;
            ++accepted_;
            net::co_spawn(io_, answer(std::make_shared<FakePeer>(std::move(socket))), net::detached);
        }
    }

    net::awaitable<void> answer(std::shared_ptr<FakePeer> peer)
    {
        co_await peer->read_header();
        net::steady_timer tick(io_);
        while (!open_now_) {
            tick.expires_after(5ms);
            co_await tick.async_wait(net::use_awaitable);
        }
        co_await peer->write(server_header + sasl_features);
        co_await peer->read_to_eof();
    }

    std::shared_ptr<UpstreamConnection> open_one(Recorder& rec, UpstreamTarget t)
    {
        auto c = UpstreamConnection::create(io_.get_executor(), std::move(t),
            std::make_shared<ssl::context>(ssl::context::tls_client), rec, gate_);
        c->start(stream_open());
        return c;
    }

    std::shared_ptr<OpeningGate> gate_ = std::make_shared<OpeningGate>(1, 1);
    int accepted_ = 0;
    bool open_now_ = false;
};

TEST_F(GateTest, second_connection_waits_for_the_slot_and_third_is_refused_as_busy)
{
    serve_all();
    Recorder a, b, c;
    auto first = open_one(a, target(TlsPolicy::none));
    auto second = open_one(b, target(TlsPolicy::none));
    auto third = open_one(c, target(TlsPolicy::none));
    // The third is told at once, without a connection attempt.
    ASSERT_TRUE(run_until([&] { return c.closed.has_value(); }));
    EXPECT_EQ(c.closed->kind, Kind::busy);
    EXPECT_NE(c.closed->detail.find("bosh.max_connect_queue"), std::string::npos) << c.closed->detail;
    run_for(100ms);
    EXPECT_EQ(accepted_, 1);  // only the first has connected
    EXPECT_EQ(gate_->opening(), 1u);
    EXPECT_EQ(gate_->queued(), 1u);
    EXPECT_EQ(gate_->refused_total(), 1u);
    // The first stream opens: its slot passes to the second.
    open_now_ = true;
    ASSERT_TRUE(run_until([&] { return !a.opens.empty() && !b.opens.empty(); }));
    EXPECT_EQ(accepted_, 2);
    EXPECT_EQ(gate_->opening(), 0u);
    EXPECT_EQ(gate_->queued(), 0u);
    EXPECT_FALSE(a.closed);
    EXPECT_FALSE(b.closed);
    first->close();
    second->close();
    third->close();
}

TEST_F(GateTest, a_failed_opening_gives_its_slot_to_the_next)
{
    Recorder a, b;
    auto refused_target = target(TlsPolicy::none);
    acceptor_.close();  // nobody listens: the first fails with connect_failed
    auto first = open_one(a, refused_target);
    auto second = open_one(b, refused_target);
    EXPECT_EQ(gate_->queued(), 1u);
    ASSERT_TRUE(run_until([&] { return a.closed && b.closed; }));
    EXPECT_EQ(a.closed->kind, Kind::connect_failed);
    EXPECT_EQ(b.closed->kind, Kind::connect_failed);  // it was tried, not refused
    EXPECT_EQ(gate_->opening(), 0u);
    EXPECT_EQ(gate_->queued(), 0u);
}

TEST_F(GateTest, a_connection_queued_until_connect_timeout_ends_as_busy_untried)
{
    serve_all();
    Recorder a, b;
    auto first = open_one(a, target(TlsPolicy::none));
    auto t = target(TlsPolicy::none);
    t.connect_timeout = 1s;
    auto second = open_one(b, t);
    ASSERT_TRUE(run_until([&] { return b.closed.has_value(); }, 3000ms));
    EXPECT_EQ(b.closed->kind, Kind::busy);
    EXPECT_NE(b.closed->detail.find("waited 1s"), std::string::npos) << b.closed->detail;
    EXPECT_EQ(accepted_, 1);
    EXPECT_EQ(gate_->queued(), 0u);
    EXPECT_EQ(gate_->opening(), 1u);  // still the first's
    first->close();
    EXPECT_EQ(gate_->opening(), 0u);
    second->close();
}

TEST_F(GateTest, closing_a_queued_connection_leaves_the_queue_without_callbacks)
{
    serve_all();
    Recorder a, b;
    auto first = open_one(a, target(TlsPolicy::none));
    auto second = open_one(b, target(TlsPolicy::none));
    run_for(50ms);
    ASSERT_EQ(gate_->queued(), 1u);
    b.close_called = true;
    second->close();
    second.reset();
    EXPECT_EQ(gate_->queued(), 0u);
    open_now_ = true;
    ASSERT_TRUE(run_until([&] { return !a.opens.empty(); }));
    run_for(100ms);
    EXPECT_EQ(accepted_, 1);
    EXPECT_EQ(b.callbacks_after_close, 0);
    EXPECT_TRUE(b.order.empty());
    EXPECT_EQ(gate_->opening(), 0u);
    first->close();
}

TEST_F(GateTest, destroying_the_io_context_gives_every_slot_back)
{
    Recorder a, b;
    {
        net::io_context io;
        tcp::acceptor acceptor {io, {net::ip::make_address("127.0.0.1"), 0}};
        auto t = target(TlsPolicy::none);
        t.port = acceptor.local_endpoint().port();
        auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
        auto first = UpstreamConnection::create(io.get_executor(), t, ctx, a, gate_);
        auto second = UpstreamConnection::create(io.get_executor(), t, ctx, b, gate_);
        first->start(stream_open());
        second->start(stream_open());
        first.reset();
        second.reset();
        io.run_for(100ms);
        EXPECT_EQ(gate_->opening(), 1u);
        EXPECT_EQ(gate_->queued(), 1u);
    }
    EXPECT_EQ(gate_->opening(), 0u);
    EXPECT_EQ(gate_->queued(), 0u);
    EXPECT_TRUE(a.order.empty());
    EXPECT_TRUE(b.order.empty());
}

TEST(UpstreamTlsContext, missing_ca_file_throws_a_clear_error)
{
    try {
        make_upstream_tls_context("/nonexistent/ca.pem");
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos) << e.what();
    }
}

TEST(UpstreamTlsContext, requires_tls_1_2_and_peer_verification)
{
    auto ctx = make_upstream_tls_context(cert_file("server"));
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx->native_handle()), TLS1_2_VERSION);
    EXPECT_NE(SSL_CTX_get_verify_mode(ctx->native_handle()) & SSL_VERIFY_PEER, 0);
    EXPECT_NE(SSL_CTX_get_mode(ctx->native_handle()) & SSL_MODE_RELEASE_BUFFERS, 0u);
}

}  // namespace
}  // namespace bosun::xmpp
