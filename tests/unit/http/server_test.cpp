#include "http/server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "bosun_version.h"

namespace bosun::frontend {
namespace {

using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

// Echoes "<client ip>|<body>". Bodies "hold:N" wait N ms first, "status:N"
// answers with that status, "throw" throws, "big:N" answers with N bytes of
// big_body().
class FakeService : public runtime::SessionService {
public:
    net::awaitable<runtime::BoshHttpResponse> handle(runtime::BoshHttpRequest request) override
    {
        if (request.body.starts_with("hold:")) {
            net::steady_timer timer(
                co_await net::this_coro::executor, Ms(std::stoi(request.body.substr(5))));
            co_await timer.async_wait(net::use_awaitable);
        }
        if (request.body == "throw")
            throw std::runtime_error("fake service failure");
        runtime::BoshHttpResponse out;
        if (request.over_limit) {
            // Only the start of the body comes through (checklist #100).
            out.body = "over_limit|" + request.body.substr(0, 80);
            co_return out;
        }
        if (request.body.starts_with("status:"))
            out.status = static_cast<unsigned>(std::stoi(request.body.substr(7)));
        if (request.body.starts_with("big:")) {
            out.body = big_body(std::stoul(request.body.substr(4)));
            co_return out;
        }
        out.body = request.client_ip + "|" + request.body;
        co_return out;
    }
    // A body in which a lost, repeated or shifted stretch shows: a cycle of
    // 97 letters (a prime, so no power-of-two chunk lines up with it).
    static std::string big_body(std::size_t size)
    {
        std::string body(size, ' ');
        for (std::size_t i = 0; i < size; ++i)
            body[i] = static_cast<char>('a' + i % 97 % 26);
        return body;
    }
    std::size_t session_count() const override { return 3; }
    bool draining() const override { return false; }
};

struct RawResponse {
    std::string status_line;
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
    std::string body;

    std::size_t count(std::string_view name) const
    {
        std::size_t n = 0;
        for (const auto& [k, v] : headers)
            n += k == name;
        return n;
    }
    std::string header(std::string_view name) const
    {
        for (const auto& [k, v] : headers) {
            if (k == name)
                return v;
        }
        return "<absent>";
    }
};

std::string lower(std::string s)
{
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A blocking client on plain sockets with a receive timeout, so that a
// server that fails to answer makes the test fail instead of hang.
class RawClient {
public:
    explicit RawClient(const tcp::endpoint& ep, Ms timeout = 5000ms)
    {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval tv {static_cast<time_t>(timeout.count() / 1000),
            static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr {};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(ep.port());
        addr.sin_addr.s_addr = htonl(ep.address().to_v4().to_uint());
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~RawClient() { ::close(fd_); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connected() const { return connected_; }

    void send(std::string_view data)
    {
        while (!data.empty()) {
            const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    // Next response; nullopt on close or timeout. `head`: no body follows.
    std::optional<RawResponse> read_response(bool head = false)
    {
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill())
                return std::nullopt;
        }
        RawResponse res = parse_head(buf_.substr(0, end));
        buf_.erase(0, end + 4);
        if (head || res.status < 200 || res.status == 204 || res.status == 304)
            return res;
        if (res.count("content-length") == 0)
            return res;  // the test checks Content-Length; do not guess the body
        const auto length = std::stoul(res.header("content-length"));
        while (buf_.size() < length) {
            if (!fill())
                return std::nullopt;
        }
        res.body = buf_.substr(0, length);
        buf_.erase(0, length);
        return res;
    }

    // True if the server closes (EOF or reset) within the timeout, sending
    // nothing more.
    bool closed_by_server()
    {
        if (!buf_.empty())
            return false;
        char c;
        const auto n = ::recv(fd_, &c, 1, 0);
        return n == 0 || (n < 0 && errno == ECONNRESET);
    }

private:
    static RawResponse parse_head(const std::string& head)
    {
        RawResponse res;
        std::size_t pos = head.find("\r\n");
        res.status_line = head.substr(0, pos);
        if (res.status_line.size() >= 12)
            res.status = static_cast<unsigned>(std::stoi(res.status_line.substr(9, 3)));
        while (pos != std::string::npos) {
            const auto start = pos + 2;
            pos = head.find("\r\n", start);
            const auto line
                = head.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
            const auto colon = line.find(':');
            if (colon == std::string::npos)
                continue;
            auto value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            res.headers.emplace_back(lower(line.substr(0, colon)), value);
        }
        return res;
    }

    bool fill()
    {
        char chunk[4096];
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0)
            return false;
        buf_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    bool connected_ = false;
    std::string buf_;
};

std::string post(
    std::string_view body, std::string_view extra = {}, std::string_view target = "/http-bind")
{
    return fmt::format(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml; charset=utf-8\r\n"
        "Content-Length: {}\r\n{}\r\n{}",
        target, body.size(), extra, body);
}

std::string request(
    std::string_view method, std::string_view target = "/http-bind", std::string_view extra = {})
{
    return fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\n{}\r\n", method, target, extra);
}

HttpConfig test_config()
{
    HttpConfig cfg;
    cfg.listen = {{"127.0.0.1", 0}};
    cfg.max_header_bytes = 1024;
    cfg.max_body_bytes = 1024;
    cfg.read_timeout = Seconds {1};
    cfg.idle_timeout = Seconds {2};
    return cfg;
}

Ms since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start);
}

class HttpServerTest : public ::testing::Test {
protected:
    void start(HttpConfig cfg = test_config())
    {
        server_ = std::make_unique<HttpServer>(ioc_.get_executor(), cfg, service_);
        server_->start();
        endpoint_ = server_->local_endpoints().at(0);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    void TearDown() override
    {
        if (server_)
            server_->stop();
        ioc_.stop();
        if (thread_.joinable())
            thread_.join();
    }
    // One request on a fresh connection.
    std::optional<RawResponse> exchange(const std::string& bytes, bool head = false)
    {
        RawClient client(endpoint_);
        client.send(bytes);
        return client.read_response(head);
    }
    void expect_problem(const std::optional<RawResponse>& res, unsigned status)
    {
        ASSERT_TRUE(res.has_value());
        EXPECT_EQ(res->status, status);
        EXPECT_EQ(res->header("content-type"), "application/problem+json");
        EXPECT_NE(res->body.find(fmt::format(R"("status":{})", status)), std::string::npos)
            << res->body;
        EXPECT_NE(res->body.find(R"("type":"about:blank")"), std::string::npos) << res->body;
        EXPECT_EQ(res->header("content-length"), std::to_string(res->body.size()));
    }

    FakeService service_;
    net::io_context ioc_;
    std::unique_ptr<HttpServer> server_;
    std::thread thread_;
    tcp::endpoint endpoint_;
};

TEST_F(HttpServerTest, binds_an_ephemeral_port)
{
    start();
    EXPECT_NE(endpoint_.port(), 0);
    EXPECT_EQ(endpoint_.address().to_string(), "127.0.0.1");
}

TEST_F(HttpServerTest, post_gets_200_ok_with_content_length_and_no_chunking)
{
    start();
    const auto res = exchange(post("<body rid='1'/>"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(res->header("content-length"), std::to_string(res->body.size()));
    EXPECT_EQ(res->count("transfer-encoding"), 0u);
    EXPECT_EQ(res->header("content-type"), "text/xml; charset=utf-8");
    EXPECT_EQ(res->body, "127.0.0.1|<body rid='1'/>");
    EXPECT_TRUE(res->header("date").ends_with(" GMT")) << res->header("date");
}

TEST_F(HttpServerTest, bosh_response_is_not_cacheable)
{
    start();
    const auto res = exchange(post("<body/>"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->header("cache-control"), "no-store, no-cache");
    EXPECT_EQ(res->header("pragma"), "no-cache");
    EXPECT_EQ(res->count("expires"), 0u);
}

TEST_F(HttpServerTest, service_status_is_passed_through)
{
    start();
    const auto res = exchange(post("status:404"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status_line, "HTTP/1.1 404 Not Found");
    EXPECT_EQ(res->body, "127.0.0.1|status:404");
}

// Checklist #91: internal-server-error as a binding condition, not HTTP 500.
TEST_F(HttpServerTest, throwing_service_gives_internal_server_error_and_keeps_connection_91)
{
    start();
    RawClient client(endpoint_);
    client.send(post("throw"));
    const auto failed = client.read_response();
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->status_line, "HTTP/1.1 200 OK");
    EXPECT_NE(failed->body.find("type='terminate'"), std::string::npos) << failed->body;
    EXPECT_NE(failed->body.find("condition='internal-server-error'"), std::string::npos) << failed->body;
    client.send(post("again"));
    const auto res = client.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "127.0.0.1|again");
}

TEST_F(HttpServerTest, query_string_on_post_still_reaches_the_service)
{
    start();
    const auto res = exchange(post("<body/>", {}, "/http-bind?x=1"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
    EXPECT_EQ(res->body, "127.0.0.1|<body/>");
}

TEST_F(HttpServerTest, absolute_form_target_is_routed_by_its_path)
{
    start();
    const auto res = exchange(post("<body/>", {}, "http://localhost/http-bind"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
}

TEST_F(HttpServerTest, keep_alive_serves_two_requests_on_one_connection)
{
    start();
    RawClient client(endpoint_);
    client.send(post("one"));
    const auto first = client.read_response();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->count("connection"), 0u);  // HTTP/1.1: keep-alive by default
    client.send(post("two"));
    const auto second = client.read_response();
    ASSERT_TRUE(second);
    EXPECT_EQ(first->body, "127.0.0.1|one");
    EXPECT_EQ(second->body, "127.0.0.1|two");
}

// W2 cost per message: a response is written with a plain call when the
// socket takes it whole. One larger than the socket buffers, to a client
// that does not read yet, must still arrive whole and in order, and the
// connection serve on.
TEST_F(HttpServerTest, response_larger_than_the_socket_buffers_arrives_whole)
{
    start();
    RawClient client(endpoint_);
    constexpr std::size_t size = 16 * 1024 * 1024;
    client.send(post(fmt::format("big:{}", size)));
    std::this_thread::sleep_for(200ms);  // the server fills the socket and must wait
    const auto big = client.read_response();
    ASSERT_TRUE(big);
    EXPECT_EQ(big->header("content-length"), std::to_string(size));
    EXPECT_TRUE(big->body == FakeService::big_body(size)) << "body differs";
    client.send(post("after"));
    const auto next = client.read_response();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->body, "127.0.0.1|after");
}

// A request read without waiting when it is all there; one whose body
// comes later is still read whole.
TEST_F(HttpServerTest, body_sent_after_the_header_is_awaited)
{
    start();
    RawClient client(endpoint_);
    const auto bytes = post("late body");
    const auto head_end = bytes.find("\r\n\r\n") + 4;
    client.send(std::string_view(bytes).substr(0, head_end));
    std::this_thread::sleep_for(150ms);
    client.send(std::string_view(bytes).substr(head_end));
    const auto res = client.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
    EXPECT_EQ(res->body, "127.0.0.1|late body");
}

TEST_F(HttpServerTest, pipelined_requests_are_answered_in_order)
{
    start();
    RawClient client(endpoint_);
    client.send(post("hold:300") + post("second") + request("GET"));
    const auto a = client.read_response();
    const auto b = client.read_response();
    const auto c = client.read_response();
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->body, "127.0.0.1|hold:300");
    EXPECT_EQ(b->body, "127.0.0.1|second");
    EXPECT_EQ(c->header("content-type"), "text/plain; charset=utf-8");
}

TEST_F(HttpServerTest, held_request_does_not_block_another_connection)
{
    start();
    RawClient held(endpoint_);
    held.send(post("hold:1500"));
    std::this_thread::sleep_for(100ms);
    const auto start_time = std::chrono::steady_clock::now();
    const auto quick = exchange(post("quick"));
    ASSERT_TRUE(quick);
    EXPECT_EQ(quick->body, "127.0.0.1|quick");
    EXPECT_LT(since(start_time), 700ms);
    const auto slow = held.read_response();
    ASSERT_TRUE(slow);
    EXPECT_EQ(slow->body, "127.0.0.1|hold:1500");
}

TEST_F(HttpServerTest, held_request_is_not_cut_by_the_read_timeout)
{
    start();  // read_timeout 1 s
    const auto res = exchange(post("hold:1800"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
    EXPECT_EQ(res->body, "127.0.0.1|hold:1800");
}

TEST_F(HttpServerTest, oversized_header_gets_431_and_close)
{
    start();
    RawClient client(endpoint_);
    client.send(post("<body/>", "X-Pad: " + std::string(2000, 'a') + "\r\n"));
    const auto res = client.read_response();
    expect_problem(res, 431);
    EXPECT_EQ(res->header("connection"), "close");
    EXPECT_TRUE(client.closed_by_server());
}

TEST_F(HttpServerTest, oversized_body_gets_413_and_close)
{
    start();
    RawClient client(endpoint_);
    client.send(post(std::string(2000, 'x')));
    const auto res = client.read_response();
    expect_problem(res, 413);
    EXPECT_EQ(res->header("connection"), "close");
    EXPECT_TRUE(client.closed_by_server());
}

// Checklist #100: a BOSH body over the limit goes to the service marked
// over_limit, with its start (the sid), and the service's BOSH answer is
// returned with 200; the connection then closes.
TEST_F(HttpServerTest, oversized_bosh_body_goes_to_the_service_as_over_limit_100)
{
    start();
    RawClient client(endpoint_);
    const std::string start_tag = "<body rid='7' sid='S1' xmlns='http://jabber.org/protocol/httpbind'>";
    client.send(post(start_tag + std::string(2000, 'x') + "</body>"));
    const auto res = client.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
    EXPECT_TRUE(res->body.starts_with("over_limit|" + start_tag)) << res->body;
    EXPECT_TRUE(client.closed_by_server());
}

TEST_F(HttpServerTest, body_at_the_limit_is_accepted)
{
    start();
    const auto res = exchange(post(std::string(1024, 'x')));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
}

TEST_F(HttpServerTest, oversized_chunked_body_gets_413)
{
    start();
    std::string chunked
        = "POST /http-bind HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i)
        chunked += "200\r\n" + std::string(512, 'y') + "\r\n";
    chunked += "0\r\n\r\n";
    expect_problem(exchange(chunked), 413);
}

TEST_F(HttpServerTest, garbage_gets_400_and_close)
{
    start();
    for (const std::string& garbage : {std::string("GARBAGE\r\n\r\n"),
             std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\r\n\r\n"),
             std::string("POST /http-bind HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
             std::string("POST /http-bind HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: "
                         "chunked\r\n\r\nabc")}) {
        RawClient client(endpoint_);
        client.send(garbage);
        expect_problem(client.read_response(), 400);
        EXPECT_TRUE(client.closed_by_server());
    }
}

TEST_F(HttpServerTest, random_bytes_and_abrupt_closes_leave_the_server_serving)
{
    start();
    std::uint32_t seed = 12345;
    const auto next = [&seed] { return seed = seed * 1664525u + 1013904223u; };
    const std::string prefixes[]
        = {"", "POST /http-bind HTTP/1.1\r\n", "POST /http-bind HTTP/1.1\r\nContent-Length: ",
            "GET /http-bind HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"};
    for (int i = 0; i < 200; ++i) {
        RawClient client(endpoint_, 50ms);
        std::string bytes = prefixes[next() % 4];
        const auto n = next() % 600;
        for (std::uint32_t k = 0; k < n; ++k)
            bytes += static_cast<char>(next() >> 24);
        client.send(bytes);
        if (i % 2 == 0)
            (void)client.read_response();
    }
    {
        RawClient gone(endpoint_);
        gone.send(post("hold:200"));  // closes before the answer
    }
    std::this_thread::sleep_for(300ms);
    const auto res = exchange(post("still here"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "127.0.0.1|still here");
}

TEST_F(HttpServerTest, stalled_header_gets_408_after_read_timeout)
{
    start();
    RawClient client(endpoint_);
    const auto start_time = std::chrono::steady_clock::now();
    client.send("POST /http-bind HTTP/1.1\r\nHost: localhost\r\n");
    const auto res = client.read_response();
    expect_problem(res, 408);
    EXPECT_GE(since(start_time), 900ms);
    EXPECT_LT(since(start_time), 2500ms);
    EXPECT_TRUE(client.closed_by_server());
}

TEST_F(HttpServerTest, stalled_body_gets_408)
{
    start();
    RawClient client(endpoint_);
    client.send("POST /http-bind HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc");
    expect_problem(client.read_response(), 408);
}

TEST_F(HttpServerTest, trickled_request_is_still_bounded_by_read_timeout)
{
    start();
    RawClient client(endpoint_);
    const auto start_time = std::chrono::steady_clock::now();
    client.send("POST /http-bind HTTP/1.1\r\n");
    for (int i = 0; i < 5; ++i) {
        std::this_thread::sleep_for(300ms);
        client.send("X-A: b\r\n");
    }
    expect_problem(client.read_response(), 408);
    EXPECT_LT(since(start_time), 2500ms);
}

TEST_F(HttpServerTest, silent_new_connection_is_closed_without_answer)
{
    start();
    RawClient client(endpoint_);
    const auto start_time = std::chrono::steady_clock::now();
    EXPECT_TRUE(client.closed_by_server());
    EXPECT_GE(since(start_time), 900ms);
    EXPECT_LT(since(start_time), 1800ms);  // read_timeout, not idle_timeout
}

TEST_F(HttpServerTest, idle_keep_alive_connection_is_closed_after_idle_timeout)
{
    start();  // idle_timeout 2 s
    RawClient client(endpoint_);
    client.send(post("one"));
    ASSERT_TRUE(client.read_response());
    const auto start_time = std::chrono::steady_clock::now();
    EXPECT_TRUE(client.closed_by_server());
    EXPECT_GE(since(start_time), 1800ms);
    EXPECT_LT(since(start_time), 3500ms);
}

TEST_F(HttpServerTest, connection_close_is_honoured)
{
    start();
    RawClient client(endpoint_);
    client.send(post("bye", "Connection: close\r\n"));
    const auto res = client.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->header("connection"), "close");
    EXPECT_TRUE(client.closed_by_server());
}

TEST_F(HttpServerTest, http10_closes_unless_keep_alive_is_asked)
{
    start();
    {
        RawClient client(endpoint_);
        client.send("POST /http-bind HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi");
        const auto res = client.read_response();
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status_line, "HTTP/1.0 200 OK");
        EXPECT_TRUE(client.closed_by_server());
    }
    RawClient client(endpoint_);
    client.send(
        "POST /http-bind HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi");
    const auto first = client.read_response();
    ASSERT_TRUE(first);
    EXPECT_EQ(lower(first->header("connection")), "keep-alive");
    client.send("POST /http-bind HTTP/1.0\r\nContent-Length: 2\r\n\r\nho");
    const auto second = client.read_response();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->body, "127.0.0.1|ho");
}

TEST_F(HttpServerTest, expect_100_continue_gets_interim_response)
{
    start();
    RawClient client(endpoint_);
    client.send(
        "POST /http-bind HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n");
    const auto interim = client.read_response();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status_line, "HTTP/1.1 100 Continue");
    client.send("<body/>");
    const auto res = client.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "127.0.0.1|<body/>");
}

TEST_F(HttpServerTest, get_shows_status_text)
{
    start();
    const auto res = exchange(request("GET"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(res->header("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(res->body,
        "Bosun " BOSUN_VERSION " BOSH endpoint: POST XEP-0124 bodies here. Sessions: 3.\n");
    EXPECT_EQ(res->header("content-length"), std::to_string(res->body.size()));
}

TEST_F(HttpServerTest, head_has_content_length_but_no_body)
{
    start();
    RawClient client(endpoint_);
    client.send(request("HEAD"));
    const auto head = client.read_response(true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200u);
    client.send(request("GET"));
    const auto get = client.read_response();
    ASSERT_TRUE(get);  // would be garbled if HEAD had sent a body
    EXPECT_EQ(get->status_line, "HTTP/1.1 200 OK");
    EXPECT_EQ(head->header("content-length"), std::to_string(get->body.size()));
}

TEST_F(HttpServerTest, get_with_query_is_not_script_syntax)
{
    start();
    expect_problem(exchange(request("GET", "/http-bind?%3Cbody%2F%3E")), 404);
}

TEST_F(HttpServerTest, unknown_path_gets_404_problem)
{
    start();
    expect_problem(exchange(post("<body/>", {}, "/other")), 404);
    expect_problem(exchange(request("GET", "/")), 404);
}

TEST_F(HttpServerTest, other_method_gets_405_with_allow)
{
    start();
    for (const char* method : {"PUT", "DELETE", "PATCH"}) {
        const auto res = exchange(request(method, "/http-bind", "Content-Length: 0\r\n"));
        expect_problem(res, 405);
        EXPECT_EQ(res->header("allow"), "GET, HEAD, POST, OPTIONS");
    }
}

class CorsTest : public HttpServerTest {
protected:
    void SetUp() override
    {
        auto cfg = test_config();
        cfg.cors_allowed_origins = {"https://app.example"};
        start(cfg);
    }
    static std::string preflight(std::string_view origin)
    {
        std::string extra = "Access-Control-Request-Method: "
                            "POST\r\nAccess-Control-Request-Headers: content-type\r\n";
        if (!origin.empty())
            extra += fmt::format("Origin: {}\r\n", origin);
        return request("OPTIONS", "/http-bind", extra);
    }
};

TEST_F(CorsTest, preflight_from_allowed_origin_gets_204_with_cors_headers)
{
    const auto res = exchange(preflight("https://app.example"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 204u);
    EXPECT_EQ(res->header("access-control-allow-origin"), "https://app.example");
    EXPECT_EQ(res->header("access-control-allow-methods"), "POST, GET, OPTIONS");
    EXPECT_EQ(res->header("access-control-allow-headers"), "Content-Type");
    EXPECT_EQ(res->header("access-control-max-age"), "86400");
    EXPECT_EQ(res->header("vary"), "Origin");
    EXPECT_EQ(res->count("transfer-encoding"), 0u);
}

TEST_F(CorsTest, preflight_from_other_origin_gets_403)
{
    const auto res = exchange(preflight("https://evil.example"));
    expect_problem(res, 403);
    EXPECT_EQ(res->count("access-control-allow-origin"), 0u);
}

TEST_F(CorsTest, options_without_origin_is_plain_options)
{
    const auto res = exchange(preflight(""));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 204u);
    EXPECT_EQ(res->header("allow"), "GET, HEAD, POST, OPTIONS");
    EXPECT_EQ(res->count("access-control-allow-origin"), 0u);
}

TEST_F(CorsTest, post_from_allowed_origin_carries_acao_and_vary)
{
    const auto res = exchange(post("<body/>", "Origin: https://app.example\r\n"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
    EXPECT_EQ(res->header("access-control-allow-origin"), "https://app.example");
    // Origin for CORS; Accept-Encoding because BOSH bodies may be compressed (checklist #4).
    EXPECT_EQ(res->header("vary"), "Origin, Accept-Encoding");
}

TEST_F(CorsTest, get_from_allowed_origin_carries_acao)
{
    const auto res = exchange(request("GET", "/http-bind", "Origin: https://app.example\r\n"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->header("access-control-allow-origin"), "https://app.example");
}

TEST_F(CorsTest, post_from_other_origin_is_served_without_acao)
{
    const auto res = exchange(post("<body/>", "Origin: https://evil.example\r\n"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
    EXPECT_EQ(res->count("access-control-allow-origin"), 0u);
}

TEST_F(HttpServerTest, no_cors_headers_when_allow_list_is_empty)
{
    start();
    const auto res = exchange(post("<body/>", "Origin: https://app.example\r\n"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200u);
    for (const auto& [name, value] : res->headers)
        EXPECT_FALSE(name.starts_with("access-control-")) << name;
    const auto pre = exchange(request("OPTIONS", "/http-bind",
        "Origin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n"));
    expect_problem(pre, 403);
    for (const auto& [name, value] : pre->headers)
        EXPECT_FALSE(name.starts_with("access-control-")) << name;
}

TEST_F(HttpServerTest, forwarded_for_is_ignored_from_untrusted_peer)
{
    start();
    const auto res = exchange(post("x", "X-Forwarded-For: 203.0.113.9\r\n"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "127.0.0.1|x");
}

TEST_F(HttpServerTest, forwarded_for_is_honoured_from_trusted_proxy)
{
    auto cfg = test_config();
    cfg.trusted_proxies = {"127.0.0.0/8", "10.0.0.0/8"};
    start(cfg);
    auto res = exchange(post("x", "X-Forwarded-For: 198.51.100.1, 203.0.113.9\r\n"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "203.0.113.9|x");
    res = exchange(post("x", "X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 10.1.1.1\r\n"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "198.51.100.1|x");
    res = exchange(post("x"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "127.0.0.1|x");
}

TEST_F(HttpServerTest, invalid_trusted_proxy_is_a_startup_error)
{
    auto cfg = test_config();
    cfg.trusted_proxies = {"10.0.0.0/40"};
    EXPECT_THROW(HttpServer(ioc_.get_executor(), cfg, service_), std::invalid_argument);
}

TEST_F(HttpServerTest, port_in_use_is_a_clear_startup_error)
{
    start();
    auto cfg = test_config();
    cfg.listen = {{"127.0.0.1", 0}, {"127.0.0.1", endpoint_.port()}};
    HttpServer second(ioc_.get_executor(), cfg, service_);
    try {
        second.start();
        FAIL() << "start() should throw";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
            fmt::format("cannot listen on 127.0.0.1:{}: Address already in use", endpoint_.port()));
    }
    EXPECT_TRUE(second.local_endpoints().empty());  // the first address was released
}

TEST_F(HttpServerTest, bad_listen_address_is_a_clear_startup_error)
{
    auto cfg = test_config();
    cfg.listen = {{"localhost", 0}};
    HttpServer server(ioc_.get_executor(), cfg, service_);
    EXPECT_THROW(server.start(), std::runtime_error);
}

TEST_F(HttpServerTest, listens_on_every_address)
{
    auto cfg = test_config();
    cfg.listen = {{"127.0.0.1", 0}, {"127.0.0.1", 0}};
    start(cfg);
    const auto endpoints = server_->local_endpoints();
    ASSERT_EQ(endpoints.size(), 2u);
    RawClient client(endpoints[1]);
    client.send(post("second"));
    const auto res = client.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "127.0.0.1|second");
}

TEST_F(HttpServerTest, connections_over_the_limit_get_503)
{
    auto cfg = test_config();
    cfg.max_connections = 1;
    start(cfg);
    RawClient first(endpoint_);
    first.send(post("one"));
    ASSERT_TRUE(first.read_response());
    RawClient second(endpoint_);
    expect_problem(second.read_response(), 503);
    EXPECT_TRUE(second.closed_by_server());
    first.send(post("two"));  // the admitted one is unaffected
    const auto res = first.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "127.0.0.1|two");
}

TEST_F(HttpServerTest, stop_closes_idle_connections_and_finishes_held_requests)
{
    start();
    RawClient idle(endpoint_);
    idle.send(post("one"));
    ASSERT_TRUE(idle.read_response());
    RawClient held(endpoint_);
    held.send(post("hold:800"));
    std::this_thread::sleep_for(200ms);
    const auto start_time = std::chrono::steady_clock::now();
    server_->stop();
    EXPECT_TRUE(idle.closed_by_server());
    EXPECT_LT(since(start_time), 500ms);
    const auto res = held.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "127.0.0.1|hold:800");
    EXPECT_EQ(res->header("connection"), "close");
    EXPECT_TRUE(held.closed_by_server());
    RawClient late(endpoint_);
    EXPECT_FALSE(late.connected());
}

}  // namespace
}  // namespace bosun::frontend
