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
import {
    attachAndReceive, callApi, clientToml, issuerToml, makeApiKey, prebindToml, signAssertion, startPrebindStack,
    ticketHostOptions, ticketUpstreamToml, writeSecret,
} from '../harness/prebind.mjs';
import { makeTempDir, removeTempDir } from '../harness/proc.mjs';
import { DEFAULT_USERS } from '../harness/prosody.mjs';
import { withLogs } from '../harness/stack.mjs';
import { Strophe, attach, connect, disconnect, forceClose, statusName } from '../harness/strophe.mjs';

const KEY = makeApiKey('webapp');
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

/** A compact JWS as a web app mints it (HS256 with kid "hs-1", or ES256 with "es-1"). */
const signJwt = (claims, opts = {}) => signAssertion(claims, { issuer: ISSUER, hsSecret: HS_SECRET, ecKey: EC.privateKey, ...opts });

before(async () => {
    dir = makeTempDir('assertion');
    const ticketFile = writeSecret(dir, 'ticket.secret', TICKET_SECRET + '\n');
    const hsFile = writeSecret(dir, 'hs.secret', HS_SECRET);
    const ecFile = path.join(dir, 'es.pub');
    fs.writeFileSync(ecFile, EC.publicKey.export({ type: 'spki', format: 'pem' }));

    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    stack = await startPrebindStack({
        prosody: ticketHostOptions(TICKETS, ticketFile),
        cleanup: () => removeTempDir(dir),
        bosun: (prosody) => ({
            extraToml: `${ticketUpstreamToml(TICKETS, prosody, ticketFile, 'ticket_lifetime = 30')}
${prebindToml(apiPort)}
${clientToml({ id: 'webapp', key: KEY, domains: ['localhost', TICKETS], methods: ['assertion'], extra: 'assertion_issuers = ["webapp"]\ntickets_by_jid = true' })}
${issuerToml({ id: 'webapp', issuer: ISSUER, hsFile, extra: 'audience = "bosun:prebind"\nleeway = 30\nmax_lifetime = 120' })}
[[prebind.issuers.keys]]
kid = "es-1"
alg = "ES256"
public_key_file = ${JSON.stringify(ecFile)}
`,
        }),
    });
}, { timeout: 60_000 });

after(async () => {
    await stack?.stop();
});

const call = (method, p, body) => callApi(api, method, p, { body, key: KEY });

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

        await attachAndReceive(stack.url, r.json, 'hello ticket user', {
            sender: () => connect(stack.url, `${BOB.user}@localhost/sender`, BOB.password),
            from: `${BOB.user}@localhost/sender`,
        });
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
