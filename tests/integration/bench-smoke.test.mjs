// Smoke run of tools/bosun-bench (docs/benchmarks.md): a few sessions for a
// few seconds against Bosun in front of a private Prosody, and the same
// workload over direct XMPP c2s to that Prosody. Not a timed gate: it checks
// that the tool logs in, relays, measures and writes JSON without errors.
//
// The binary is $BOSUN_BENCH_BIN, else tools/bosun-bench/bosun-bench in the
// build directory that holds $BOSUN_BIN.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { writePlainAccounts } from '../harness/accounts.mjs';
import { bosunBinary } from '../harness/bosun.mjs';
import { freePort } from '../harness/ports.mjs';
import { makeTempDir, run } from '../harness/proc.mjs';
import { startStack, withLogs } from '../harness/stack.mjs';

const SESSIONS = 10;
const RATE = 20; // msg/s in total
const DURATION = 5; // s
const PASSWORD = 'bench-smoke';

function benchBinary() {
    if (process.env.BOSUN_BENCH_BIN) return process.env.BOSUN_BENCH_BIN;
    const buildDir = path.resolve(path.dirname(bosunBinary()), '..', '..');
    return path.join(buildDir, 'tools', 'bosun-bench', 'bosun-bench');
}

const API_KEY = `bsk_bench_${crypto.randomBytes(32).toString('base64url')}`;
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

let stack;
let tmp;
let prebindUrl;
const logged = (fn) => withLogs(() => stack, fn);

before(async () => {
    assert.ok(fs.existsSync(benchBinary()), `bosun-bench not found at ${benchBinary()} (build it, or set BOSUN_BENCH_BIN)`);
    const apiPort = await freePort();
    prebindUrl = `http://127.0.0.1:${apiPort}`;
    const extraToml = `
[prebind]
enabled = true
listen = ["127.0.0.1:${apiPort}"]

[[prebind.clients]]
id = "bench"
key_hashes = ["sha256:${sha256(API_KEY)}"]
allowed_domains = ["localhost"]
allowed_methods = ["password", "token"]
`;
    stack = await startStack({
        target: 'bosun',
        users: [],
        prosody: { authentication: 'internal_plain' },
        bosun: { logLevel: 'info', extraToml },
    });
    writePlainAccounts(stack.prosody, { count: SESSIONS, password: PASSWORD });
    tmp = makeTempDir('bench');
}, { timeout: 60_000 });

after(async () => {
    await stack?.stop();
});

async function bench(args, name, env = process.env) {
    const json = path.join(tmp, `${name}.json`);
    const common = ['--sessions', SESSIONS, '--arrival', 50, '--idle', 1, '--rate', RATE, '--duration', DURATION,
        '--drain', 5, '--domain', stack.domain, '--password', PASSWORD, '--json', json, '--quiet'];
    const r = await run(benchBinary(), [...common, ...args].map(String), { timeoutMs: 60_000, env });
    return { ...r, json };
}

function assertCleanRun(r, pid) {
    assert.equal(r.code, 0, `bosun-bench exited ${r.code}\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /latency\s+p50 .* p99 /, 'the human table has a latency line');
    const report = JSON.parse(fs.readFileSync(r.json, 'utf8'));
    const res = report.results;
    assert.equal(res.errors.total, 0, `errors: ${JSON.stringify(res.errors)}`);
    assert.equal(res.logged_in, SESSIONS);
    assert.equal(res.alive_at_end, SESSIONS);
    assert.ok(res.sent >= RATE * DURATION * 0.9, `sent ${res.sent}`);
    assert.ok(res.delivered > 0, 'messages were delivered');
    assert.equal(res.delivered, res.sent, 'nothing lost');
    assert.equal(res.lost, 0);
    assert.equal(res.latency.count, res.delivered);
    assert.ok(res.latency.p50_ms > 0 && res.latency.p50_ms <= res.latency.p99_ms && res.latency.p99_ms <= res.latency.max_ms);
    assert.ok(res.login.count === SESSIONS && res.login.p50_ms > 0);
    assert.ok(res.throughput_msg_s > 0);
    const proc = report.processes.find((p) => p.pid === pid);
    assert.ok(proc, 'the target process was sampled');
    assert.ok(proc.rss_kib_start > 0 && proc.rss_kib_end > 0);
    assert.equal(typeof proc.cpu_s_measure, 'number');
    return report;
}

test('BOSH through Bosun: 10 sessions relay 20 msg/s for 5 s with no error', { timeout: 90_000 }, logged(async () => {
    const r = await bench(['--url', stack.url, '--pid', stack.bosun.pid], 'bosh');
    const report = assertCleanRun(r, stack.bosun.pid);
    assert.equal(report.options.mode, 'bosh');
}));

test('direct TCP (STARTTLS) to Prosody: the same workload with no error', { timeout: 90_000 }, logged(async () => {
    const r = await bench(
        ['--mode', 'tcp', '--server', `127.0.0.1:${stack.prosody.c2sPort}`, '--tls', 'on', '--pid', stack.prosody.pid],
        'tcp',
    );
    const report = assertCleanRun(r, stack.prosody.pid);
    assert.equal(report.options.mode, 'tcp');
}));

test('BOSH from the prebind API: sessions attach and relay with no error', { timeout: 90_000 }, logged(async () => {
    const env = { ...process.env, BENCH_SMOKE_KEY: API_KEY };
    const r = await bench(
        ['--url', stack.url, '--login', 'prebind', '--prebind-url', prebindUrl, '--api-key-env', 'BENCH_SMOKE_KEY',
            '--pid', stack.bosun.pid],
        'prebind',
        env,
    );
    const report = assertCleanRun(r, stack.bosun.pid);
    assert.equal(report.options.login, 'prebind');
    assert.ok(!fs.readFileSync(r.json, 'utf8').includes(API_KEY), 'the API key is not in the report');
}));

test('prebind method token (W3 shape): every session prebinds with SASL PLAIN upstream and attaches', { timeout: 60_000 }, logged(async () => {
    const viaPlain = () => (stack.bosun.logs().match(/prebound user\d+@localhost\/\S+ sid=\S+ via PLAIN/g) ?? []).length;
    const before = viaPlain();
    const json = path.join(tmp, 'prebind-token.json');
    const r = await run(benchBinary(), ['--url', stack.url, '--login', 'prebind', '--prebind-url', prebindUrl,
        '--prebind-method', 'token', '--api-key-env', 'BENCH_SMOKE_KEY', '--sessions', SESSIONS, '--arrival', 50,
        '--rate', 0, '--duration', 0, '--drain', 0, '--lazy-connect', '--domain', stack.domain,
        '--password', PASSWORD, '--json', json, '--quiet'].map(String),
    { timeoutMs: 30_000, env: { ...process.env, BENCH_SMOKE_KEY: API_KEY } });
    assert.equal(r.code, 0, `bosun-bench exited ${r.code}\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /login=prebind\/token /);
    assert.match(r.stdout, /load generator: \d+\.\d\d CPU-s \(\d+ % of one core over \d+\.\d\d s\), RSS \d+\.\d MiB\n/);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.equal(report.options.login, 'prebind');
    assert.equal(report.options.prebind_method, 'token');
    assert.equal(report.results.errors.total, 0, `errors: ${JSON.stringify(report.results.errors)}`);
    assert.equal(report.results.logged_in, SESSIONS);
    assert.equal(report.results.login.count, SESSIONS);
    // Bosun logged in upstream with the token as the PLAIN password, once per session.
    assert.equal(viaPlain() - before, SESSIONS);
    const self = report.load_generator;
    assert.equal(self.processes, 1);
    assert.ok(self.cpu_s > 0 && self.wall_s > 0 && self.peak_rss_kib > 1024, JSON.stringify(self));
    assert.ok(Math.abs(self.cpu_pct_of_one_core - (100 * self.cpu_s) / self.wall_s) < 1e-6);
}));

test('--procs 2 splits the arrival rate: 10 sessions at 10/s take about a second to ramp, not half', { timeout: 60_000 }, logged(async () => {
    const r = await bench(['--url', stack.url, '--procs', 2, '--arrival', 10, '--rate', 0, '--duration', 0, '--drain', 0], 'procs');
    assert.equal(r.code, 0, `bosun-bench exited ${r.code}\n${r.stdout}${r.stderr}`);
    const res = JSON.parse(fs.readFileSync(r.json, 'utf8')).results;
    assert.equal(res.logged_in, SESSIONS);
    // Each worker starts its 5 sessions at 5/s: the last at 0.8 s. Had each
    // ramped at the full 10/s, the last would start at 0.4 s.
    assert.ok(res.ramp_seconds >= 0.75, `ramp took ${res.ramp_seconds} s`);
}));

test('a wrong password is counted as a login error and fails the run', { timeout: 60_000 }, logged(async () => {
    const json = path.join(tmp, 'badpw.json');
    const r = await run(benchBinary(), ['--url', stack.url, '--sessions', 2, '--rate', 0, '--duration', 0, '--drain', 0,
        '--domain', stack.domain, '--password', 'wrong', '--json', json, '--quiet'].map(String), { timeoutMs: 60_000 });
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    const res = JSON.parse(fs.readFileSync(json, 'utf8')).results;
    assert.equal(res.login_failed, 2);
    assert.equal(res.errors.ramp['login:sasl_failure'], 2);
}));

test('too few file descriptors: a clear message and exit 2 before any connection', { timeout: 30_000 }, async () => {
    const r = await run('/bin/sh', ['-c', `ulimit -n 256 && exec "$0" "$@"`, benchBinary(), '--url', stack.url,
        '--sessions', '200']);
    assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /need 464 file descriptors per process/);
    assert.match(r.stderr, /--procs 3 or more/);
});
