#include "options.hpp"

#include <charconv>
#include <functional>
#include <map>
#include <string_view>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace bosun::bench {

const char* const usage_text = R"(usage: bosun-bench [options]
target:
  --mode bosh|tcp          BOSH (default) or direct XMPP c2s
  --url URL                BOSH endpoint, http://127.0.0.1:PORT/http-bind
  --server HOST:PORT       c2s listener (tcp mode)
  --tls on|off             STARTTLS in tcp mode (default on); --ca-file FILE verifies
  --login sasl|prebind     BOSH login: SASL PLAIN (default) or POST /v1/prebind
  --prebind-url URL        prebind listener, http://127.0.0.1:PORT
  --prebind-method M       password (default), token (--password sent as the token)
                           or anonymous (auth.jid is --domain, an anonymous host)
  --api-key-env VAR        environment variable holding the API key (BOSUN_PREBIND_KEY)
accounts:
  --domain D               XMPP domain (localhost)
  --user-format F          localpart or JID with %d (user%d); --user-start N (1)
  --password P             common password (bench); --resource R (bench)
workload:
  --sessions N             sessions, an even number (10)
  --arrival R              new sessions per second during the ramp (100)
  --idle S                 settle phase: seconds idle after the ramp (0)
  --rate R                 messages per second in total, measure phase (10)
  --duration S             measure phase seconds (10)
  --drain S                seconds to wait for messages still in flight (5)
  --wait S                 BOSH 'wait' (30)
  --lazy-connect           BOSH: open a session's second connection at its first send,
                           not at login (idle runs: the server holds one per session)
  --login-timeout S        per login (30); --max-logins N in flight (100)
  --max-queue N            stanzas queued per session (256)
measurement:
  --pid P                  sample RSS/CPU of this process (repeatable)
  --sample-interval S      seconds between /proc samples (1)
  --max-samples N          latency samples kept exactly (4000000); then histogram only
  --json FILE              write all figures as JSON
  --procs K                split the sessions over K forked worker processes (1)
  --quiet                  no progress lines on stderr
)";

namespace {

using Setter = std::function<bool(Options&, std::string_view)>;

template <typename T> bool parse_number(std::string_view s, T& out)
{
    if constexpr (std::is_floating_point_v<T>) {
        try {
            std::size_t used = 0;
            out = std::stod(std::string(s), &used);
            return used == s.size();
        } catch (...) {
            return false;
        }
    } else {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc() && p == s.data() + s.size();
    }
}

template <typename T> Setter number(T Options::*field)
{
    return [field](Options& o, std::string_view v) { return parse_number(v, o.*field); };
}

Setter text(std::string Options::*field)
{
    return [field](Options& o, std::string_view v) {
        o.*field = std::string(v);
        return !v.empty();
    };
}

const std::map<std::string_view, Setter>& setters()
{
    static const std::map<std::string_view, Setter> table {
        {"--mode",
            [](Options& o, std::string_view v) {
                if (v == "bosh")
                    o.mode = Mode::bosh;
                else if (v == "tcp")
                    o.mode = Mode::tcp;
                else
                    return false;
                return true;
            }},
        {"--login",
            [](Options& o, std::string_view v) {
                if (v == "sasl")
                    o.login = Login::sasl;
                else if (v == "prebind")
                    o.login = Login::prebind;
                else
                    return false;
                return true;
            }},
        {"--prebind-method",
            [](Options& o, std::string_view v) {
                if (v == "password")
                    o.prebind_method = PrebindMethod::password;
                else if (v == "token")
                    o.prebind_method = PrebindMethod::token;
                else if (v == "anonymous")
                    o.prebind_method = PrebindMethod::anonymous;
                else
                    return false;
                o.prebind_method_set = true;
                return true;
            }},
        {"--tls",
            [](Options& o, std::string_view v) {
                if (v != "on" && v != "off")
                    return false;
                o.tls = v == "on";
                return true;
            }},
        {"--pid",
            [](Options& o, std::string_view v) {
                int pid = 0;
                if (!parse_number(v, pid) || pid <= 0)
                    return false;
                o.pids.push_back(pid);
                return true;
            }},
        {"--url", text(&Options::url)},
        {"--server", text(&Options::server)},
        {"--prebind-url", text(&Options::prebind_url)},
        {"--api-key-env", text(&Options::api_key_env)},
        {"--domain", text(&Options::domain)},
        {"--user-format", text(&Options::user_format)},
        {"--password", text(&Options::password)},
        {"--resource", text(&Options::resource)},
        {"--ca-file", text(&Options::ca_file)},
        {"--json", text(&Options::json_file)},
        {"--user-start", number(&Options::user_start)},
        {"--sessions", number(&Options::sessions)},
        {"--arrival", number(&Options::arrival)},
        {"--rate", number(&Options::rate)},
        {"--duration", number(&Options::duration)},
        {"--idle", number(&Options::idle)},
        {"--drain", number(&Options::drain)},
        {"--wait", number(&Options::wait)},
        {"--login-timeout", number(&Options::login_timeout)},
        {"--max-logins", number(&Options::max_logins_in_flight)},
        {"--max-queue", number(&Options::max_queue)},
        {"--max-samples", number(&Options::max_samples)},
        {"--sample-interval", number(&Options::sample_interval)},
        {"--procs", number(&Options::procs)},
    };
    return table;
}

}  // namespace

bool parse_options(int argc, char** argv, Options& out, std::string& error)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            out.help = true;
            continue;
        }
        if (arg == "--quiet") {
            out.quiet = true;
            continue;
        }
        if (arg == "--lazy-connect") {
            out.lazy_connect = true;
            continue;
        }
        const auto it = setters().find(arg);
        if (it == setters().end()) {
            error = fmt::format("unknown option {}", arg);
            return false;
        }
        if (i + 1 >= argc) {
            error = fmt::format("{} needs a value", arg);
            return false;
        }
        const std::string_view value = argv[++i];
        if (!it->second(out, value)) {
            // Never echo a password value.
            error = arg == "--password" ? "bad --password"
                                        : fmt::format("bad value for {}: '{}'", arg, value);
            return false;
        }
    }
    return true;
}

bool validate_options(const Options& o, std::string& error)
{
    auto fail = [&](std::string msg) {
        error = std::move(msg);
        return false;
    };
    if (o.mode == Mode::bosh && !o.url.starts_with("http://"))
        return fail(
            "--url http://HOST:PORT/PATH is required in bosh mode (https is not supported)");
    if (o.mode == Mode::tcp && o.server.find(':') == std::string::npos)
        return fail("--server HOST:PORT is required in tcp mode");
    if (o.mode == Mode::tcp && o.login == Login::prebind)
        return fail("--login prebind needs --mode bosh");
    if (o.login == Login::prebind && !o.prebind_url.starts_with("http://"))
        return fail("--login prebind needs --prebind-url http://HOST:PORT");
    if (o.prebind_method_set && o.login != Login::prebind)
        return fail("--prebind-method needs --login prebind");
    if (o.login == Login::prebind && o.prebind_method == PrebindMethod::anonymous
        && o.user_format.find('@') != std::string::npos)
        return fail("--prebind-method anonymous logs in to --domain; --user-format must not "
                    "name a domain");
    if (o.sessions < 2 || o.sessions % 2 != 0)
        return fail("--sessions must be an even number >= 2 (pairs)");
    if (o.sessions > 1'000'000)
        return fail("--sessions is at most 1000000");
    if (o.user_format.find("%d") == std::string::npos)
        return fail("--user-format must contain %d");
    if (!(o.arrival > 0) || !(o.rate >= 0) || !(o.duration >= 0) || !(o.idle >= 0)
        || !(o.drain >= 0))
        return fail("--arrival must be > 0; --rate, --duration, --idle, --drain >= 0");
    if (o.wait < 1 || o.wait > 3600)
        return fail("--wait must be 1..3600");
    if (!(o.sample_interval >= 0.05))
        return fail("--sample-interval must be >= 0.05");
    if (o.procs < 1 || o.procs > 64)
        return fail("--procs must be 1..64");
    if (o.sessions / 2 < o.procs)
        return fail("--procs must not exceed the number of pairs");
    if (o.max_logins_in_flight < 1 || o.max_queue < 1)
        return fail("--max-logins and --max-queue must be >= 1");
    return true;
}

const char* prebind_method_name(PrebindMethod m)
{
    switch (m) {
    case PrebindMethod::token:
        return "token";
    case PrebindMethod::anonymous:
        return "anonymous";
    case PrebindMethod::password:
        break;
    }
    return "password";
}

std::string login_label(const Options& o)
{
    if (o.login == Login::sasl)
        return "sasl";
    if (o.prebind_method == PrebindMethod::password)
        return "prebind";
    return fmt::format("prebind/{}", prebind_method_name(o.prebind_method));
}

boost::json::object prebind_auth(const Options& o, const std::string& jid)
{
    const char* method = prebind_method_name(o.prebind_method);
    switch (o.prebind_method) {
    case PrebindMethod::password:
        return {{"method", method}, {"jid", jid}, {"password", o.password}};
    case PrebindMethod::token:
        // The bench stack's server checks the account password as the token.
        return {{"method", method}, {"jid", jid}, {"token", o.password}};
    case PrebindMethod::anonymous:
        break;
    }
    // SASL ANONYMOUS: auth.jid is the domain alone (docs/prebind.md).
    return {{"method", method}, {"jid", o.domain}};
}

std::string user_jid(const Options& o, std::uint32_t n)
{
    std::string s = o.user_format;
    const auto at = s.find("%d");
    s.replace(at, 2, std::to_string(n));
    if (s.find('@') == std::string::npos)
        s += "@" + o.domain;
    return s;
}

}  // namespace bosun::bench
