#include "prebind/server.hpp"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_set>

#include <fmt/format.h>

#include "common/log.hpp"
#include "http/address_match.hpp"
#include "http/router.hpp"
#include "prebind/api_key.hpp"

namespace bosun::prebind {

class ConnectionBase {
public:
    virtual ~ConnectionBase() = default;
    virtual void close_if_idle() = 0;
};

struct ServerState {
    net::any_io_executor ex;
    PrebindConfig cfg;
    Api& api;
    std::vector<tcp::acceptor> acceptors;
    std::unordered_set<ConnectionBase*> connections;
    bool stopping = false;
    std::shared_ptr<ssl::context> tls;  // set: HTTPS only
};

namespace {

using Parser = http::request_parser<http::string_body>;
using Response = http::response<http::string_body>;

constexpr auto linger_timeout = std::chrono::seconds(1);
constexpr std::size_t linger_max_bytes = 64 * 1024;
constexpr auto accept_backoff = std::chrono::milliseconds(100);
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

auto log_escape(std::string_view what)
{
    return [what](std::exception_ptr e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log::error("prebind: {} ended: {}", what, ex.what());
        } catch (...) {
            log::error("prebind: {} ended: unknown exception", what);
        }
    };
}

std::string endpoint_text(const tcp::endpoint& ep)
{
    if (ep.address().is_v6())
        return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
    return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

// A parse error worth answering before the close (EOF and resets just close).
std::optional<ApiResponse> problem_for(const error_code& ec)
{
    if (ec == http::error::header_limit)
        return make_problem(431, "invalid_request", "request header too large", make_request_id());
    if (ec == http::error::body_limit)
        return make_problem(413, "payload_too_large", "request body too large", make_request_id());
    if (ec == beast::error::timeout)
        return make_problem(
            408, "invalid_request", "request not received in time", make_request_id());
    if (ec == http::error::end_of_stream || ec == http::error::partial_message)
        return std::nullopt;
    if (ec.category() == make_error_code(http::error::bad_method).category())
        return make_problem(400, "invalid_request", "malformed HTTP request", make_request_id());
    return std::nullopt;
}

Response to_wire(ApiResponse in, unsigned version, bool keep_alive)
{
    Response res {static_cast<http::status>(in.status), version == 10 ? 10u : 11u};
    for (auto& [name, value] : in.headers)
        res.insert(name, value);
    res.set(http::field::date, frontend::http_date(std::time(nullptr)));
    res.keep_alive(keep_alive);
    res.body() = std::move(in.body);
    // RFC 9110 §8.6: no Content-Length on 204.
    if (in.status != 204)
        res.content_length(res.body().size());
    return res;
}

std::string serialized(Response res)
{
    std::ostringstream os;
    os << res;
    return os.str();
}

// Over max_connections: a best-effort 503 without reading, then close.
void reject_overloaded(tcp::socket socket)
{
    auto problem = make_problem(503, "unavailable", "too many connections", make_request_id());
    problem.headers.emplace_back("Retry-After", "5");
    const auto wire = serialized(to_wire(std::move(problem), 11, false));
    error_code ec;
    socket.non_blocking(true, ec);
    socket.write_some(net::buffer(wire), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

using TlsStream = ssl::stream<tcp::socket>;

// TLS 1.2 or later, the operator's certificate chain and key, and with
// tls_client_ca_file a required client certificate (mTLS). Errors name the
// file, never its bytes.
std::shared_ptr<ssl::context> make_tls_context(const PrebindConfig& cfg)
{
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
        | ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1
        | ssl::context::single_dh_use);
    const auto load = [](std::string_view what, const std::string& file, auto&& op) {
        error_code ec;
        op(ec);
        if (ec)
            throw std::runtime_error(
                fmt::format("prebind: cannot use {} {}: {}", what, file, ec.message()));
    };
    load("tls_cert_file", cfg.tls_cert_file,
        [&](error_code& ec) { ctx->use_certificate_chain_file(cfg.tls_cert_file, ec); });
    load("tls_key_file", cfg.tls_key_file, [&](error_code& ec) {
        ctx->use_private_key_file(cfg.tls_key_file, ssl::context::pem, ec);
    });
    if (!cfg.tls_client_ca_file.empty()) {
        load("tls_client_ca_file", cfg.tls_client_ca_file,
            [&](error_code& ec) { ctx->load_verify_file(cfg.tls_client_ca_file, ec); });
        ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    return ctx;
}

tcp::acceptor open_acceptor(net::any_io_executor ex, const ListenAddress& where)
{
    error_code ec;
    const auto address = net::ip::make_address(where.host, ec);
    if (ec)
        throw std::runtime_error(
            fmt::format("prebind: cannot listen on {}: not a numeric IP address", where.host));
    const tcp::endpoint ep {address, where.port};
    const auto fail = [&ep](const error_code& e) {
        return std::runtime_error(
            fmt::format("prebind: cannot listen on {}: {}", endpoint_text(ep), e.message()));
    };
    tcp::acceptor acceptor(ex);
    if (acceptor.open(ep.protocol(), ec); ec)
        throw fail(ec);
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (address.is_v6())
        acceptor.set_option(net::ip::v6_only(true), ec);
    if (acceptor.bind(ep, ec); ec)
        throw fail(ec);
    if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
        throw fail(ec);
    return acceptor;
}

}  // namespace

// One caller connection: read a request, let the Api answer, loop while
// keep-alive holds. Stream is tcp::socket, or TlsStream when the listener
// has TLS (then the handshake comes first).
template <class Stream> class Connection : public ConnectionBase {
public:
    Connection(std::shared_ptr<ServerState> state, tcp::socket socket);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    net::awaitable<void> run();
    void close_if_idle() override;

private:
    static constexpr bool tls = std::is_same_v<Stream, TlsStream>;
    tcp::socket& socket() { return beast::get_lowest_layer(stream_); }
    net::awaitable<bool> handshake();
    template <class Op> auto with_deadline(Op op);
    net::awaitable<bool> await_request(bool first);
    net::awaitable<error_code> read_request();
    net::awaitable<ApiResponse> respond(http::request<http::string_body> req);
    net::awaitable<error_code> write(Response res);
    net::awaitable<void> linger_close();
    void wipe_buffer();

    std::shared_ptr<ServerState> state_;
    Stream stream_;
    net::steady_timer timer_;
    beast::flat_buffer buffer_;
    std::optional<Parser> parser_;
    std::string peer_;
    bool idle_ = false;
};

template <class Stream> Stream make_stream(tcp::socket socket, ServerState& state)
{
    if constexpr (std::is_same_v<Stream, TlsStream>)
        return Stream(std::move(socket), *state.tls);
    else
        return socket;
}

template <class Stream>
Connection<Stream>::Connection(std::shared_ptr<ServerState> state, tcp::socket accepted)
    : state_(std::move(state))
    , stream_(make_stream<Stream>(std::move(accepted), *state_))
    , timer_(stream_.get_executor())
{
    error_code ec;
    peer_ = frontend::normalize_address(socket().remote_endpoint(ec).address()).to_string();
    state_->connections.insert(this);
}

template <class Stream> Connection<Stream>::~Connection()
{
    state_->connections.erase(this);
}

template <class Stream> void Connection<Stream>::close_if_idle()
{
    error_code ec;
    if (idle_)
        socket().cancel(ec);
}

template <class Stream> template <class Op> auto Connection<Stream>::with_deadline(Op op)
{
    return net::experimental::make_parallel_group(std::move(op), timer_.async_wait(net::deferred))
        .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
}

// The TLS handshake, within read_timeout. False: close.
template <class Stream> net::awaitable<bool> Connection<Stream>::handshake()
{
    if constexpr (!tls) {
        co_return true;
    } else {
        timer_.expires_after(state_->cfg.read_timeout);
        auto [order, ec, timer_ec] = co_await with_deadline(
            stream_.async_handshake(ssl::stream_base::server, net::deferred));
        if (order[0] == 0 && !ec)
            co_return true;
        log::debug("prebind {}: TLS handshake: {}", peer_,
            order[0] == 1 ? std::string("timeout") : ec.message());
        error_code ignored;
        socket().close(ignored);
        co_return false;
    }
}

template <class Stream> net::awaitable<void> Connection<Stream>::run()
{
    if (!co_await handshake())
        co_return;
    for (bool first = true;; first = false) {
        const bool more = co_await await_request(first);
        if (!more)
            break;
        const auto ec = co_await read_request();
        if (ec) {
            if (ec != http::error::end_of_stream)
                log::debug("prebind {}: read: {}", peer_, ec.message());
            if (auto problem = problem_for(ec))
                co_await write(to_wire(std::move(*problem), 11, false));
            break;
        }
        auto req = parser_->release();
        parser_.reset();
        wipe_buffer();
        const unsigned version = req.version();
        const bool keep = req.keep_alive();
        auto answer = co_await respond(std::move(req));
        const bool keep_alive = keep && !state_->stopping;
        const auto write_ec = co_await write(to_wire(std::move(answer), version, keep_alive));
        if (write_ec)
            co_return;
        if (!keep_alive)
            break;
    }
    co_await linger_close();
}

template <class Stream> net::awaitable<bool> Connection<Stream>::await_request(bool first)
{
    if (buffer_.size() > 0)
        co_return true;  // pipelined
    if (state_->stopping)
        co_return false;
    timer_.expires_after(first ? state_->cfg.read_timeout : state_->cfg.idle_timeout);
    idle_ = true;
    if constexpr (tls) {
        // The TLS engine may already hold the request (sent in the same
        // flight as the handshake's Finished), so the raw socket's readiness
        // says nothing: wait for the first decrypted bytes instead.
        auto [order, ec, n, timer_ec]
            = co_await with_deadline(stream_.async_read_some(buffer_.prepare(4096), net::deferred));
        idle_ = false;
        if (order[0] != 0 || ec)
            co_return false;
        buffer_.commit(n);
        co_return true;
    } else {
        auto [order, ec, timer_ec]
            = co_await with_deadline(socket().async_wait(tcp::socket::wait_read, net::deferred));
        idle_ = false;
        co_return order[0] == 0 && !ec;
    }
}

template <class Stream> net::awaitable<error_code> Connection<Stream>::read_request()
{
    const auto& cfg = state_->cfg;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(cfg.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(cfg.max_body_bytes);
    timer_.expires_after(cfg.read_timeout);
    auto [order, ec, n, timer_ec] = co_await with_deadline(
        http::async_read_header(stream_, buffer_, *parser_, net::deferred));
    if (order[0] == 1)
        co_return beast::error::timeout;
    if (ec || parser_->is_done())
        co_return ec;
    // RFC 9110 §10.1.1: curl waits for 100 Continue on larger bodies.
    const auto& head = parser_->get();
    const auto expect = head.find(http::field::expect);
    if (expect != head.end() && beast::iequals(expect->value(), "100-continue")) {
        auto [o, wec, wn, t] = co_await with_deadline(
            net::async_write(stream_, net::buffer(continue_line), net::deferred));
        if (o[0] == 1)
            co_return beast::error::timeout;
        if (wec)
            co_return wec;
    }
    auto [order2, ec2, n2, timer_ec2]
        = co_await with_deadline(http::async_read(stream_, buffer_, *parser_, net::deferred));
    if (order2[0] == 1)
        co_return beast::error::timeout;
    co_return ec2;
}

template <class Stream>
net::awaitable<ApiResponse> Connection<Stream>::respond(http::request<http::string_body> req)
{
    ApiRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req)
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    request.body = std::move(req.body());
    request.peer_ip = peer_;
    // No read deadline: the Api answers within handshake_timeout (the runtime's).
    auto res = co_await state_->api.handle(std::move(request));
    co_return res;
}

template <class Stream> net::awaitable<error_code> Connection<Stream>::write(Response res)
{
    timer_.expires_after(state_->cfg.read_timeout);
    auto [order, ec, n, timer_ec]
        = co_await with_deadline(http::async_write(stream_, res, net::deferred));
    if (order[0] == 1)
        co_return beast::error::timeout;
    co_return ec;
}

// The read buffer still holds the request's bytes (the API key, maybe a
// password) after the parser copied them out; overwrite them unless a
// pipelined request is waiting there.
template <class Stream> void Connection<Stream>::wipe_buffer()
{
    if (buffer_.size() > 0)
        return;
    buffer_.clear();
    const auto all = buffer_.prepare(buffer_.capacity());
    cleanse_bytes(all.data(), all.size());
}

// RFC 9112 §9.6: drain briefly before closing so the response is not lost
// to a reset. With TLS, close_notify first (RFC 8446 §6.1), bounded by the
// same linger time.
template <class Stream> net::awaitable<void> Connection<Stream>::linger_close()
{
    error_code ec;
    if constexpr (tls) {
        timer_.expires_after(linger_timeout);
        auto [order, shutdown_ec, timer_ec]
            = co_await with_deadline(stream_.async_shutdown(net::deferred));
        (void)order;
        (void)shutdown_ec;
        socket().close(ec);
        co_return;
    }
    socket().shutdown(tcp::socket::shutdown_send, ec);
    timer_.expires_after(linger_timeout);
    for (std::size_t drained = 0; !ec && drained < linger_max_bytes;) {
        buffer_.clear();
        auto [order, read_ec, n, timer_ec] = co_await with_deadline(
            socket().async_read_some(buffer_.prepare(4096), net::deferred));
        if (order[0] == 1)
            break;
        ec = read_ec;
        drained += n;
    }
    socket().close(ec);
}

namespace {

void admit(const std::shared_ptr<ServerState>& state, tcp::socket socket)
{
    if (state->connections.size() >= state->cfg.max_connections) {
        if (state->tls) {
            error_code ec;
            socket.close(ec);  // no plain-text 503 on an HTTPS port
        } else {
            reject_overloaded(std::move(socket));
        }
        return;
    }
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    if (state->tls) {
        auto conn = std::make_shared<Connection<TlsStream>>(state, std::move(socket));
        net::co_spawn(
            state->ex, [conn] { return conn->run(); }, log_escape("connection"));
        return;
    }
    auto conn = std::make_shared<Connection<tcp::socket>>(state, std::move(socket));
    net::co_spawn(
        state->ex, [conn] { return conn->run(); }, log_escape("connection"));
}

net::awaitable<void> accept_loop(std::shared_ptr<ServerState> state, std::size_t index)
{
    auto& acceptor = state->acceptors[index];
    net::steady_timer backoff(state->ex);
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
        if (state->stopping || ec == net::error::operation_aborted)
            co_return;
        if (!ec) {
            admit(state, std::move(socket));
            continue;
        }
        log::warn("prebind: accept: {}", ec.message());
        backoff.expires_after(accept_backoff);
        co_await backoff.async_wait(net::as_tuple(net::use_awaitable));
    }
}

void stop_now(ServerState& state)
{
    state.stopping = true;
    error_code ec;
    for (auto& acceptor : state.acceptors)
        acceptor.close(ec);
    for (auto* conn : state.connections)
        conn->close_if_idle();
}

}  // namespace

ApiServer::ApiServer(net::any_io_executor ex, const PrebindConfig& cfg, Api& api)
    : state_(std::make_shared<ServerState>(ServerState {ex, cfg, api, {}, {}, false, nullptr}))
{
    if (!cfg.tls_cert_file.empty() || !cfg.tls_key_file.empty())
        state_->tls = make_tls_context(cfg);
}

bool ApiServer::uses_tls() const
{
    return state_->tls != nullptr;
}

std::vector<std::string> check_tls_files(const PrebindConfig& cfg)
{
    if (cfg.tls_cert_file.empty() && cfg.tls_key_file.empty())
        return {};
    try {
        (void)make_tls_context(cfg);
    } catch (const std::runtime_error& e) {
        return {e.what()};
    }
    return {};
}

ApiServer::~ApiServer()
{
    stop();
}

void ApiServer::start()
{
    auto& state = *state_;
    if (!state.acceptors.empty())
        throw std::logic_error("ApiServer::start called twice");
    try {
        for (const auto& where : state.cfg.listen)
            state.acceptors.push_back(open_acceptor(state.ex, where));
    } catch (...) {
        state.acceptors.clear();
        throw;
    }
    for (std::size_t i = 0; i < state.acceptors.size(); ++i)
        net::co_spawn(state.ex, accept_loop(state_, i), log_escape("accept loop"));
}

std::vector<tcp::endpoint> ApiServer::local_endpoints() const
{
    std::vector<tcp::endpoint> out;
    for (const auto& acceptor : state_->acceptors) {
        error_code ec;
        out.push_back(acceptor.local_endpoint(ec));
    }
    return out;
}

void ApiServer::stop()
{
    net::dispatch(state_->ex, [state = state_] { stop_now(*state); });
}

}  // namespace bosun::prebind
