#pragma once
// A runtime::PrebindService that logs in nobody: it records each login and
// answers what the test set. Plus helpers to drive prebind::Api, and
// ApiFixture, the fixture base the Api tests share.

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bosun/config.hpp"
#include "prebind/api.hpp"
#include "prebind/api_key.hpp"
#include "runtime/prebind_service.hpp"

namespace bosun::prebind::test {

using runtime::PrebindFailure;

class FakeService : public runtime::PrebindService {
public:
    net::awaitable<Expected<runtime::Prebound, PrebindFailure>> prebind(
        runtime::PrebindLogin login) override
    {
        logins.push_back(login);
        if (hold.count() > 0) {
            net::steady_timer timer(co_await net::this_coro::executor, hold);
            co_await timer.async_wait(net::use_awaitable);
        }
        if (fail)
            co_return unexpected(*fail);
        runtime::Prebound out;
        out.jid = (login.username.empty() ? "guest-1" : login.username) + "@" + login.domain + "/"
            + (login.resource.empty() ? "srv-1" : login.resource);
        out.sid = "SIDSIDSIDSIDSIDSIDSIDSIDSIDSID01";
        out.rid = 1'234'567'890'123ULL;
        out.mechanism = "SCRAM-SHA-256";
        co_return out;
    }
    std::optional<runtime::SessionInfo> session_info(const std::string& sid) const override
    {
        const auto it = sessions.find(sid);
        if (it == sessions.end())
            return std::nullopt;
        return it->second;
    }
    bool end_session(const std::string& sid) override
    {
        ended.push_back(sid);
        return sessions.erase(sid) > 0;
    }
    std::size_t end_user_sessions(const std::string& bare_jid) override
    {
        users_ended.push_back(bare_jid);
        return 3;
    }

    std::vector<runtime::PrebindLogin> logins;
    std::optional<PrebindFailure> fail;
    std::chrono::milliseconds hold {0};
    std::map<std::string, runtime::SessionInfo> sessions;
    std::vector<std::string> ended;
    std::vector<std::string> users_ended;
};

inline const std::string app_key = "bsk_app_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0x";
inline const std::string old_key = "bsk_app_b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQtb2xk";
inline const std::string other_key = "bsk_other_b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXI";

inline Config test_config()
{
    Config c;
    c.prebind.enabled = true;
    PrebindClient app;
    app.id = "app";
    app.key_hashes = {key_hash(app_key), key_hash(old_key)};
    app.allowed_domains = {"example.org"};
    app.allowed_methods = {"password", "token", "anonymous", "assertion"};
    app.rate_per_minute = 600;
    PrebindClient other;
    other.id = "other";
    other.key_hashes = {key_hash(other_key)};
    other.allowed_domains = {"other.example"};
    other.allowed_methods = {"password"};
    c.prebind.clients = {app, other};
    return c;
}

inline ApiResponse run(Api& api, ApiRequest request)
{
    net::io_context ioc;
    std::optional<ApiResponse> out;
    net::co_spawn(ioc, api.handle(std::move(request)), [&](std::exception_ptr e, ApiResponse r) {
        if (e)
            std::rethrow_exception(e);
        out = std::move(r);
    });
    ioc.run();
    return std::move(*out);
}

inline ApiRequest post(std::string body, std::string key = app_key)
{
    ApiRequest r;
    r.method = "POST";
    r.target = "/v1/prebind";
    r.headers = {{"Content-Type", "application/json"}};
    if (!key.empty())
        r.headers.emplace_back("Authorization", "Bearer " + key);
    r.body = std::move(body);
    r.peer_ip = "127.0.0.1";
    return r;
}

inline ApiRequest call(std::string method, std::string target, std::string key = app_key)
{
    ApiRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    if (!key.empty())
        r.headers.emplace_back("Authorization", "Bearer " + key);
    r.peer_ip = "127.0.0.1";
    return r;
}

// The Api's wall clock in ApiFixture, and the issuer and upstream secrets
// the assertion and resume tests configure.
inline constexpr std::int64_t wall_now = 1'735'732'800;  // 2025-01-01T12:00:00Z
inline const std::string hs_secret = "hs-secret-hs-secret-hs-secret-hs-secret!";  // 40 bytes
inline const std::string ticket_secret = "ticket-secret-ticket-secret-ticket-secret";
inline constexpr std::string_view issuer_url = "https://app.example";

inline boost::json::object body_of(const ApiResponse& r)
{
    return boost::json::parse(r.body).as_object();
}

// The "error" member of a problem+json body.
inline std::string error_of(const ApiResponse& r)
{
    return std::string(body_of(r).at("error").as_string());
}

// Writes `text` to dir/name; the file's path.
inline std::string write_file(
    const std::filesystem::path& dir, const std::string& name, const std::string& text)
{
    const auto path = dir / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

// An Api over `config` and the fake `service`. Its steady clock is `now`,
// which tests move; its wall clock is wall_now, plus the time `now` has
// moved when wall_follows_now. rebuild() makes a new Api after a change to
// config or to the clocks.
class ApiFixture : public ::testing::Test {
protected:
    void rebuild()
    {
        api.reset();
        api.emplace(config, service, Clocks {[this] { return now; }, [this] { return wall(); }});
    }
    ApiResponse send(ApiRequest r) { return run(*api, std::move(r)); }
    std::chrono::system_clock::time_point wall() const
    {
        auto t = std::chrono::system_clock::from_time_t(wall_now);
        if (wall_follows_now)
            t += std::chrono::duration_cast<std::chrono::system_clock::duration>(
                now - TimePoint {});
        return t;
    }

    Config config = test_config();
    FakeService service;
    TimePoint now {};
    std::optional<Api> api;
    bool wall_follows_now = false;
};

}  // namespace bosun::prebind::test
