#!/usr/bin/env node
// Prebind latency against a real Prosody, with the peers measured in the
// same run:
//   - Bosun's prebind API, method password (SCRAM upstream) and method token
//     (PLAIN upstream): POST /v1/prebind until the 201;
//   - a direct c2s login over TCP (STARTTLS, SASL PLAIN, restart, bind; see
//     xmpp-login.mjs): the floor, the peer the ratios are against;
//   - a BOSH login (create, SASL PLAIN, restart, bind) through Prosody's own
//     mod_bosh, and the same through Bosun: what a browser spends logging in
//     without prebind.
//
//   node tools/bench/prebind-latency.mjs [N=200]
//
// Sequential calls (one at a time), each session ended right after, so the
// figures are latency, not throughput. Prints p50, p90, p99 and max per
// row and each row's p50 as a ratio of the direct TCP login's. A measurement,
// not a test: it asserts nothing.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import { BoshSession } from '../../tests/harness/bosh.mjs';
import { startBosun } from '../../tests/harness/bosun.mjs';
import { freePort } from '../../tests/harness/ports.mjs';
import { startProsody } from '../../tests/harness/prosody.mjs';
import { xmppLogin } from './xmpp-login.mjs';

const n = Number(process.argv[2] ?? 200);
const key = `bsk_bench_${crypto.randomBytes(32).toString('base64url')}`;
const hash = crypto.createHash('sha256').update(key).digest('hex');

const prosody = await startProsody({ tls: true, bosh: true, logLevel: 'warn' });
const apiPort = await freePort();
const api = `http://127.0.0.1:${apiPort}`;
const bosun = await startBosun({
    upstreamPort: prosody.c2sPort,
    domain: prosody.domain,
    tls: 'required',
    caFile: prosody.caFile,
    logLevel: 'warn',
    extraToml: `
[prebind]
enabled = true
listen = ["127.0.0.1:${apiPort}"]

[[prebind.clients]]
id = "bench"
key_hashes = ["sha256:${hash}"]
allowed_domains = [${JSON.stringify(prosody.domain)}]
allowed_methods = ["password", "token"]
rate_per_minute = 100000
# one user prebinds n times in a row: lift the per-user limit (§6.8)
jid_burst = 1000
jid_per_minute = 1000000
`,
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const [{ user, password }] = prosody.users ?? [{ user: 'alice', password: 'alice-secret' }];

async function call(method, path, body) {
    const res = await fetch(api + path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body && JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

async function prebindOnce(method) {
    const auth = method === 'password'
        ? { method, jid: `${user}@${prosody.domain}`, password }
        : { method, jid: `${user}@${prosody.domain}`, token: password };
    const t0 = process.hrtime.bigint();
    const r = await call('POST', '/v1/prebind', { auth });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 201) throw new Error(`prebind ${method}: ${r.status} ${r.text}`);
    await call('DELETE', `/v1/sessions/${r.json.sid}`);
    return ms;
}

async function boshLoginOnce(url, i) {
    const s = new BoshSession(url, { domain: prosody.domain, agent });
    const t0 = process.hrtime.bigint();
    await s.login(user, password, `bench-${i}`);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    await s.close();
    return ms;
}

async function timed(fn) {
    const t0 = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t0) / 1e6;
}

function stats(samples) {
    const s = [...samples].sort((a, b) => a - b);
    const q = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
    return { p50: q(50), p90: q(90), p99: q(99), max: s[s.length - 1] };
}

async function measure(label, once) {
    for (let i = 0; i < 5; ++i) await once(-1 - i); // warm-up
    const samples = [];
    for (let i = 0; i < n; ++i) samples.push(await once(i));
    return { label, ...stats(samples) };
}

try {
    const rows = [];
    const ca = fs.readFileSync(prosody.caFile);
    rows.push(await measure('direct TCP login (peer)', (i) =>
        timed(() => xmppLogin({ port: prosody.c2sPort, domain: prosody.domain, user, password, resource: `tcp-${i}`, ca }))));
    rows.push(await measure('BOSH login via Prosody mod_bosh', (i) => boshLoginOnce(prosody.boshUrl, i)));
    rows.push(await measure('BOSH login via Bosun', (i) => boshLoginOnce(bosun.url, i)));
    rows.push(await measure('Bosun prebind, password (SCRAM)', () => prebindOnce('password')));
    rows.push(await measure('Bosun prebind, token (PLAIN)', () => prebindOnce('token')));
    const peer = rows[0].p50;
    console.log(`prebind latency, ${n} sequential calls each, Prosody on loopback (STARTTLS)`);
    console.log(`${'what'.padEnd(42)} ${'p50'.padStart(8)} ${'p90'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}  p50/peer`);
    for (const r of rows) {
        const f = (x) => `${x.toFixed(2)}`.padStart(8);
        console.log(`${r.label.padEnd(42)} ${f(r.p50)} ${f(r.p90)} ${f(r.p99)} ${f(r.max)}  ${(r.p50 / peer).toFixed(2)}`);
    }
    console.log('(milliseconds)');
} finally {
    agent.destroy();
    await bosun.stop();
    await prosody.stop();
}
