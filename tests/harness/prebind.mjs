// What the prebind API tests share: caller keys as [[prebind.clients]]
// stores them, the TOML tables of the API, a Prosody + Bosun pair whose logs
// a failing test dumps, a fetch helper for the API, assertions signed as a
// web app signs them, and the check that a prebound session, once attached
// with Strophe.js, receives a message (docs/prebind.md; reference/
// prebind-and-auth.md §6).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startBosun } from './bosun.mjs';
import { startProsody } from './prosody.mjs';
import { $msg, $pres, attach, disconnect, waitForMessage } from './strophe.mjs';

export const sha256Hex = (s) => crypto.createHash('sha256').update(s).digest('hex');
const b64u = (x) => Buffer.from(x).toString('base64url');
const toml = (v) => JSON.stringify(v); // strings and arrays of strings: JSON syntax is TOML here

/** A caller API key "bsk_<id>_<256 random bits, base64url>". */
export function makeApiKey(id) {
    return `bsk_${id}_${crypto.randomBytes(32).toString('base64url')}`;
}

/** Writes a secret `text` to dir/name, readable by its owner only; the file's path. */
export function writeSecret(dir, name, text) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
}

/** The [prebind] table, listening on 127.0.0.1:`port`; `extra` lines are added to it. */
export function prebindToml(port, extra = '') {
    return `
[prebind]
enabled = true
listen = ["127.0.0.1:${port}"]
${extra}`;
}

/** One [[prebind.clients]] table whose key_hashes hold the SHA-256 of `key`. */
export function clientToml({ id, key, domains, methods, extra = '' }) {
    return `
[[prebind.clients]]
id = ${toml(id)}
key_hashes = ["sha256:${sha256Hex(key)}"]
allowed_domains = ${toml(domains)}
allowed_methods = ${toml(methods)}
${extra}`;
}

/** A [[prebind.issuers]] table with one HS256 key, kid "hs-1", read from `hsFile`. */
export function issuerToml({ id, issuer, hsFile, extra = '' }) {
    return `
[[prebind.issuers]]
id = ${toml(id)}
issuer = ${toml(issuer)}
${extra}
[[prebind.issuers.keys]]
kid = "hs-1"
alg = "HS256"
secret_file = ${toml(hsFile)}
`;
}

/**
 * Prosody options for a VirtualHost `host` with authentication = "bosun"
 * (conf/prosody/mod_auth_bosun.lua), checking one-time tickets made with the
 * secret in `ticketFile`.
 */
export function ticketHostOptions(host, ticketFile) {
    return {
        tls: true,
        extraPluginDirs: [path.join(REPO_ROOT, 'conf', 'prosody')],
        extraHosts: [
            `VirtualHost ${toml(host)}`,
            `    authentication = "bosun"`,
            `    bosun_ticket_secret_file = ${toml(ticketFile)}`,
            '',
        ].join('\n'),
    };
}

/** An [upstream."domain"] table: `server` (from the harness) on loopback, TLS required; `extra` lines added. */
export function upstreamToml(domain, server, extra = '') {
    return `
[upstream.${toml(domain)}]
host = "127.0.0.1"
port = ${server.c2sPort}
tls = "required"
ca_file = ${toml(server.caFile)}
${extra}`;
}

/** The [upstream."host"] table for that VirtualHost: Bosun logs in with tickets (prebind_login = "ticket"). */
export function ticketUpstreamToml(host, prosody, ticketFile, extra = '') {
    return upstreamToml(host, prosody, `tls_server_name = "localhost"
prebind_login = "ticket"
ticket_secret_file = ${toml(ticketFile)}
${extra}`);
}

/** startBosun() in front of `server` (a Prosody or ejabberd from the harness), TLS required. */
export function startBosunFor(server, opts = {}) {
    return startBosun({
        upstreamPort: server.c2sPort,
        domain: server.domain,
        tls: 'required',
        caFile: server.caFile,
        ...opts,
    });
}

/**
 * A Prosody started with `prosody` options and Bosun in front of it, with
 * `bosun(prosody)` options. Returns { prosody, bosun, url, stop(), dumpLogs() };
 * stop() ends both, then runs `cleanup`. If Bosun does not start, Prosody is
 * stopped before the error propagates.
 */
export async function startPrebindStack({ prosody: prosodyOpts, bosun: bosunOpts, prosodyLogTail = 8000, cleanup = () => {} }) {
    const prosody = await startProsody(prosodyOpts);
    const stack = {
        prosody,
        bosun: null,
        stop: async () => {
            await stack.bosun?.stop().catch(() => {});
            await prosody.stop().catch(() => {});
            cleanup();
        },
        dumpLogs: () =>
            process.stderr.write(
                `\n--- bosun ---\n${stack.bosun?.logs().slice(-12000)}\n--- prosody ---\n${prosody.log().slice(-prosodyLogTail)}\n`,
            ),
    };
    try {
        stack.bosun = await startBosunFor(prosody, bosunOpts(prosody));
    } catch (err) {
        await stack.stop();
        throw err;
    }
    stack.url = stack.bosun.url;
    return stack;
}

/**
 * One call to the prebind API at `base`: the bearer `key` (none if falsy),
 * a JSON body (a string is sent as is). Resolves { status, headers, type, json, text };
 * json is null when the body is not JSON.
 */
export async function callApi(base, method, target, { body, key, headers = {} } = {}) {
    const res = await fetch(base + target, {
        method,
        headers: {
            ...(key ? { authorization: `Bearer ${key}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
        json = text ? JSON.parse(text) : null;
    } catch {
        json = null;
    }
    return { status: res.status, headers: res.headers, type: res.headers.get('content-type'), json, text };
}

/**
 * A compact JWS as a web app signs an assertion for Bosun: iss `issuer`,
 * aud "bosun:prebind", iat now, exp now + 60, a fresh jti, then `claims`.
 * alg HS256 (with `hsSecret`, kid "hs-1"), ES256 (with `ecKey`, kid "es-1"),
 * or anything else with an empty signature.
 */
export function signAssertion(claims, { issuer, hsSecret, ecKey, alg = 'HS256', kid = alg === 'HS256' ? 'hs-1' : 'es-1', header = {} }) {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: issuer, aud: 'bosun:prebind', iat: now, exp: now + 60, jti: crypto.randomUUID(), ...claims };
    const input = `${b64u(JSON.stringify({ alg, kid, typ: 'JWT', ...header }))}.${b64u(JSON.stringify(payload))}`;
    let sig;
    if (alg === 'HS256') sig = crypto.createHmac('sha256', hsSecret).update(input).digest();
    else if (alg === 'ES256') sig = crypto.sign('sha256', Buffer.from(input), { key: ecKey, dsaEncoding: 'ieee-p1363' });
    else sig = Buffer.alloc(0);
    return `${input}.${b64u(sig)}`;
}

/**
 * Attaches to a prebound `session` ({jid, sid, rid}) as the browser does, has
 * the connection `sender()` resolves send it `text`, and checks that the
 * attached session receives it from `from` (default: the sender's JID).
 * `checkSender(conn)`, if given, runs on the sender's connection first. With `bare`, the session first sends available presence and the message
 * goes to its bare JID. Both connections are closed, also on failure.
 */
export async function attachAndReceive(url, session, text, { sender, checkSender, from, bare = false }) {
    const receiver = await attach(url, session);
    let other = null;
    try {
        other = await sender();
        checkSender?.(other);
        const got = waitForMessage(receiver, (m) => m.textContent.includes(text));
        // Bosun sends no initial presence, so the session is not an available
        // resource: a message to the bare JID would not be routed to it (RFC
        // 6121 §8.5.2.1). With presence, as Converse sends, the bare JID works.
        let to = session.jid;
        if (bare) {
            // The server echoes available presence to the sender's own resource.
            const echoed = waitForMessage(receiver, (p) => p.getAttribute('from') === session.jid, 5000, { name: 'presence' });
            receiver.send($pres());
            await echoed;
            to = session.jid.split('/')[0];
        }
        other.send($msg({ to, type: 'chat' }).c('body').t(text));
        const m = await got;
        assert.equal(m.getAttribute('from'), from ?? other.jid);
    } finally {
        await disconnect(receiver);
        if (other) await disconnect(other);
    }
}
