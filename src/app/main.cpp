// bosun: arguments, configuration, io_context, signals, wiring. Nothing else.

#include <csignal>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include "bosun_version.h"
#include "common/asio.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "prebind/api.hpp"
#include "prebind/assertion.hpp"
#include "prebind/server.hpp"
#include "runtime/session_manager.hpp"

namespace {

using namespace bosun;

// How long a graceful shutdown waits for held requests to be answered.
constexpr auto k_drain_time = std::chrono::milliseconds(300);

int print_config_errors(const config::LoadResult& loaded, const std::string& path)
{
    for (const auto& w : loaded.warnings)
        std::fprintf(stderr, "bosun: warning: %s\n", w.c_str());
    for (const auto& e : loaded.errors)
        std::fprintf(stderr, "bosun: error: %s\n", e.c_str());
    if (!loaded.ok())
        std::fprintf(stderr, "bosun: %zu error(s) in %s\n", loaded.errors.size(), path.c_str());
    return loaded.ok() ? 0 : 1;
}

void log_listening(const frontend::HttpServer& server, const Config& config)
{
    for (const auto& ep : server.local_endpoints()) {
        const auto addr = ep.address();
        const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
        log::info("listening on http://{}:{}{}", host, ep.port(), config.http.path);
    }
}

int run(const Config& config)
{
    net::io_context ioc(1);
    runtime::SessionManager sessions(ioc.get_executor(), config);
    sessions.set_prebind_timeouts(config.prebind.attach_timeout, config.prebind.handshake_timeout);
    sessions.start_load_monitor();
    frontend::HttpServer server(ioc.get_executor(), config.http, sessions);
    server.start();
    log_listening(server, config);
    // The prebind API: its own listener, never the public BOSH port.
    std::optional<prebind::Api> api;
    std::optional<prebind::ApiServer> api_server;
    if (config.prebind.enabled) {
        api.emplace(config, sessions);
        api_server.emplace(ioc.get_executor(), config.prebind, *api);
        api_server->start();
        for (const auto& ep : api_server->local_endpoints()) {
            const auto addr = ep.address();
            const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
            log::info("prebind API listening on {}://{}:{}/v1/",
                api_server->uses_tls() ? "https" : "http", host, ep.port());
        }
    }
    for (const auto& [domain, up] : config.upstreams)
        log::info("upstream {} -> {}:{} tls={}", domain, up.host, up.port,
                  up.tls == TlsPolicy::required ? "required" : up.tls == TlsPolicy::optional ? "optional" : "none");

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    net::steady_timer drain(ioc);
    signals.async_wait([&](const error_code& ec, int sig) {
        if (ec)
            return;
        log::info("signal {}: shutting down", sig);
        // checklist #98: every session is told system-shutdown, no new ones.
        sessions.shutdown();
        drain.expires_after(k_drain_time);
        if (api_server)
            api_server->stop();
        drain.async_wait([&](const error_code&) {
            server.stop();
            ioc.stop();
        });
    });
    ioc.run();
    log::info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    const auto cli = config::parse_command_line(argc, argv);
    if (!cli.errors.empty()) {
        for (const auto& e : cli.errors)
            std::fprintf(stderr, "bosun: %s\n", e.c_str());
        std::fprintf(stderr, "%s", config::usage_text().c_str());
        return 2;
    }
    if (cli.help) {
        std::printf("%s", config::usage_text().c_str());
        return 0;
    }
    if (cli.version) {
        std::printf("bosun %s\n", BOSUN_VERSION);
        return 0;
    }
    const auto loaded = config::load_file(cli.config_path);
    if (print_config_errors(loaded, cli.config_path) != 0)
        return 1;
    if (cli.check_config) {
        // Key and ticket secret files are read at start-up; check them too.
        if (loaded.config.prebind.enabled) {
            auto problems = prebind::check_secret_files(loaded.config);
            for (auto& p : prebind::check_tls_files(loaded.config.prebind))
                problems.push_back(std::move(p));
            for (const auto& p : problems)
                std::fprintf(stderr, "bosun: error: %s\n", p.c_str());
            if (!problems.empty())
                return 1;
        }
        std::printf("%s: configuration OK\n", cli.config_path.c_str());
        return 0;
    }
    log::set_level(loaded.config.log_level);
    try {
        return run(loaded.config);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bosun: %s\n", e.what());
        return 1;
    }
}
