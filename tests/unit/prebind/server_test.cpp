// ApiServer over a real loopback socket (port 0).
#include "prebind/server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <fmt/format.h>

#include "fake_service.hpp"

namespace bosun::prebind::test {
namespace {

// Sends `raw` and reads until the server closes (requests say Connection: close).
std::string round_trip(std::uint16_t port, const std::string& raw)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv {5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return "connect failed";
    }
    (void)::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

std::string lower(std::string s)
{
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

class ServerTest : public ::testing::Test {
protected:
    ServerTest()
    {
        config.prebind.listen = {{"127.0.0.1", 0}};
        config.prebind.max_body_bytes = 1024;
        api.emplace(config, service);
        server.emplace(ioc.get_executor(), config.prebind, *api);
        server->start();
        port = server->local_endpoints().at(0).port();
        thread = std::thread([this] { ioc.run(); });
    }
    ~ServerTest() override
    {
        server->stop();
        work.reset();
        ioc.stop();
        thread.join();
    }

    Config config = test_config();
    FakeService service;
    net::io_context ioc;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work {
        ioc.get_executor()};
    std::optional<Api> api;
    std::optional<ApiServer> server;
    std::uint16_t port = 0;
    std::thread thread;
};

std::string request(std::string_view method, std::string_view target, std::string_view body,
    std::string_view key = app_key)
{
    return fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n"
                       "Content-Type: application/json\r\nContent-Length: {}\r\n"
                       "Connection: close\r\n\r\n{}",
        method, target, key, body.size(), body);
}

TEST_F(ServerTest, prebind_over_loopback_returns_201_json_with_required_headers)
{
    const auto raw = round_trip(port,
        request("POST", "/v1/prebind",
            R"({"auth":{"method":"password","jid":"alice@example.org","password":"pw"}})"));
    ASSERT_TRUE(raw.starts_with("HTTP/1.1 201 ")) << raw;
    const auto head = lower(raw.substr(0, raw.find("\r\n\r\n")));
    const auto body = raw.substr(raw.find("\r\n\r\n") + 4);
    EXPECT_NE(head.find("\r\ncache-control: no-store"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nx-request-id: "), std::string::npos);
    EXPECT_NE(head.find(fmt::format("\r\ncontent-length: {}", body.size())), std::string::npos);
    EXPECT_NE(head.find("\r\ncontent-type: application/json"), std::string::npos);
    EXPECT_EQ(head.find("access-control-"), std::string::npos);  // never CORS
    EXPECT_NE(body.find("\"sid\":\"SIDSIDSIDSIDSIDSIDSIDSIDSIDSID01\""), std::string::npos);
    ASSERT_EQ(service.logins.size(), 1u);
    EXPECT_EQ(service.logins[0].client_ip, "127.0.0.1");
}

TEST_F(ServerTest, wrong_key_over_loopback_is_401_problem)
{
    const auto raw = round_trip(port, request("GET", "/v1/sessions/x", "", "bsk_app_wrong"));
    ASSERT_TRUE(raw.starts_with("HTTP/1.1 401 ")) << raw;
    EXPECT_NE(lower(raw).find("content-type: application/problem+json"), std::string::npos);
    EXPECT_NE(lower(raw).find("www-authenticate: bearer"), std::string::npos);
}

TEST_F(ServerTest, oversized_body_is_413_problem)
{
    const std::string big(2000, 'x');
    const auto raw = round_trip(port, request("POST", "/v1/prebind", big));
    ASSERT_TRUE(raw.starts_with("HTTP/1.1 413 ")) << raw;
    EXPECT_NE(raw.find("\"error\":\"payload_too_large\""), std::string::npos);
    EXPECT_TRUE(service.logins.empty());
}

TEST_F(ServerTest, delete_session_is_204_without_body)
{
    service.sessions["s1"] = {"alice@example.org/r", true, false};
    const auto raw = round_trip(port, request("DELETE", "/v1/sessions/s1", ""));
    ASSERT_TRUE(raw.starts_with("HTTP/1.1 204 ")) << raw;
    EXPECT_TRUE(raw.ends_with("\r\n\r\n")) << raw;
    EXPECT_EQ(lower(raw).find("content-length"), std::string::npos);
}

TEST_F(ServerTest, keep_alive_serves_pipelined_requests_in_order)
{
    auto first = request("GET", "/v1/sessions/nope", "");
    first.replace(first.find("Connection: close"), 17, "Connection: keep-alive");
    const auto raw = round_trip(port, first + request("GET", "/nowhere", ""));
    const auto second = raw.find("HTTP/1.1 404 ", 1);
    ASSERT_TRUE(raw.starts_with("HTTP/1.1 404 ")) << raw;
    ASSERT_NE(second, std::string::npos) << raw;
    EXPECT_NE(raw.find("no such session"), std::string::npos);
    EXPECT_NE(raw.find("no such resource", second), std::string::npos);
}

}  // namespace
}  // namespace bosun::prebind::test
