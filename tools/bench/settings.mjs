// What every benchmark tool starts its servers with, in one place so that
// the tools measure the same setup (docs/benchmarks.md, "Servers, accounts
// and limits").

/**
 * Prosody's options for tests/harness/prosody.mjs: TLS on c2s, accounts
 * written as internal_plain files (tests/harness/accounts.mjs), little
 * logging, the epoll backend (0.12's default, set explicitly).
 */
export const BENCH_PROSODY = Object.freeze({
    users: Object.freeze([]), tls: true, authentication: 'internal_plain', logLevel: 'error', boshInactivity: 120,
    extraConfig: 'network_backend = "epoll"\n',
});

/**
 * Bosun's [bosh] keys beside a run's own: its defaults where the test
 * harness departs from them (the harness turns overload shedding off).
 */
export const BENCH_BOSH = Object.freeze({ overload_lag_ms: 100 });
