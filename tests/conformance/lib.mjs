// The framework of the black-box conformance suite.
//
// One node:test test per item of /work/shared/reference/bosh-checklist.md
// (items 1–112, prebind rules P1–P7). Each test file shares one stack
// (Prosody + bosun, or Prosody's own mod_bosh with BOSH_TARGET=prosody) and at
// its end prints a table `item | level | result | detail`; with
// $CONFORMANCE_RESULTS naming a file, it also appends one JSON line per item:
//   {id, level, section, title, result, detail, target, file}
//
//   import { item, useStack } from './lib.mjs';
//   useStack({ inactivity: 10 });
//   item(21, { level: 'M', section: '§7.2', title: "response wait ≤ requested wait" }, async (ctx) => {
//       const { res } = await ctx.create({ wait: 7 });
//       assert.ok(Number(res.body.getAttribute('wait')) <= 7);
//       ctx.record(`wait=${res.body.getAttribute('wait')}`);
//   });
//
// Results: 'pass' | 'fail' (an assertion or error) | 'unsupported' (the body
// called ctx.unsupported(answer): an optional feature Bosun does not have, and
// its answer was checked to be the one the XEP prescribes; counts as a pass) |
// 'n/a' (ctx.na(reason): the item cannot be tested black-box here; the test is
// reported as skipped).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
    BoshSession,
    NS,
    assertBody,
    elementChildren,
    findElement,
    isTerminate,
    newSession,
    parseXml,
    poll,
    post,
    serialize,
    textOf,
} from '../harness/bosh.mjs';
import { sleep } from '../harness/ports.mjs';
import { startStack, targetFromEnv } from '../harness/stack.mjs';

export { assert, sleep };

export const TARGET = targetFromEnv('bosun');

/** Short default wait (seconds) for sessions the items create: bounds how long an idle poll is held. */
export const WAIT = 2;

const results = []; // { id, level, section, title, result, detail, target, file }
let currentStack = null; // getter of the stack registered last by useStack()
let reporterInstalled = false;
let callerFile = null;

// ---------------------------------------------------------------- the shared stack

/**
 * Starts one stack for the enclosing file (or describe()) in before(), stops it in after().
 *
 * @param {object} [opts] startStack() options, plus:
 * @param {number} [opts.inactivity] session inactivity in seconds, for both targets
 *   (bosun [bosh] inactivity, Prosody bosh_max_inactivity)
 * @param {object} [opts.boshConfig] extra [bosh] keys for bosun (e.g. { max_wait: 10 })
 * @param {object} [opts.httpConfig] extra [http] keys for bosun (e.g. { cors_allowed_origins: [...] })
 * @param {string} [opts.extraToml] appended verbatim to bosun's config
 * @returns {() => object} getter of the started stack (see tests/harness/stack.mjs)
 */
export function useStack(opts = {}) {
    const { inactivity, boshConfig = {}, httpConfig = {}, extraToml, ...rest } = opts;
    const stackOpts = { target: TARGET, ...rest };
    if (TARGET === 'bosun') {
        const bosh = { ...boshConfig, ...(inactivity !== undefined ? { inactivity } : {}) };
        stackOpts.bosun = {
            ...(rest.bosun ?? {}),
            bosh: { ...(rest.bosun?.bosh ?? {}), ...bosh },
            http: { ...(rest.bosun?.http ?? {}), ...httpConfig },
            ...(extraToml !== undefined ? { extraToml } : {}),
        };
    } else if (inactivity !== undefined) {
        stackOpts.prosody = { ...(rest.prosody ?? {}), boshInactivity: inactivity };
    }
    let stack = null;
    let startError = null;
    const getter = () => {
        if (startError) throw startError;
        return stack;
    };
    before(async () => {
        try {
            stack = await startStack(stackOpts);
            stack.options = opts;
        } catch (err) {
            startError = err;
            throw err;
        }
    }, { timeout: 60_000 });
    after(async () => {
        await stack?.stop();
    });
    currentStack = getter;
    return getter;
}

// ---------------------------------------------------------------- items

function callerPath() {
    // the first stack frame outside this file is the test file registering the item
    const here = fileURLToPath(import.meta.url);
    for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
        const m = /(file:\/\/[^\s)]+?):\d+:\d+/.exec(line) ?? /\((\/[^\s)]+?):\d+:\d+\)/.exec(line);
        if (!m) continue;
        const p = m[1].startsWith('file:') ? fileURLToPath(m[1]) : m[1];
        if (p !== here) return p;
    }
    return null;
}

class Unsupported {
    constructor(answer) {
        this.answer = answer;
    }
}
class NotApplicable {
    constructor(reason) {
        this.reason = reason;
    }
}

/**
 * Registers the test `#<id> <meta.title>`.
 *
 * @param {number|string} id     1–112 or 'P1'…'P7'
 * @param {object} meta          { level: 'M'|'S'|'O'|'I'|'—', section, title, timeout?, todo?, skip?, stack? }
 *                               (meta.stack: a stack getter other than the file's last useStack())
 * @param {(ctx) => Promise<void>} fn
 *
 * ctx = { id, target, url, stack, domain, users, wait,
 *         record(detail), note(text), unsupported(answer), na(reason),
 *         session(opts), create(attrs, opts), login(i, opts), agent(opts), post(xml, opts),
 *         onCleanup(fn), t }
 */
export function item(id, meta, fn) {
    const getStack = meta.stack ?? currentStack;
    if (!getStack) throw new Error(`item #${id}: call useStack() before registering items`);
    const file = callerPath();
    callerFile ??= file;
    const entry = {
        id,
        level: meta.level ?? '—',
        section: meta.section ?? '',
        title: meta.title,
        result: 'not run',
        detail: '',
        target: TARGET,
        file: file ? path.relative(REPO_ROOT, file) : '',
    };
    results.push(entry);
    const options = { timeout: meta.timeout ?? 30_000 };
    if (meta.todo) options.todo = meta.todo;
    if (meta.skip) options.skip = meta.skip;
    test(`#${id} ${meta.title}`, options, async (t) => {
        const stack = getStack();
        if (!stack) throw new Error('the stack did not start');
        const details = [];
        const notes = [];
        const cleanups = [];
        const ctx = makeContext({ id, t, stack, details, notes, cleanups });
        try {
            await fn(ctx);
            entry.result = 'pass';
        } catch (err) {
            if (err instanceof Unsupported) {
                entry.result = 'unsupported';
                details.unshift(err.answer);
            } else if (err instanceof NotApplicable) {
                entry.result = 'n/a';
                details.unshift(err.reason);
            } else {
                entry.result = 'fail';
                details.push(`FAIL: ${firstLines(err)}`);
                if (!process.env.CONFORMANCE_QUIET) stack.dumpLogs?.();
                throw err;
            }
        } finally {
            entry.detail = [...details, ...notes].join('; ');
            for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => {});
            if (entry.result === 'n/a') t.skip(entry.detail);
            if (entry.detail) t.diagnostic(`${entry.result}: ${entry.detail}`);
        }
    });
}

function firstLines(err) {
    const msg = String(err?.message ?? err).split('\n').filter(Boolean);
    return msg.slice(0, 3).join(' ').slice(0, 400);
}

function makeContext({ id, t, stack, details, notes, cleanups }) {
    const ctx = {
        id,
        t,
        target: stack.target,
        isBosun: stack.target === 'bosun',
        stack,
        url: stack.url,
        domain: stack.domain,
        users: stack.users,
        wait: WAIT,
        /** Sets (adds to) the detail column. */
        record(detail) {
            details.push(String(detail));
        },
        /** Adds a remark after the detail (also a TAP diagnostic). */
        note(text) {
            notes.push(String(text));
        },
        /** Ends the item as 'unsupported': the optional feature is absent and `answer` is the checked answer. */
        unsupported(answer) {
            throw new Unsupported(String(answer));
        },
        /** Ends the item as 'n/a' (reported as skipped). */
        na(reason) {
            throw new NotApplicable(String(reason));
        },
        onCleanup(fn) {
            cleanups.push(fn);
        },
        /** A fresh keep-alive agent with one socket (a "socket A/B" of the checklist); destroyed after the item. */
        agent(opts = {}) {
            const a = new http.Agent({ keepAlive: true, maxSockets: 1, ...opts });
            cleanups.push(() => a.destroy());
            return a;
        },
        /** post() to the stack's URL. */
        post(xml, opts = {}) {
            return post(stack.url, xml, opts);
        },
        /** A BoshSession on the stack, closed (terminated) after the item. */
        session(opts = {}) {
            const { url = stack.url, ...rest } = opts;
            const s = new BoshSession(url, { domain: stack.domain, ...rest });
            cleanups.push(() => s.close());
            return s;
        },
        /**
         * Raw new(R) (wait=WAIT unless given; attributes set to null are dropped; undefined takes the default).
         * Resolves { res, sid, rid } where rid is the creation rid; terminates the session after the item.
         */
        async create(attrs = {}, opts = {}) {
            const rid = attrs.rid === undefined ? randomRid() : attrs.rid;
            const url = opts.url ?? stack.url;
            const res = await post(url, newSession({ to: stack.domain, wait: WAIT, ...attrs, rid }), opts);
            const sid = res.body?.getAttribute('sid') || null;
            if (sid) cleanups.push(() => post(url, `<body rid='${rid + 1000}' sid='${sid}' type='terminate' xmlns='${NS.HTTPBIND}'/>`, { timeoutMs: 5000 }).catch(() => {}));
            return { res, sid, rid };
        },
        /** A created BoshSession with its features received and nothing in flight (an idle session). */
        async ready(createAttrs = {}, opts = {}) {
            const s = ctx.session(opts);
            await s.create({ wait: WAIT, ...createAttrs });
            await s.waitForFeatures(10_000);
            await s.settle();
            return s;
        },
        /**
         * (bosun target only) a second bosun whose upstream link runs through a recording
         * TCP relay: { url, tap, bosun }. Both are stopped after the item.
         */
        async tappedBosun(opts = {}) {
            const { startBosun } = await import('../harness/bosun.mjs');
            const tap = await startTap(stack.prosody.c2sPort);
            cleanups.push(() => tap.stop());
            const bosun = await startBosun({
                upstreamPort: tap.port,
                domain: stack.domain,
                tls: 'required',
                caFile: stack.prosody.caFile,
                ...opts,
            });
            cleanups.push(() => bosun.stop());
            return { url: bosun.url, tap, bosun };
        },
        /** A logged-in BoshSession for stack.users[i] (default wait=WAIT). */
        async login(i = 0, { resource = `c${id}-${Math.random().toString(36).slice(2, 8)}`, url, agent, headers, ...createAttrs } = {}) {
            const s = ctx.session({ ...(url ? { url } : {}), ...(agent ? { agent } : {}), ...(headers ? { headers } : {}) });
            const { user, password } = stack.users[i];
            await s.login(user, password, resource, { wait: WAIT, ...createAttrs });
            // let everything the login produced come back, so no request is left held
            await s.settle();
            return s;
        },
    };
    return ctx;
}

// ---------------------------------------------------------------- helpers for items

export function randomRid() {
    return 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
}

/** The terminal-error answer: HTTP 200 + type='terminate' condition=C (or, legacy clients only, the HTTP code). */
export function assertTerm(res, condition, { legacyStatus } = {}) {
    if (legacyStatus !== undefined && res.status === legacyStatus) return `HTTP ${res.status}`;
    assertBody(res, `expected term(${condition})`);
    assert.ok(
        isTerminate(res, condition),
        `expected term(${condition}), got HTTP ${res.status} ${res.text.slice(0, 300)}`,
    );
    return `term(${condition})`;
}

/** "term(C)" / "HTTP 200 <body/>" / "HTTP 404 …": a short description of a response, for details. */
export function describeResponse(res) {
    if (!res) return 'no response';
    if (res.status !== 200) return `HTTP ${res.status}${res.text ? ` ${res.text.slice(0, 80)}` : ''}`;
    if (!res.body) return `HTTP 200, not XML`;
    const type = res.body.getAttribute('type');
    if (type === 'terminate') return `term(${res.body.getAttribute('condition') || ''})`;
    if (type === 'error') return `<body type='error'/>`;
    const kids = elementChildren(res.body).map((e) => e.localName);
    return kids.length ? `<body> with ${kids.join(', ')}` : 'empty <body/>';
}

/** Stanza children of a response body that match predicate. */
export function childrenOf(res, predicate = () => true) {
    return res?.body ? elementChildren(res.body).filter(predicate) : [];
}

export function hasMessage(res, text) {
    return childrenOf(res, (el) => el.localName === 'message' && textOf(findElement(el, 'body')) === text).length > 0;
}

/**
 * Sends raw bytes on one new TCP connection and collects every HTTP response
 * that comes back (parsed with Content-Length), until `count` responses, the
 * socket closes, or timeoutMs. Resolves { responses: [{status, statusLine, headers, text, body, doc, at}], closed, raw }
 * (raw: the bytes left after the parsed responses).
 */
export function rawHttp(url, requests, { count = 1, timeoutMs = 10_000, gapMs = 0 } = {}) {
    const u = new URL(url);
    const list = Array.isArray(requests) ? requests : [requests];
    return new Promise((resolve) => {
        const started = Date.now();
        const socket = net.connect({ host: u.hostname, port: Number(u.port) || 80 });
        let buf = Buffer.alloc(0);
        const responses = [];
        let closed = false;
        let finished = false;
        const finish = () => {
            if (finished) return;
            finished = true;
            clearTimeout(timer);
            socket.destroy();
            resolve({ responses, closed, raw: buf.toString('latin1') });
        };
        const timer = setTimeout(finish, timeoutMs);
        const parse = () => {
            for (;;) {
                const end = buf.indexOf('\r\n\r\n');
                if (end < 0) return;
                const head = buf.subarray(0, end).toString('latin1').split('\r\n');
                const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0])?.[1]);
                const headers = {};
                for (const line of head.slice(1)) {
                    const i = line.indexOf(':');
                    if (i > 0) {
                        const k = line.slice(0, i).trim().toLowerCase();
                        headers[k] = headers[k] === undefined ? line.slice(i + 1).trim() : `${headers[k]}, ${line.slice(i + 1).trim()}`;
                    }
                }
                const len = Number(headers['content-length'] ?? 0);
                if (buf.length < end + 4 + len) return;
                const text = buf.subarray(end + 4, end + 4 + len).toString('utf8');
                buf = buf.subarray(end + 4 + len);
                const { doc } = parseXml(text);
                responses.push({ status, statusLine: head[0], headers, text, doc, body: doc?.documentElement ?? null, at: Date.now() - started });
                if (responses.length >= count) finish();
            }
        };
        socket.on('data', (d) => {
            buf = Buffer.concat([buf, d]);
            parse();
        });
        socket.on('close', () => {
            closed = true;
            finish();
        });
        socket.on('error', () => {
            closed = true;
            finish();
        });
        socket.on('connect', async () => {
            for (const r of list) {
                socket.write(r);
                if (gapMs) await sleep(gapMs);
            }
        });
    });
}

/** An HTTP/1.1 POST request as raw bytes, for rawHttp(). */
export function rawPost(url, xml, headers = {}) {
    const u = new URL(url);
    const data = Buffer.from(xml, 'utf8');
    const all = { Host: u.host, 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': data.length, ...headers };
    const head = `POST ${u.pathname}${u.search} HTTP/1.1\r\n${Object.entries(all)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n')}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), data]);
}

/** A `<message type='headline'/>`: the server never answers it, stores it offline or bounces it (RFC 6121 §8.5.2). */
export function headline(to, text, id) {
    return `<message xmlns='jabber:client' to='${to}' type='headline'${id ? ` id='${id}'` : ''}><body>${text}</body></message>`;
}

/** true if `promise` is still unsettled after ms (it keeps running). */
export async function stillPending(promise, ms) {
    let settled = false;
    promise.then(
        () => (settled = true),
        () => (settled = true),
    );
    await sleep(ms);
    return !settled;
}

/** Resolves { value, at } where `at` is Date.now() when the promise settled. */
export function timed(promise) {
    return promise.then((value) => ({ value, at: Date.now() }));
}

/** POST returning the raw (undecoded) body bytes: { status, headers, buffer }. */
export function postBuffer(url, data, { headers = {}, agent, timeoutMs = 15_000 } = {}) {
    const target = new URL(url);
    const payload = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
    return new Promise((resolve, reject) => {
        const req = http.request(
            target,
            {
                method: 'POST',
                agent: agent ?? false,
                headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': payload.length, ...headers },
            },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('error', reject);
                res.on('end', () => {
                    clearTimeout(timer);
                    resolve({ status: res.statusCode, headers: res.headers, buffer: Buffer.concat(chunks) });
                });
            },
        );
        const timer = setTimeout(() => req.destroy(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
        req.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
        });
        req.end(payload);
    });
}

/** The document element of `text`, or null when it is not well-formed XML. */
export function parseXmlSafe(text) {
    const { doc } = parseXml(text);
    return doc?.documentElement ?? null;
}

/** One HTTP request of any method: { status, headers, text }. */
export function httpRequest(url, { method = 'GET', headers = {}, body, localAddress, timeoutMs = 10_000 } = {}) {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
        const req = http.request(target, { method, headers, agent: false, localAddress }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                clearTimeout(timer);
                resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
            });
        });
        const timer = setTimeout(() => req.destroy(new Error(`${method} ${url}: no response within ${timeoutMs} ms`)), timeoutMs);
        req.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
        });
        req.end(body);
    });
}

/**
 * A TCP relay in front of `port` that records what the client sends
 * (`clientBytes()`, latin1). Used between Bosun and Prosody to read the
 * stream header Bosun opens (before STARTTLS it travels in clear).
 */
export async function startTap(port, host = '127.0.0.1') {
    const chunks = [];
    const sockets = new Set();
    const server = net.createServer((client) => {
        const upstream = net.connect({ host, port });
        sockets.add(client);
        sockets.add(upstream);
        client.on('data', (d) => {
            if (chunks.reduce((n, c) => n + c.length, 0) < 1 << 20) chunks.push(d);
            upstream.write(d);
        });
        upstream.on('data', (d) => client.write(d));
        const close = () => {
            client.destroy();
            upstream.destroy();
        };
        client.on('close', close);
        upstream.on('close', close);
        client.on('error', close);
        upstream.on('error', close);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        port: server.address().port,
        clientBytes: () => Buffer.concat(chunks).toString('latin1'),
        /** Attributes of the first <stream:stream …> the client sent (before TLS). */
        firstStreamHeader() {
            const m = /<(?:[A-Za-z0-9_-]+:)?stream\s[^>]*>/.exec(this.clientBytes());
            if (!m) return null;
            const attrs = {};
            for (const a of m[0].matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*(?:'([^']*)'|"([^"]*)")/g)) attrs[a[1]] = a[2] ?? a[3];
            return { text: m[0], attrs };
        },
        stop: () =>
            new Promise((resolve) => {
                for (const s of sockets) s.destroy();
                server.close(() => resolve());
            }),
    };
}

// everything of the raw BOSH client (body builders, DOM helpers, BoshSession, post)
export * from '../harness/bosh.mjs';

// ---------------------------------------------------------------- the report

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Items registered in this file with their outcomes (after the run). */
export function results_() {
    return results;
}

function installReporter() {
    if (reporterInstalled) return;
    reporterInstalled = true;
    after(() => report());
}
// Registered at the root while the test file is still importing this module
// (so never inside a describe()): it runs after every test of the file.
installReporter();

function pad(s, n) {
    s = String(s);
    return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function report() {
    if (!results.length) return;
    const file = results[0].file || callerFile || '';
    const lines = [
        `conformance ${file} (target ${TARGET})`,
        `${pad('item', 5)} | ${pad('level', 5)} | ${pad('result', 11)} | detail`,
        `${'-'.repeat(5)}-+-${'-'.repeat(5)}-+-${'-'.repeat(11)}-+-${'-'.repeat(40)}`,
    ];
    for (const r of results) {
        lines.push(`${pad(`#${r.id}`, 5)} | ${pad(r.level, 5)} | ${pad(r.result, 11)} | ${r.detail.replace(/\s+/g, ' ')}`);
    }
    const counts = {};
    for (const r of results) counts[r.result] = (counts[r.result] ?? 0) + 1;
    lines.push(Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', '));
    // '# ' keeps the lines TAP comments under any reporter
    process.stdout.write(lines.join('\n') + '\n');
    const out = process.env.CONFORMANCE_RESULTS;
    if (out) {
        fs.appendFileSync(
            out,
            results
                .map((r) => JSON.stringify({ id: r.id, level: r.level, section: r.section, title: r.title, result: r.result, detail: r.detail, target: r.target, file: r.file }))
                .join('\n') + '\n',
        );
    }
}

// ---------------------------------------------------------------- more helpers for items

/**
 * A raw session (no login): ctx.create(attrs) plus helpers bound to its sid.
 * send() takes the next rid; sendRid() an explicit one (next does not move).
 */
export async function rawSession(ctx, attrs = {}, opts = {}) {
    const { res, sid, rid } = await ctx.create(attrs, opts);
    assertBody(res, 'creation');
    assert.ok(sid && !isTerminate(res), `creation refused: ${res.text}`);
    let next = rid + 1;
    return {
        res,
        sid,
        rid,
        attr: (name) => res.body.getAttribute(name),
        send(payload = '', extra = {}, o = {}) {
            const r = next++;
            return post(opts.url ?? ctx.url, poll(sid, r, payload, extra), { timeoutMs: 30_000, ...opts, ...o });
        },
        sendRid(r, payload = '', extra = {}, o = {}) {
            return post(opts.url ?? ctx.url, poll(sid, r, payload, extra), { timeoutMs: 30_000, ...opts, ...o });
        },
        skip(n = 1) {
            next += n;
        },
        get next() {
            return next;
        },
        set next(v) {
            next = v;
        },
    };
}

/** The bare JID of stack user i. */
export function bareJid(ctx, i) {
    return `${ctx.users[i].user}@${ctx.domain}`;
}

/** A unique text for a message body. */
export function uniq(prefix = 'm') {
    return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Waits for a <message> with this body text on a logged-in BoshSession; null after timeoutMs. */
export async function receive(s, text, timeoutMs = 5000) {
    try {
        return await s.waitFor((el) => el.localName === 'message' && textOf(findElement(el, 'body')) === text, timeoutMs);
    } catch {
        return null;
    }
}

/** Sends the raw request with the next rid of a logged-in BoshSession, without absorbing it. */
export function rawSend(ctx, s, payload = '', extra = {}, opts = {}) {
    const rid = s.rid++;
    return ctx.post(poll(s.sid, rid, payload, extra), { timeoutMs: 30_000, ...opts });
}

/** Checks sids for uniqueness, length and randomness; returns a summary. */
export function checkSids(sids) {
    assert.equal(new Set(sids).size, sids.length, 'duplicate sid');
    const minLen = Math.min(...sids.map((s) => s.length));
    assert.ok(minLen >= 20, `a sid of ${minLen} characters`);
    // no visible sequence: sorted by value, neighbours in creation order are
    // not neighbours in sort order more often than chance; and no long shared prefix
    let prefix = 0;
    for (let i = 1; i < sids.length; i++) {
        let p = 0;
        while (p < sids[i].length && sids[i][p] === sids[i - 1][p]) p++;
        prefix = Math.max(prefix, p);
    }
    assert.ok(prefix < 8, `consecutive sids share a prefix of ${prefix} characters`);
    const chars = new Set(sids.join(''));
    assert.ok(chars.size >= 16, `only ${chars.size} distinct characters in all sids`);
    return `${sids.length} sids unique, ≥ ${minLen} chars, ${chars.size} distinct characters, longest common prefix of consecutive ones ${prefix}`;
}
