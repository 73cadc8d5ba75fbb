#pragma once
// Command-line options of bosun-bench (docs/benchmarks.md, "bosun-bench").

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace bosun::bench {

enum class Mode { bosh, tcp };
enum class Login { sasl, prebind };
// auth.method of POST /v1/prebind (docs/prebind.md): password (the server
// checks the password; SCRAM upstream), token (--password is sent as
// auth.token, SASL PLAIN upstream; on the bench stack the token is the
// account password), anonymous (SASL ANONYMOUS; auth.jid is the domain).
enum class PrebindMethod { password, token, anonymous };

struct Options {
    Mode mode = Mode::bosh;
    Login login = Login::sasl;
    PrebindMethod prebind_method = PrebindMethod::password;
    bool prebind_method_set = false;  // given on the command line
    std::string url;  // BOSH URL, http://host:port/path
    std::string server;  // tcp mode: host:port of the c2s listener
    std::string prebind_url;  // prebind listener, http://host:port
    std::string api_key_env = "BOSUN_PREBIND_KEY";
    std::string domain = "localhost";
    std::string user_format = "user%d";
    std::string password = "bench";
    std::string resource = "bench";
    std::uint32_t user_start = 1;
    std::uint32_t sessions = 10;
    double arrival = 100;  // sessions per second during the ramp
    double rate = 10;  // messages per second in total, measure phase
    double duration = 10;  // seconds, measure phase
    double idle = 0;  // seconds, settle phase
    double drain = 5;  // seconds to wait for late messages
    std::uint32_t wait = 30;  // BOSH 'wait'
    double login_timeout = 30;
    double request_timeout_margin = 15;  // on top of 'wait'
    std::uint32_t max_logins_in_flight = 100;
    std::uint32_t max_queue = 256;  // stanzas queued per session
    std::uint32_t max_samples = 4'000'000;
    bool tls = true;
    bool lazy_connect = false;  // BOSH: open the second connection on first send
    std::string ca_file;
    std::vector<int> pids;
    double sample_interval = 1;
    std::string json_file;
    std::uint32_t procs = 1;
    bool quiet = false;
    bool help = false;
};

// Parses argv; on error returns false and sets `error`.
bool parse_options(int argc, char** argv, Options& out, std::string& error);

// Checks cross-field rules (a URL for the mode, pairs, ranges).
bool validate_options(const Options& o, std::string& error);

extern const char* const usage_text;

// "password", "token" or "anonymous".
const char* prebind_method_name(PrebindMethod m);

// The login as shown in the table and the JSON: "sasl", "prebind" (method
// password) or "prebind/token", "prebind/anonymous".
std::string login_label(const Options& o);

// The "auth" member of POST /v1/prebind for user `jid` (docs/prebind.md).
boost::json::object prebind_auth(const Options& o, const std::string& jid);

// user_format with %d replaced by n; "@domain" added when it has no '@'.
std::string user_jid(const Options& o, std::uint32_t n);

}  // namespace bosun::bench
