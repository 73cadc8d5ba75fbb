#include "http/server.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/log.hpp"
#include "http/address_match.hpp"
#include "http/coding.hpp"
#include "http/router.hpp"

namespace bosun::frontend {

class Connection;

struct ServerState {
    net::any_io_executor ex;
    HttpConfig cfg;
    runtime::SessionService& service;
    AddressMatcher trusted;
    Router router;
    std::vector<tcp::acceptor> acceptors;
    std::unordered_set<Connection*> connections;
    bool stopping = false;
};

namespace {

using Parser = http::request_parser<http::string_body>;

// After the last response, read and discard what the client still sends for
// this long (or this much) before closing, so that the close does not turn
// into a reset that destroys the response in the client's receive buffer
// (RFC 9112 §9.6).
constexpr auto linger_timeout = std::chrono::seconds(1);
constexpr std::size_t linger_max_bytes = 1024 * 1024;
constexpr std::size_t linger_read_size = 16 * 1024;
constexpr auto accept_backoff = std::chrono::milliseconds(100);
// Memory (W1, docs/benchmarks.md): a connection whose request is held for a
// long poll, or that waits for its next request, keeps no read buffer (it
// is freed once a request is parsed and nothing pipelined follows) and none
// of the request's headers but the two its answer needs.
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
// How much of an oversized body is read to find its start tag (checklist #100).
constexpr std::size_t oversized_peek_bytes = 4 * 1024;

auto log_escape(std::string_view what)
{
    return [what](std::exception_ptr e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log::error("http: {} ended: {}", what, ex.what());
        } catch (...) {
            log::error("http: {} ended: unknown exception", what);
        }
    };
}

std::string endpoint_text(const tcp::endpoint& ep)
{
    if (ep.address().is_v6())
        return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
    return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

// Which parse errors get an answer before the close; the rest (EOF, reset)
// just close.
std::optional<http::status> status_for(const error_code& ec)
{
    if (ec == http::error::header_limit)
        return http::status::request_header_fields_too_large;
    if (ec == http::error::body_limit)
        return http::status::payload_too_large;
    if (ec == beast::error::timeout)
        return http::status::request_timeout;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message)
        return std::nullopt;
    if (ec.category() == make_error_code(http::error::bad_method).category())
        return http::status::bad_request;
    return std::nullopt;
}

std::string_view detail_for(http::status status)
{
    switch (status) {
    case http::status::request_header_fields_too_large:
        return "request header too large";
    case http::status::payload_too_large:
        return "request body too large";
    case http::status::request_timeout:
        return "request not received in time";
    default:
        return "malformed HTTP request";
    }
}

bool expects_continue(const Request& req)
{
    const auto it = req.find(http::field::expect);
    return req.version() == 11 && it != req.end() && beast::iequals(it->value(), "100-continue");
}

// Every value of a header that may repeat, joined with "," (RFC 9110 §5.3).
std::string joined_header(const Request& req, std::string_view name)
{
    std::string out;
    for (auto [it, end] = req.equal_range(name); it != end; ++it) {
        if (!out.empty())
            out += ',';
        out.append(it->value().data(), it->value().size());
    }
    return out;
}

std::uint32_t header_limit(std::size_t bytes)
{
    return static_cast<std::uint32_t>(
        std::min<std::size_t>(bytes, std::numeric_limits<std::uint32_t>::max()));
}

const std::string& overloaded_wire()
{
    static const std::string wire = [] {
        auto res = make_problem(http::status::service_unavailable, "too many connections");
        res.set(http::field::retry_after, "5");
        finalize(res, 11, false, false);
        std::ostringstream os;
        os << res;
        return os.str();
    }();
    return wire;
}

// Over max_connections: answer without reading and close. The write cannot
// block (non-blocking socket, fresh send buffer); if it fails, the client
// sees a plain close.
void reject_overloaded(tcp::socket socket)
{
    error_code ec;
    socket.non_blocking(true, ec);
    socket.write_some(net::buffer(overloaded_wire()), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

tcp::acceptor open_acceptor(net::any_io_executor ex, const ListenAddress& where)
{
    error_code ec;
    const auto address = net::ip::make_address(where.host, ec);
    if (ec)
        throw std::runtime_error(
            fmt::format("cannot listen on {}: not a numeric IP address", where.host));
    const tcp::endpoint ep {address, where.port};
    const auto fail = [&ep](const error_code& e) {
        return std::runtime_error(
            fmt::format("cannot listen on {}: {}", endpoint_text(ep), e.message()));
    };
    tcp::acceptor acceptor(ex);
    if (acceptor.open(ep.protocol(), ec); ec)
        throw fail(ec);
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    // "::" means IPv6 only; list 0.0.0.0 as well for IPv4. Both can then bind.
    if (address.is_v6())
        acceptor.set_option(net::ip::v6_only(true), ec);
    if (acceptor.bind(ep, ec); ec)
        throw fail(ec);
    if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec)
        throw fail(ec);
    return acceptor;
}

// XEP-0124 §5, §7.2 (checklist #5): a request body in a coding the
// creation response listed in 'accept' is decoded before anything reads it,
// within the same size limit as a plain body.
Expected<std::string, Response> decode_body(Request& req, std::size_t max_body_bytes)
{
    const auto header = req.find(http::field::content_encoding);
    if (header == req.end())
        return std::move(req.body());
    const auto coding = parse_content_encoding({header->value().data(), header->value().size()});
    if (!coding) {
        auto res
            = make_problem(http::status::unsupported_media_type, "unsupported Content-Encoding");
        res.set(http::field::accept_encoding, "gzip, deflate");
        return unexpected(std::move(res));
    }
    auto decoded = decompress(req.body(), *coding, max_body_bytes);
    if (decoded)
        return std::move(*decoded);
    if (decoded.error() == DecodeError::too_large)
        return unexpected(
            make_problem(http::status::payload_too_large, "request body too large once decoded"));
    return unexpected(make_problem(http::status::bad_request, "request body does not decode"));
}

// What Router::bosh() reads of a request once the service has answered:
// Origin (CORS) and Accept-Encoding. A browser sends 1-2 KiB of other
// headers (cookies, user agent) that a held request need not pin.
Request answer_context(const Request& req)
{
    // No target: bosh() does not read it, and setting one allocates.
    Request kept;
    kept.method(req.method());
    kept.version(req.version());
    for (const auto field : {http::field::origin, http::field::accept_encoding}) {
        for (auto [it, end] = req.equal_range(field); it != end; ++it)
            kept.insert(field, it->value());
    }
    return kept;
}

// XEP-0124 §17.2 (checklist #91): an internal fault is the binding
// condition internal-server-error, not an HTTP 500 a BOSH client may not
// understand.
runtime::BoshHttpResponse service_failure()
{
    runtime::BoshHttpResponse failed;
    failed.body = "<body type='terminate' condition='internal-server-error' "
                  "xmlns='http://jabber.org/protocol/httpbind'/>";
    return failed;
}

// The Date header, formatted once per second rather than per response.
const std::string& current_http_date()
{
    thread_local std::time_t last = -1;
    thread_local std::string text;
    const std::time_t now = std::time(nullptr);
    if (now != last) {
        text = http_date(now);
        last = now;
    }
    return text;
}

std::string describe(const std::exception_ptr& e)
{
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace

// One client connection. Its run() is the one coroutine per connection: it
// reads a request, answers it, and loops while keep-alive holds; requests
// that arrived pipelined wait in buffer_ and are answered in order.
class Connection {
public:
    Connection(std::shared_ptr<ServerState> state, tcp::socket socket);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    net::awaitable<void> run();
    void close_if_idle();

private:
    template <class Op> auto with_deadline(Op op);
    net::awaitable<bool> await_request(bool first);
    std::optional<error_code> read_request_now();
    net::awaitable<error_code> read_request();
    net::awaitable<error_code> read_body();
    net::awaitable<Response> respond(Request req);
    void describe_client(const Request& req, runtime::BoshHttpRequest& bosh) const;
    net::awaitable<runtime::BoshHttpResponse> ask_service(runtime::BoshHttpRequest request);
    // A held request's watch, alive while the service holds the request.
    struct Watch {
        net::cancellation_signal signal;  // cancels the service's wait
        bool active = true;  // cleared once the service answered
        bool gone = false;  // the client closed its end
    };
    void watch_client(std::shared_ptr<Watch> watch);
    std::string write_now(Response& res, error_code& ec);
    net::awaitable<error_code> write_rest(std::string rest);
    net::awaitable<error_code> write(Response res);
    net::awaitable<void> fail(error_code ec);
    net::awaitable<bool> answer_oversized_bosh();
    net::awaitable<void> linger_close();

    std::shared_ptr<ServerState> state_;
    tcp::socket socket_;
    net::steady_timer timer_;
    beast::flat_buffer buffer_;
    std::optional<Parser> parser_;
    net::ip::address peer_;
    bool idle_ = false;
    bool drop_ = false;  // close without answering (checklist #9)
};

Connection::Connection(std::shared_ptr<ServerState> state, tcp::socket socket)
    : state_(std::move(state))
    , socket_(std::move(socket))
    , timer_(socket_.get_executor())
{
    error_code ec;
    peer_ = normalize_address(socket_.remote_endpoint(ec).address());
    // Reads and writes try the socket at once and wait (with a deadline)
    // only for what it cannot take or give yet: a plain read or write on a
    // non-blocking socket returns would_block instead of blocking the thread.
    socket_.non_blocking(true, ec);
    state_->connections.insert(this);
}

Connection::~Connection()
{
    state_->connections.erase(this);
}

void Connection::close_if_idle()
{
    error_code ec;
    if (idle_)
        socket_.cancel(ec);
}

// Runs `op` (a deferred operation) against timer_'s expiry. The result is
// (order, op's results..., timer's error); order[0] == 1 means time ran out
// and `op` was cancelled.
template <class Op> auto Connection::with_deadline(Op op)
{
    return net::experimental::make_parallel_group(std::move(op), timer_.async_wait(net::deferred))
        .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
}

net::awaitable<void> Connection::run()
{
    for (bool first = true;; first = false) {
        if (!co_await await_request(first))
            break;
        // The request is read by a plain call when it is all there (the
        // usual case); a coroutine waits only for what is missing.
        const auto now = read_request_now();
        error_code read_ec = now.value_or(error_code {});
        if (!now)
            read_ec = co_await read_request();
        if (read_ec) {
            co_await fail(read_ec);
            break;
        }
        auto req = parser_->release();
        parser_.reset();
        if (buffer_.size() == 0)
            buffer_.shrink_to_fit();  // frees it; the next request gets a small one
        const bool head = req.method() == http::verb::head;
        const unsigned version = req.version();
        const bool keep_alive = req.keep_alive();
        auto res = co_await respond(std::move(req));
        if (drop_) {
            // XEP-0124 §19.1 (checklist #9): plain HTTP for a session
            // created over TLS gets its connection closed, no body.
            error_code ec;
            socket_.close(ec);
            co_return;
        }
        const bool keep = keep_alive && !state_->stopping;
        finalize(res, version, head, keep);
        // write() inlined: calling that coroutine would allocate its frame
        // for every response, even the nearly all that need no wait.
        error_code write_ec;
        auto rest = write_now(res, write_ec);
        if (write_ec == net::error::would_block)
            write_ec = co_await write_rest(std::move(rest));
        if (write_ec) {
            log::debug("http {}: write: {}", peer_.to_string(), write_ec.message());
            co_return;
        }
        if (!keep)
            break;
    }
    co_await linger_close();
}

// Waits for the first byte of the next request. A new connection gets
// read_timeout for it, a kept-alive one idle_timeout; either way silence
// just closes. stop() cancels this wait.
net::awaitable<bool> Connection::await_request(bool first)
{
    if (buffer_.size() > 0)
        co_return true;  // pipelined
    if (state_->stopping)
        co_return false;
    const auto& cfg = state_->cfg;
    timer_.expires_after(first ? cfg.read_timeout : cfg.idle_timeout);
    idle_ = true;
    auto [order, ec, timer_ec]
        = co_await with_deadline(socket_.async_wait(tcp::socket::wait_read, net::deferred));
    idle_ = false;
    co_return order[0] == 0 && !ec;
}

// The whole request, header and body, within read_timeout of its first byte.
// A BOSH request has nearly always arrived whole once its connection is
// readable, so the header is read without waiting first; only what is still
// missing is awaited against the deadline. (W2 cost per message,
// docs/benchmarks.md: no timer wait and no suspension per request.)
//
// read_request_now() starts the request and reads what is there without
// blocking: the outcome, or nullopt when the rest must be awaited with
// read_request() (the parser keeps what was read).
std::optional<error_code> Connection::read_request_now()
{
    const auto& cfg = state_->cfg;
    parser_.emplace();
    parser_->header_limit(header_limit(cfg.max_header_bytes));
    parser_->body_limit(cfg.max_body_bytes);
    timer_.expires_after(cfg.read_timeout);
    error_code ec;
    http::read_header(socket_, buffer_, *parser_, ec);
    if (ec == net::error::would_block)
        return std::nullopt;
    if (ec || parser_->is_done())
        return ec;
    // RFC 9110 §10.1.1: a client that waits for 100 sends its body only after it.
    if (expects_continue(parser_->get()))
        return std::nullopt;
    http::read(socket_, buffer_, *parser_, ec);
    if (ec == net::error::would_block)
        return std::nullopt;
    return ec;
}

net::awaitable<error_code> Connection::read_request()
{
    if (parser_->is_header_done())
        co_return co_await read_body();
    auto [order, ec, n, timer_ec] = co_await with_deadline(
        http::async_read_header(socket_, buffer_, *parser_, net::deferred));
    if (order[0] == 1)
        co_return beast::error::timeout;
    if (ec || parser_->is_done())
        co_return ec;
    co_return co_await read_body();
}

net::awaitable<error_code> Connection::read_body()
{
    // RFC 9110 §10.1.1: a client that waits for 100 (curl does) gets it.
    if (expects_continue(parser_->get())) {
        auto [order, ec, n, timer_ec] = co_await with_deadline(
            net::async_write(socket_, net::buffer(continue_line), net::deferred));
        if (order[0] == 1)
            co_return beast::error::timeout;
        if (ec)
            co_return ec;
    }
    auto [order, ec, n, timer_ec]
        = co_await with_deadline(http::async_read(socket_, buffer_, *parser_, net::deferred));
    if (order[0] == 1)
        co_return beast::error::timeout;
    co_return ec;
}

net::awaitable<Response> Connection::respond(Request req)
{
    auto& state = *state_;
    if (auto local = state.router.answer(req, state.service.session_count()))
        co_return std::move(*local);
    runtime::BoshHttpRequest bosh;
    auto body = decode_body(req, state.cfg.max_body_bytes);
    if (!body)
        co_return std::move(body).error();
    bosh.body = std::move(*body);
    describe_client(req, bosh);
    const Request context = answer_context(req);
    req = {};  // frees the headers and what is left of the body
    // No read deadline here: the service may hold the request for up to
    // 'wait' seconds (XEP-0124 §7.2, long poll).
    // While the request is held, watch its connection: a client that goes
    // away (page unload) cancels the request, so the data the session would
    // have put in it waits for the client's next request instead of being
    // written to a dead socket.
    // The service runs as a child coroutine whose cancellation slot the
    // watch holds; a plain handler watches the socket. (An `a || b` of two
    // coroutines costs ~2 KiB more per held request: W1 memory.)
    auto watch = std::make_shared<Watch>();
    watch_client(watch);
    auto op = net::co_spawn(socket_.get_executor(), state.service.handle(std::move(bosh)),
        net::bind_cancellation_slot(watch->signal.slot(), net::as_tuple(net::use_awaitable)));
    auto [escaped, out] = co_await std::move(op);
    watch->active = false;
    error_code ignored;
    socket_.cancel(ignored);  // ends the watch
    if (escaped) {
        // The service promises not to throw; if it does anyway, the client
        // gets internal-server-error (#91) and the connection survives.
        log::error("http {}: session service threw: {}", peer_.to_string(), describe(escaped));
        out = service_failure();
    }
    if (watch->gone) {
        drop_ = true;
        co_return Response {};
    }
    drop_ = out.drop_connection;
    co_return state.router.bosh(context, std::move(out));
}

// Cancels the held request when the client closes its end of the
// connection (EOF or reset: readable with nothing to read). Pipelined bytes
// (its next request) are left for the next read and end the watch. The
// handler touches the connection only while the watch is active, that is
// while respond() is suspended and the connection alive.
void Connection::watch_client(std::shared_ptr<Watch> watch)
{
    socket_.async_wait(tcp::socket::wait_read, [this, watch](error_code ec) {
        if (!watch->active || ec == net::error::operation_aborted)
            return;
        if (!ec) {
            error_code avail_ec;
            if (socket_.available(avail_ec) > 0 && !avail_ec)
                return;
        }
        watch->gone = true;
        watch->signal.emit(net::cancellation_type::terminal);
    });
}

// Who sent the request, as the session runtime sees it: the client's
// address and whether it used TLS, from a trusted proxy's X-Forwarded-For
// and X-Forwarded-Proto (checklist #9), else the TCP peer over plain HTTP.
void Connection::describe_client(const Request& req, runtime::BoshHttpRequest& bosh) const
{
    bosh.client_ip = resolve_client_ip(peer_, joined_header(req, "X-Forwarded-For"), state_->trusted);
    bosh.secure = forwarded_secure(peer_, joined_header(req, "X-Forwarded-Proto"), state_->trusted);
}

// The rare path (oversized bodies) awaits the service in a frame of its own.
net::awaitable<runtime::BoshHttpResponse> Connection::ask_service(runtime::BoshHttpRequest request)
{
    try {
        co_return co_await state_->service.handle(std::move(request));
    } catch (const std::exception& ex) {
        log::error("http {}: session service threw: {}", peer_.to_string(), ex.what());
    }
    co_return service_failure();
}

// A response nearly always fits the socket's send buffer: write_now()
// writes it at once, header and body in one send, with a plain call (W2
// cost per message, docs/benchmarks.md). What the socket does not take is
// returned, with ec = would_block, for write_rest() to await.
std::string Connection::write_now(Response& res, error_code& ec)
{
    res.set(http::field::date, current_http_date());
    http::response_serializer<http::string_body> sr {res};
    ec = {};
    while (!ec && !sr.is_done())
        http::write_some(socket_, sr, ec);
    std::string rest;
    if (ec != net::error::would_block)
        return rest;
    error_code next_ec;
    while (!next_ec && !sr.is_done()) {
        std::size_t taken = 0;
        sr.next(next_ec, [&rest, &taken](error_code&, const auto& buffers) {
            for (const auto b : beast::buffers_range_ref(buffers))
                rest.append(static_cast<const char*>(b.data()), b.size());
            taken = net::buffer_size(buffers);
        });
        if (taken == 0)
            break;
        sr.consume(taken);
    }
    return rest;
}

net::awaitable<error_code> Connection::write_rest(std::string rest)
{
    // A client that stops reading may not pin the connection forever.
    timer_.expires_after(state_->cfg.read_timeout);
    auto [order, ec, n, timer_ec]
        = co_await with_deadline(net::async_write(socket_, net::buffer(rest), net::deferred));
    if (order[0] == 1)
        co_return beast::error::timeout;
    co_return ec;
}

net::awaitable<error_code> Connection::write(Response res)
{
    error_code ec;
    auto rest = write_now(res, ec);
    if (ec == net::error::would_block)
        ec = co_await write_rest(std::move(rest));
    co_return ec;
}

// A request we cannot serve: one debug line, then a problem response if the
// error deserves one. Never the request's bytes: they may hold credentials.
net::awaitable<void> Connection::fail(error_code ec)
{
    if (ec == http::error::end_of_stream)
        co_return;  // closed between requests: the normal end
    log::debug("http {}: read: {}", peer_.to_string(), ec.message());
    if (ec == http::error::body_limit && co_await answer_oversized_bosh())
        co_return;
    const auto status = status_for(ec);
    if (!status)
        co_return;
    auto res = make_problem(*status, detail_for(*status));
    finalize(res, 11, false, false);
    co_await write(std::move(res));
}

// XEP-0124 §17.1 (checklist #100): a BOSH request over max_body_bytes gets
// HTTP 200 + policy-violation (§17.2), not a 413 a BOSH client may not
// understand. Only the start of the body is read and handed to the
// runtime, which ends the session it names; the connection closes after
// the answer.
net::awaitable<bool> Connection::answer_oversized_bosh()
{
    if (!parser_)
        co_return false;
    const auto& req = parser_->get();
    if (req.method() != http::verb::post
        || target_path({req.target().data(), req.target().size()}) != state_->router.path())
        co_return false;
    const auto prefix = [this] {
        const auto data = buffer_.cdata();
        const std::string_view all(static_cast<const char*>(data.data()), data.size());
        // Beast consumed the header it parsed; if it did not, skip it here.
        const auto head_end = all.find("\r\n\r\n");
        if (all.starts_with("POST ") && head_end != std::string_view::npos)
            return all.substr(head_end + 4);
        return all;
    };
    timer_.expires_after(state_->cfg.read_timeout);
    while (classify_oversized_start(prefix()) < 0 && prefix().size() < oversized_peek_bytes) {
        auto [order, ec, n, timer_ec] = co_await with_deadline(
            socket_.async_read_some(buffer_.prepare(oversized_peek_bytes), net::deferred));
        if (order[0] == 1 || ec)
            break;
        buffer_.commit(n);
    }
    if (classify_oversized_start(prefix()) != 1)
        co_return false;
    log::info("http {}: BOSH request body over {} bytes: policy-violation", peer_.to_string(),
        state_->cfg.max_body_bytes);
    // The runtime ends the session the body names and answers for it.
    runtime::BoshHttpRequest bosh;
    bosh.body = std::string(prefix());
    describe_client(req, bosh);
    bosh.over_limit = true;
    auto out = co_await ask_service(std::move(bosh));
    if (out.drop_connection)
        co_return true;  // checklist #9: closed, no answer
    auto res = state_->router.bosh(req, std::move(out));
    finalize(res, req.version(), false, false);
    co_await write(std::move(res));
    co_return true;
}

net::awaitable<void> Connection::linger_close()
{
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    timer_.expires_after(linger_timeout);
    for (std::size_t drained = 0; !ec && drained < linger_max_bytes;) {
        buffer_.clear();
        auto [order, read_ec, n, timer_ec] = co_await with_deadline(
            socket_.async_read_some(buffer_.prepare(linger_read_size), net::deferred));
        if (order[0] == 1)
            break;
        ec = read_ec;
        drained += n;
    }
    socket_.close(ec);
}

namespace {

void admit(const std::shared_ptr<ServerState>& state, tcp::socket socket)
{
    if (state->connections.size() >= state->cfg.max_connections) {
        log::debug("http: {} connections, refusing one more", state->connections.size());
        reject_overloaded(std::move(socket));
        return;
    }
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);  // small responses; latency matters
    auto conn = std::make_shared<Connection>(state, std::move(socket));
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
        // EMFILE and friends: retrying at once would spin.
        log::warn("http: accept: {}", ec.message());
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

AddressMatcher parse_trusted(const std::vector<std::string>& entries)
{
    auto matcher = AddressMatcher::parse(entries);
    if (!matcher)
        throw std::invalid_argument("http.trusted_proxies: " + matcher.error());
    return std::move(*matcher);
}

}  // namespace

HttpServer::HttpServer(
    net::any_io_executor ex, const HttpConfig& cfg, runtime::SessionService& service)
    : state_(std::make_shared<ServerState>(
        ServerState {ex, cfg, service, parse_trusted(cfg.trusted_proxies),
            Router(cfg.path, cfg.cors_allowed_origins), {}, {}, false}))
{
}

// Connections hold the shared state, so they survive the server object;
// closing the acceptors stops new ones from reaching a service being torn down.
HttpServer::~HttpServer()
{
    stop();
}

void HttpServer::start()
{
    auto& state = *state_;
    if (!state.acceptors.empty())
        throw std::logic_error("HttpServer::start called twice");
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

std::vector<tcp::endpoint> HttpServer::local_endpoints() const
{
    std::vector<tcp::endpoint> out;
    for (const auto& acceptor : state_->acceptors) {
        error_code ec;
        out.push_back(acceptor.local_endpoint(ec));
    }
    return out;
}

void HttpServer::stop()
{
    net::dispatch(state_->ex, [state = state_] { stop_now(*state); });
}

}  // namespace bosun::frontend
