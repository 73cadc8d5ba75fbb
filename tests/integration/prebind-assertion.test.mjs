// The prebind `assertion` method and POST /v1/tickets end to end: a real
// Prosody with conf/prosody/mod_auth_bosun.lua on its own VirtualHost, the
// real bosun binary, JWTs signed here as a web app signs them, and Strophe.js
// attach() / connect() as the browser. docs/prebind.md ("assertion"),
// reference/prebind-and-auth.md §6.4 (upstream strategy: one-time ticket).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, sleep } from '../harness/ports.mjs';
import { REPO_ROOT, startBosun } from '../harness/bosun.mjs';
import { makeTempDir, removeTempDir } from '../harness/proc.mjs';
import { DEFAULT_USERS, startProsody } from '../harness/prosody.mjs';
import { withLogs } from '../harness/stack.mjs';
import { $msg, Strophe, attach, connect, disconnect, forceClose, statusName, waitForMessage } from '../harness/strophe.mjs';

const KEY = `bsk_webapp_${crypto.randomBytes(32).toString('base64url')}`;
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const TICKETS = 'tickets.localhost'; // the VirtualHost with authentication = "bosun"
const ISSUER = 'https://webapp.test';
const HS_SECRET = crypto.randomBytes(32).toString('base64url'); // 43 bytes of text
const TICKET_SECRET = crypto.randomBytes(32).toString('hex');
const EC = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const [, BOB] = DEFAULT_USERS;

let stack;
let api;
let dir;
const logged = (fn) => withLogs(() => stack, fn);

const b64u = (x) => Buffer.from(x).toString('base64url');

/** A compact JWS as a web app mints it (HS256 with kid "hs-1", or ES256 with "es-1"). */
function signJwt(claims, { alg = 'HS256', kid = alg === 'HS256' ? 'hs-1' : 'es-1', header = {} } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: ISSUER, aud: 'bosun:prebind', iat: now, exp: now + 60, jti: crypto.randomUUID(), ...claims };
    const input = `${b64u(JSON.stringify({ alg, kid, typ: 'JWT', ...header }))}.${b64u(JSON.stringify(payload))}`;
    let sig;
    if (alg === 'HS256') sig = crypto.createHmac('sha256', HS_SECRET).update(input).digest();
    else if (alg === 'ES256') sig = crypto.sign('sha256', Buffer.from(input), { key: EC.privateKey, dsaEncoding: 'ieee-p1363' });
    else sig = Buffer.alloc(0);
    return `${input}.${b64u(sig)}`;
}

before(async () => {
    dir = makeTempDir('assertion');
    const ticketFile = path.join(dir, 'ticket.secret');
    const hsFile = path.join(dir, 'hs.secret');
    const ecFile = path.join(dir, 'es.pub');
    fs.writeFileSync(ticketFile, TICKET_SECRET + '\n', { mode: 0o600 });
    fs.writeFileSync(hsFile, HS_SECRET, { mode: 0o600 });
    fs.writeFileSync(ecFile, EC.publicKey.export({ type: 'spki', format: 'pem' }));

    const prosody = await startProsody({
        tls: true,
        extraPluginDirs: [path.join(REPO_ROOT, 'conf', 'prosody')],
        extraHosts: [
            `VirtualHost ${JSON.stringify(TICKETS)}`,
            `    authentication = "bosun"`,
            `    bosun_ticket_secret_file = ${JSON.stringify(ticketFile)}`,
            '',
        ].join('\n'),
    });
    stack = {
        prosody,
        bosun: null,
        stop: async () => {
            await stack.bosun?.stop().catch(() => {});
            await prosody.stop().catch(() => {});
            removeTempDir(dir);
        },
        dumpLogs: () =>
            process.stderr.write(
                `\n--- bosun ---\n${stack.bosun?.logs().slice(-12000)}\n--- prosody ---\n${prosody.log().slice(-8000)}\n`,
            ),
    };
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    const extraToml = `
[upstream.${JSON.stringify(TICKETS)}]
host = "127.0.0.1"
port = ${prosody.c2sPort}
tls = "required"
ca_file = ${JSON.stringify(prosody.caFile)}
tls_server_name = "localhost"
prebind_login = "ticket"
ticket_secret_file = ${JSON.stringify(ticketFile)}
ticket_lifetime = 30

[prebind]
enabled = true
listen = ["127.0.0.1:${apiPort}"]

[[prebind.clients]]
id = "webapp"
key_hashes = ["sha256:${sha256(KEY)}"]
allowed_domains = ["localhost", ${JSON.stringify(TICKETS)}]
allowed_methods = ["assertion"]
assertion_issuers = ["webapp"]
tickets_by_jid = true

[[prebind.issuers]]
id = "webapp"
issuer = ${JSON.stringify(ISSUER)}
audience = "bosun:prebind"
leeway = 30
max_lifetime = 120

[[prebind.issuers.keys]]
kid = "hs-1"
alg = "HS256"
secret_file = ${JSON.stringify(hsFile)}

[[prebind.issuers.keys]]
kid = "es-1"
alg = "ES256"
public_key_file = ${JSON.stringify(ecFile)}
`;
    stack.bosun = await startBosun({
        upstreamPort: prosody.c2sPort,
        domain: prosody.domain,
        tls: 'required',
        caFile: prosody.caFile,
        extraToml,
    });
    stack.url = stack.bosun.url;
}, { timeout: 60_000 });

after(async () => {
    await stack?.stop();
});

async function call(method, p, body) {
    const res = await fetch(api + p, {
        method,
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
        json = JSON.parse(text);
    } catch {}
    return { status: res.status, json, text };
}

const prebindAssertion = (assertion) => call('POST', '/v1/prebind', { auth: { method: 'assertion', assertion } });


/**
 * Strophe connect() that resolves { conn, status } instead of rejecting; a
 * failed connection is force-closed so no poll or timer outlives the test.
 */
function connectOutcome(jid, password) {
    const conn = new Strophe.Connection(stack.url);
    return new Promise((resolve) => {
        const done = (status) => {
            clearTimeout(timer);
            if (status !== 'CONNECTED') forceClose(conn);
            resolve({ conn: status === 'CONNECTED' ? conn : null, status });
        };
        const timer = setTimeout(() => done('TIMEOUT'), 10_000);
        conn.connect(jid, password, (status) => {
            const name = statusName(status);
            if (name === 'CONNECTED') done(name);
            else if (['AUTHFAIL', 'CONNFAIL', 'ERROR', 'SASLFAIL', 'CONNTIMEOUT'].includes(name)) done(name);
        });
    });
}

describe('assertion prebind (ticket strategy, mod_auth_bosun)', () => {
    test('a verified assertion logs a never-registered user in; Strophe attaches and receives a message', logged(async () => {
        const user = `u${crypto.randomBytes(4).toString('hex')}`;
        const token = signJwt({ sub: `${user}@${TICKETS}` });
        const r = await prebindAssertion(token);
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.jid, new RegExp(`^${user}@tickets\\.localhost/`));
        assert.ok(!r.text.includes(token));
        assert.match(stack.bosun.logs(), /prebound with PLAIN/);
        assert.ok(!stack.bosun.logs().includes(token), 'JWT in the log');
        assert.ok(!stack.bosun.logs().includes('bt1.'), 'ticket in the log');

        const alice = await attach(stack.url, r.json);
        const bob = await connect(stack.url, `${BOB.user}@localhost/sender`, BOB.password);
        try {
            bob.send($msg({ to: r.json.jid, type: 'chat' }).c('body').t('hello ticket user'));
            const m = await waitForMessage(alice, (x) => x.textContent.includes('hello ticket user'));
            assert.equal(m.getAttribute('from'), `${BOB.user}@localhost/sender`);
        } finally {
            await disconnect(alice);
            await disconnect(bob);
        }
    }));

    test('an ES256 assertion works too', logged(async () => {
        const r = await prebindAssertion(signJwt({ sub: `carol@${TICKETS}` }, { alg: 'ES256' }));
        assert.equal(r.status, 201, r.text);
        const conn = await attach(stack.url, r.json);
        await disconnect(conn);
    }));

    test('a replayed assertion is 403 and opens nothing upstream', logged(async () => {
        const token = signJwt({ sub: `dave@${TICKETS}` });
        assert.equal((await prebindAssertion(token)).status, 201);
        const before = (stack.bosun.logs().match(/prebound with/g) ?? []).length;
        const again = await prebindAssertion(token);
        assert.equal(again.status, 403, again.text);
        assert.equal(again.json.error, 'invalid_credentials');
        assert.match(again.json.detail, /replayed/);
        assert.equal((stack.bosun.logs().match(/prebound with/g) ?? []).length, before);
    }));

    test('hostile assertions are refused with problem+json before any upstream login', logged(async () => {
        const now = Math.floor(Date.now() / 1000);
        const cases = {
            'alg none': signJwt({ sub: `eve@${TICKETS}` }, { alg: 'none', kid: 'hs-1' }),
            expired: signJwt({ sub: `eve@${TICKETS}`, iat: now - 200, exp: now - 100 }),
            'wrong aud': signJwt({ sub: `eve@${TICKETS}`, aud: 'other' }),
            'unknown kid': signJwt({ sub: `eve@${TICKETS}` }, { kid: 'hs-9' }),
            'bad signature': signJwt({ sub: `eve@${TICKETS}` }).slice(0, -4) + 'AAAA',
        };
        const before = (stack.bosun.logs().match(/prebound with/g) ?? []).length;
        for (const [name, token] of Object.entries(cases)) {
            const r = await prebindAssertion(token);
            assert.ok(r.status === 401 || r.status === 403, `${name}: ${r.text}`);
            assert.equal(r.json?.status, r.status, name);
        }
        assert.equal((stack.bosun.logs().match(/prebound with/g) ?? []).length, before);
    }));
});

describe('POST /v1/tickets (Converse credentials_url)', () => {
    test('the ticket is the password of one normal BOSH login through Bosun, and only one', logged(async () => {
        const r = await call('POST', '/v1/tickets', { assertion: signJwt({ sub: `frank@${TICKETS}` }) });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.json.jid, `frank@${TICKETS}`);
        assert.match(r.json.password, /^bt1\./);
        const first = await connectOutcome(`${r.json.jid}/web`, r.json.password);
        assert.equal(first.status, 'CONNECTED');
        await disconnect(first.conn);
        const second = await connectOutcome(`${r.json.jid}/web`, r.json.password);
        assert.notEqual(second.status, 'CONNECTED', 'a ticket must work once');
        assert.match(stack.prosody.log(), /ticket refused for frank@tickets\.localhost: replayed/);
    }));

    test('a ticket named by jid (tickets_by_jid) is bound to that user', logged(async () => {
        const r = await call('POST', '/v1/tickets', { jid: `grace@${TICKETS}` });
        assert.equal(r.status, 201, r.text);
        const other = await connectOutcome(`heidi@${TICKETS}/web`, r.json.password);
        assert.notEqual(other.status, 'CONNECTED', 'ticket accepted for another user');
        const own = await connectOutcome(`grace@${TICKETS}/web`, r.json.password);
        assert.equal(own.status, 'CONNECTED');
        await disconnect(own.conn);
        await sleep(100);
    }));

    test('a plain password does not log in on the ticket host', logged(async () => {
        const r = await connectOutcome(`${BOB.user}@${TICKETS}/web`, BOB.password);
        assert.notEqual(r.status, 'CONNECTED');
    }));
});
