// prebind::Api driven directly with a fake runtime (reference/prebind-and-auth.md
// §6.3 status table, §6.8 rate limits, §6.9 no secrets back).
#include "prebind/api.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <string>

#include "common/log.hpp"
#include "fake_service.hpp"

namespace bosun::prebind::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const std::string password_body
    = R"({"auth":{"method":"password","jid":"alice@example.org","password":"hunter2-s3cret"}})";

class ApiTest : public ApiFixture {
protected:
    ApiTest() { rebuild(); }
};

void expect_problem(const ApiResponse& r, unsigned status, std::string_view error)
{
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("Content-Type"), problem_content_type);
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
    ASSERT_FALSE(r.header("X-Request-Id").empty());
    const auto b = body_of(r);
    EXPECT_EQ(b.at("status").as_int64(), status);
    EXPECT_EQ(b.at("error").as_string(), error);
    EXPECT_EQ(b.at("type").as_string(), std::string(problem_type_prefix) + std::string(error));
    EXPECT_FALSE(b.at("title").as_string().empty());
    EXPECT_TRUE(b.at("detail").is_string());
    EXPECT_EQ(b.at("request_id").as_string(), r.header("X-Request-Id"));
    EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "");  // never CORS
}

// ---- POST /v1/prebind: success --------------------------------------------

TEST_F(ApiTest, password_prebind_returns_201_with_session_and_bosh_parameters)
{
    const auto r = send(post(password_body));
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(r.header("Content-Type"), json_content_type);
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
    EXPECT_FALSE(r.header("X-Request-Id").empty());
    const auto b = body_of(r);
    EXPECT_EQ(b.at("jid").as_string(), "alice@example.org/srv-1");
    EXPECT_EQ(b.at("sid").as_string(), "SIDSIDSIDSIDSIDSIDSIDSIDSIDSID01");
    EXPECT_EQ(b.at("rid").to_number<std::uint64_t>(), 1'234'567'890'123ULL);  // a JSON number
    EXPECT_EQ(b.at("wait").as_int64(), 59);  // the runtime's parameters, passed through
    EXPECT_EQ(b.at("hold").as_int64(), 1);
    EXPECT_EQ(b.at("requests").as_int64(), 2);
    EXPECT_EQ(b.at("inactivity").as_int64(), 60);
    EXPECT_EQ(b.at("attach_by").as_string(), "2025-01-01T12:00:45Z");  // wall + attach_timeout
    EXPECT_FALSE(b.contains("display_name"));
    EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
}

TEST_F(ApiTest, password_login_is_forwarded_with_password_policy)
{
    (void)send(post(password_body));
    ASSERT_EQ(service.logins.size(), 1u);
    const auto& login = service.logins[0];
    EXPECT_EQ(login.domain, "example.org");
    EXPECT_EQ(login.username, "alice");
    EXPECT_EQ(login.secret, "hunter2-s3cret");
    EXPECT_EQ(login.policy, runtime::SaslPolicy::password);
    EXPECT_EQ(login.resource, "");
    EXPECT_EQ(login.client_ip, "127.0.0.1");  // no client.ip: the caller's address
}

TEST_F(ApiTest, token_is_forwarded_as_a_plain_secret)
{
    const auto r = send(post(
        R"({"auth":{"method":"token","jid":"bob@EXAMPLE.org","token":"eyJtoken"},"client":{"ip":"::ffff:203.0.113.9"}})"));
    ASSERT_EQ(r.status, 201u) << r.body;
    const auto& login = service.logins.at(0);
    EXPECT_EQ(login.policy, runtime::SaslPolicy::plain_secret);
    EXPECT_EQ(login.secret, "eyJtoken");
    EXPECT_EQ(login.domain, "example.org");  // domain lowercased
    EXPECT_EQ(login.client_ip, "203.0.113.9");
}

TEST_F(ApiTest, anonymous_takes_a_domain_and_returns_the_display_name)
{
    const auto r = send(
        post(R"({"auth":{"method":"anonymous","jid":"example.org","display_name":"Guest Ann"}})"));
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(body_of(r).at("display_name").as_string(), "Guest Ann");
    const auto& login = service.logins.at(0);
    EXPECT_EQ(login.policy, runtime::SaslPolicy::anonymous);
    EXPECT_EQ(login.username, "");
    EXPECT_EQ(login.secret, "");
}

TEST_F(ApiTest, resource_is_passed_when_the_client_may_set_it)
{
    config.prebind.clients[0].may_set_resource = true;
    rebuild();
    const auto r = send(post(
        R"({"auth":{"method":"password","jid":"alice@example.org","password":"p"},"resource":"web-1"})"));
    ASSERT_EQ(r.status, 201u) << r.body;
    EXPECT_EQ(service.logins.at(0).resource, "web-1");
}

TEST_F(ApiTest, rotated_old_key_still_works)
{
    EXPECT_EQ(send(post(password_body, old_key)).status, 201u);
}

// ---- caller authentication: 401 ------------------------------------------

TEST_F(ApiTest, missing_key_is_401_with_www_authenticate)
{
    const auto r = send(post(password_body, ""));
    expect_problem(r, 401, "unauthenticated");
    EXPECT_TRUE(r.header("WWW-Authenticate").starts_with("Bearer"));
    EXPECT_TRUE(service.logins.empty());
}

TEST_F(ApiTest, wrong_or_malformed_keys_are_401_and_never_echoed)
{
    for (const std::string& key : {app_key + "x", std::string("bsk_nobody_secret"),
             std::string("bsk_app"), std::string("not-a-key")}) {
        const auto r = send(post(password_body, key));
        expect_problem(r, 401, "unauthenticated");
        EXPECT_EQ(r.body.find(key), std::string::npos);
    }
    auto basic = post(password_body, "");
    basic.headers.emplace_back("Authorization", "Basic " + app_key);
    expect_problem(send(basic), 401, "unauthenticated");
    EXPECT_TRUE(service.logins.empty());
}

TEST_F(ApiTest, another_clients_key_does_not_authenticate_as_this_client)
{
    // "other" exists, but the key names "app" with other's secret.
    const auto mixed = "bsk_app_" + other_key.substr(10);
    expect_problem(send(post(password_body, mixed)), 401, "unauthenticated");
}

TEST_F(ApiTest, two_authorization_headers_are_401)
{
    auto r = post(password_body);
    r.headers.emplace_back("Authorization", "Bearer " + other_key);
    expect_problem(send(r), 401, "unauthenticated");
}

// ---- request validation: 400, 415 ---------------------------------------

TEST_F(ApiTest, malformed_json_is_400_invalid_request)
{
    for (const char* body : {"", "{", "[]", "{\"auth\":1}", "nul",
             R"({"auth":{"method":"password","jid":"a@example.org","password":"p"},})"})
        expect_problem(send(post(body)), 400, "invalid_request");
}

TEST_F(ApiTest, unknown_method_is_400_invalid_request)
{
    expect_problem(send(post(R"({"auth":{"method":"digest","jid":"a@example.org"}})")), 400,
        "invalid_request");
}

TEST_F(ApiTest, bad_jids_are_400)
{
    for (const char* jid : {"example.org", "a@b@example.org", "a@example.org/res", "@example.org",
             "a b@example.org", "a@exa_mple.org"}) {
        const auto r = send(post(
            fmt::format(R"({{"auth":{{"method":"password","jid":"{}","password":"p"}}}})", jid)));
        expect_problem(r, 400, "invalid_request");
    }
    // anonymous wants a domain, not a user
    expect_problem(send(post(R"({"auth":{"method":"anonymous","jid":"a@example.org"}})")), 400,
        "invalid_request");
}

TEST_F(ApiTest, strict_json_rejects_unknown_repeated_and_mistyped_members)
{
    const std::string bodies[] = {
        R"({"auth":{"method":"password","jid":"a@example.org","password":"p"},"route":"x"})",
        R"({"auth":{"method":"password","jid":"a@example.org","password":"p","token":"t"}})",
        R"({"auth":{"method":"password","jid":"a@example.org","password":"p","jid":"b@example.org"}})",
        R"({"auth":{"method":"password","jid":"a@example.org","password":5}})",
        R"({"auth":{"method":"password","jid":"a@example.org"}})",
        R"({"auth":{"method":"password","jid":"a@example.org","password":"p","display_name":"A"}})",
        R"({"auth":{"method":"password","jid":"a@example.org","password":"p"},"client":{"ip":"x"}})",
    };
    for (const auto& body : bodies)
        expect_problem(send(post(body)), 400, "invalid_request");
    EXPECT_TRUE(service.logins.empty());
}

TEST_F(ApiTest, errors_never_echo_the_password)
{
    const auto r = send(post(
        R"({"auth":{"method":"password","jid":"a@example.org","password":"hunter2-s3cret"},"x":1})"));
    expect_problem(r, 400, "invalid_request");
    EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
}

TEST_F(ApiTest, non_json_content_type_is_415)
{
    auto r = post(password_body);
    r.headers[0].second = "application/x-www-form-urlencoded";
    expect_problem(send(r), 415, "unsupported_media_type");
}

// ---- client policy: 403 forbidden -----------------------------------------

TEST_F(ApiTest, domain_outside_the_client_policy_is_403_forbidden)
{
    expect_problem(
        send(post(R"({"auth":{"method":"password","jid":"a@other.example","password":"p"}})")), 403,
        "forbidden");
    EXPECT_TRUE(service.logins.empty());
}

TEST_F(ApiTest, method_not_allowed_for_the_client_is_403_forbidden)
{
    expect_problem(
        send(post(R"({"auth":{"method":"token","jid":"a@other.example","token":"t"}})", other_key)),
        403, "forbidden");
}

TEST_F(ApiTest, resource_without_may_set_resource_is_403_forbidden)
{
    expect_problem(
        send(post(
            R"({"auth":{"method":"password","jid":"alice@example.org","password":"p"},"resource":"r"})")),
        403, "forbidden");
}

TEST_F(ApiTest, unknown_resume_token_is_403_and_logs_in_nobody)
{
    // resume_api_test.cpp has the rest of method resume.
    config.prebind.clients[0].allowed_methods.push_back("resume");
    rebuild();
    const auto r
        = send(post(R"({"auth":{"method":"resume","jid":"a@example.org","resume_token":"r"}})"));
    expect_problem(r, 403, "invalid_credentials");
    EXPECT_TRUE(service.logins.empty());
}

TEST_F(ApiTest, assertion_without_a_configured_issuer_is_403_and_logs_in_nobody)
{
    expect_problem(
        send(post(R"({"auth":{"method":"assertion","jid":"a@example.org","assertion":"eyJ"}})")),
        403, "invalid_credentials");
    EXPECT_TRUE(service.logins.empty());
}

// ---- runtime failures -> §6.3 status table --------------------------------

struct FailureCase {
    PrebindFailure why;
    unsigned status;
    const char* error;
    bool retry_after;
};

class FailureMapping : public ApiTest, public ::testing::WithParamInterface<FailureCase> { };

TEST_P(FailureMapping, maps_to_its_problem)
{
    service.fail = GetParam().why;
    const auto r = send(post(password_body));
    expect_problem(r, GetParam().status, GetParam().error);
    EXPECT_EQ(!r.header("Retry-After").empty(), GetParam().retry_after);
    EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(StatusTable, FailureMapping,
    ::testing::Values(
        FailureCase {PrebindFailure::not_authorized, 403, "invalid_credentials", false},
        FailureCase {PrebindFailure::mechanism_unavailable, 502, "upstream_error", false},
        FailureCase {PrebindFailure::host_unknown, 404, "unknown_domain", false},
        FailureCase {PrebindFailure::upstream_unavailable, 502, "upstream_error", false},
        FailureCase {PrebindFailure::timeout, 504, "upstream_timeout", false},
        FailureCase {PrebindFailure::capacity, 503, "unavailable", true},
        FailureCase {PrebindFailure::draining, 503, "unavailable", false}));

TEST_F(ApiTest, service_exception_is_500_problem)
{
    struct Throwing : FakeService {
        net::awaitable<Expected<runtime::Prebound, PrebindFailure>> prebind(
            runtime::PrebindLogin) override
        {
            throw std::runtime_error("boom");
            co_return unexpected(PrebindFailure::timeout);
        }
    } throwing;
    Api a(config, throwing);
    expect_problem(run(a, post(password_body)), 500, "internal_error");
    EXPECT_EQ(a.in_flight(), 0u);
}

// ---- rate limits: 429 + Retry-After ----------------------------------------

TEST_F(ApiTest, client_rate_limit_is_429_with_retry_after_and_refills)
{
    config.prebind.clients[0].rate_per_minute = 2;
    rebuild();
    EXPECT_EQ(send(post(password_body)).status, 201u);
    EXPECT_EQ(send(call("GET", "/v1/sessions/x")).status, 404u);  // every endpoint counts
    const auto r = send(post(password_body));
    expect_problem(r, 429, "rate_limited");
    EXPECT_EQ(r.header("Retry-After"), "30");
    now += 30s;
    EXPECT_EQ(send(post(password_body)).status, 201u);
    // another client has its own bucket
    EXPECT_EQ(send(post(R"({"auth":{"method":"password","jid":"a@other.example","password":"p"}})",
                       other_key))
                  .status,
        201u);
}

TEST_F(ApiTest, failed_logins_lock_the_jid_out)
{
    config.prebind.failed_login_limit = 3;
    config.prebind.lockout_time = 300s;
    rebuild();
    service.fail = PrebindFailure::not_authorized;
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(send(post(password_body)).status, 403u);
    service.fail.reset();
    const auto r = send(post(password_body));
    expect_problem(r, 429, "rate_limited");
    EXPECT_EQ(r.header("Retry-After"), "300");
    EXPECT_EQ(service.logins.size(), 3u);  // the locked-out attempt never went upstream
    // another JID is not affected; the lock ends
    EXPECT_EQ(send(post(R"({"auth":{"method":"password","jid":"bob@example.org","password":"p"}})"))
                  .status,
        201u);
    now += 301s;
    EXPECT_EQ(send(post(password_body)).status, 201u);
}

TEST_F(ApiTest, lockout_is_per_account_whatever_the_localpart_case)
{
    config.prebind.failed_login_limit = 1;
    rebuild();
    service.fail = PrebindFailure::not_authorized;
    EXPECT_EQ(send(post(password_body)).status, 403u);
    service.fail.reset();
    expect_problem(
        send(post(R"({"auth":{"method":"password","jid":"ALICE@example.org","password":"p"}})")),
        429, "rate_limited");
}

TEST_F(ApiTest, only_rejected_credentials_count_toward_the_lockout)
{
    config.prebind.failed_login_limit = 1;
    rebuild();
    service.fail = PrebindFailure::upstream_unavailable;
    EXPECT_EQ(send(post(password_body)).status, 502u);
    service.fail.reset();
    EXPECT_EQ(send(post(password_body)).status, 201u);
}

TEST_F(ApiTest, anonymous_is_limited_per_end_user_ip)
{
    config.prebind.anonymous_per_ip_per_minute = 2;
    rebuild();
    const auto from = [](const char* ip) {
        return post(fmt::format(
            R"({{"auth":{{"method":"anonymous","jid":"example.org"}},"client":{{"ip":"{}"}}}})",
            ip));
    };
    EXPECT_EQ(send(from("203.0.113.9")).status, 201u);
    EXPECT_EQ(send(from("203.0.113.9")).status, 201u);
    const auto r = send(from("203.0.113.9"));
    expect_problem(r, 429, "rate_limited");
    EXPECT_EQ(r.header("Retry-After"), "30");
    EXPECT_EQ(send(from("198.51.100.7")).status, 201u);
}

TEST_F(ApiTest, more_than_max_in_flight_is_503_with_retry_after)
{
    config.prebind.max_in_flight = 1;
    rebuild();
    service.hold = 50ms;
    net::io_context ioc;
    std::vector<ApiResponse> out;
    for (int i = 0; i < 2; ++i)
        net::co_spawn(
            ioc, api->handle(post(password_body)), [&](std::exception_ptr e, ApiResponse r) {
                if (e)
                    std::rethrow_exception(e);
                out.push_back(std::move(r));
            });
    ioc.run();
    ASSERT_EQ(out.size(), 2u);
    expect_problem(out[0], 503, "unavailable");  // the second finished first
    EXPECT_EQ(out[0].header("Retry-After"), "5");
    EXPECT_EQ(out[1].status, 201u);
    EXPECT_EQ(api->in_flight(), 0u);
}

// ---- sessions --------------------------------------------------------------

TEST_F(ApiTest, get_session_reports_state_and_jid_but_never_the_rid)
{
    service.sessions["s1"] = {"alice@example.org/r", false, false};
    service.sessions["s2"] = {"alice@example.org/r", true, false};
    service.sessions["s3"] = {"alice@example.org/r", true, true};
    const char* states[] = {"pending", "attached", "closed"};
    for (int i = 0; i < 3; ++i) {
        const auto r = send(call("GET", fmt::format("/v1/sessions/s{}", i + 1)));
        ASSERT_EQ(r.status, 200u);
        EXPECT_EQ(r.header("Cache-Control"), "no-store");
        const auto b = body_of(r);
        EXPECT_EQ(b.at("state").as_string(), states[i]);
        EXPECT_EQ(b.at("jid").as_string(), "alice@example.org/r");
        EXPECT_FALSE(b.contains("rid"));
        EXPECT_EQ(b.size(), 2u);
    }
}

TEST_F(ApiTest, unknown_or_foreign_session_is_404)
{
    service.sessions["s1"] = {"alice@example.org/r", false, false};
    expect_problem(send(call("GET", "/v1/sessions/nope")), 404, "not_found");
    // "other" may not see example.org sessions, nor end them
    expect_problem(send(call("GET", "/v1/sessions/s1", other_key)), 404, "not_found");
    expect_problem(send(call("DELETE", "/v1/sessions/s1", other_key)), 404, "not_found");
    EXPECT_TRUE(service.ended.empty());
}

TEST_F(ApiTest, delete_session_is_204_then_404)
{
    service.sessions["s1"] = {"alice@example.org/r", true, false};
    const auto r = send(call("DELETE", "/v1/sessions/s1"));
    EXPECT_EQ(r.status, 204u);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.header("Cache-Control"), "no-store");
    EXPECT_FALSE(r.header("X-Request-Id").empty());
    EXPECT_EQ(service.ended, std::vector<std::string> {"s1"});
    expect_problem(send(call("DELETE", "/v1/sessions/s1")), 404, "not_found");
}

TEST_F(ApiTest, delete_user_sessions_returns_how_many_ended)
{
    const auto r = send(call("DELETE", "/v1/users/alice%40Example.org/sessions"));
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(body_of(r).at("ended").as_int64(), 3);
    EXPECT_EQ(service.users_ended, std::vector<std::string> {"alice@example.org"});
    expect_problem(
        send(call("DELETE", "/v1/users/alice@other.example/sessions")), 403, "forbidden");
    expect_problem(send(call("DELETE", "/v1/users/example.org/sessions")), 400, "invalid_request");
}

// ---- routing ---------------------------------------------------------------

TEST_F(ApiTest, unknown_path_is_404_problem)
{
    for (const char* target : {"/", "/v1", "/v2/prebind", "/v1/prebind/x", "/v1/sessions/",
             "/v1/users//sessions", "/http-bind"})
        expect_problem(send(call("GET", target)), 404, "not_found");
}

TEST_F(ApiTest, wrong_method_is_405_with_allow)
{
    auto r = send(call("GET", "/v1/prebind"));
    expect_problem(r, 405, "method_not_allowed");
    EXPECT_EQ(r.header("Allow"), "POST");
    r = send(call("POST", "/v1/sessions/s1"));
    EXPECT_EQ(r.header("Allow"), "GET, DELETE");
    r = send(call("OPTIONS", "/v1/users/a@example.org/sessions"));
    expect_problem(r, 405, "method_not_allowed");
    EXPECT_EQ(r.header("Allow"), "DELETE");
}

TEST_F(ApiTest, request_ids_differ_per_request)
{
    const auto a = send(call("GET", "/nope"));
    const auto b = send(call("GET", "/nope"));
    EXPECT_NE(a.header("X-Request-Id"), b.header("X-Request-Id"));
}

// ---- logs ------------------------------------------------------------------

TEST_F(ApiTest, logs_hold_no_password_key_or_sid)
{
    const auto saved = log::level();
    log::set_level(LogLevel::trace);
    ::testing::internal::CaptureStderr();
    (void)send(post(password_body));
    (void)send(post(password_body, app_key + "x"));
    service.fail = PrebindFailure::not_authorized;
    (void)send(post(password_body));
    const std::string logs = ::testing::internal::GetCapturedStderr();
    log::set_level(saved);
    EXPECT_NE(logs.find("prebind"), std::string::npos) << "nothing was logged";
    EXPECT_EQ(logs.find("hunter2"), std::string::npos) << logs;
    EXPECT_EQ(logs.find(app_key.substr(8)), std::string::npos) << logs;
    EXPECT_EQ(logs.find("SIDSIDSID"), std::string::npos) << logs;
}

}  // namespace
}  // namespace bosun::prebind::test
