// The prebind API end to end: a real Prosody, the real bosun binary with its
// prebind listener, the API over HTTP as a web-app back end calls it, and
// Strophe.js attach() continuing the session as a browser does.
// Checklist section 2 (P1-P7); reference/prebind-and-auth.md §6.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isTerminate, poll, post } from '../harness/bosh.mjs';
import { freePort, sleep } from '../harness/ports.mjs';
import { callApi, clientToml, makeApiKey, prebindToml, startPrebindStack, upstreamToml } from '../harness/prebind.mjs';
import { DEFAULT_USERS } from '../harness/prosody.mjs';
import { withLogs } from '../harness/stack.mjs';
import { $msg, attach, connect, disconnect, waitForMessage } from '../harness/strophe.mjs';

const KEY = makeApiKey('webapp');
const OTHER_KEY = makeApiKey('other');
const ATTACH_TIMEOUT = 5; // seconds
const ANON = 'anon.localhost';
const [ALICE, BOB] = DEFAULT_USERS;

let stack;
let api; // http://127.0.0.1:<port>
const logged = (fn) => withLogs(() => stack, fn);

before(async () => {
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    // The anonymous host shares Prosody's port and certificate.
    stack = await startPrebindStack({
        prosody: {
            tls: true,
            extraHosts: `VirtualHost ${JSON.stringify(ANON)}\n    authentication = "anonymous"\n`,
        },
        bosun: (prosody) => ({
            extraToml: `${upstreamToml(ANON, prosody, 'tls_server_name = "localhost"')}
${prebindToml(apiPort, `attach_timeout = ${ATTACH_TIMEOUT}`)}
${clientToml({ id: 'webapp', key: KEY, domains: ['localhost', ANON], methods: ['password', 'token', 'anonymous'], extra: 'may_set_resource = true' })}
${clientToml({ id: 'other', key: OTHER_KEY, domains: ['localhost'], methods: ['token'] })}`,
        }),
    });
}, { timeout: 60_000 });

after(async () => {
    await stack?.stop();
});

/** Calls the prebind API; resolves { status, headers, json, text }. */
const call = (method, path, { body, key = KEY, headers = {} } = {}) => callApi(api, method, path, { body, key, headers });

const prebindPassword = (user = ALICE, extra = {}) =>
    call('POST', '/v1/prebind', {
        body: { auth: { method: 'password', jid: `${user.user}@localhost`, password: user.password }, ...extra },
    });


/** bob logs in over BOSH (through Bosun) and sends `text` to `to`. */
async function sendFromBob(to, text) {
    const bob = await connect(stack.url, `${BOB.user}@localhost/sender`, BOB.password);
    bob.send($msg({ to, type: 'chat' }).c('body').t(text));
    return bob;
}

describe('password', () => {
    test('prebind returns a full JID, a sid and the next rid in [2^40, 2^52); Strophe attaches and receives a message (P1, P2)', logged(async (t) => {
        const r = await prebindPassword(ALICE, { resource: 'web-test' });
        assert.equal(r.status, 201, r.text);
        assert.match(r.headers.get('content-type'), /^application\/json/);
        assert.equal(r.headers.get('cache-control'), 'no-store');
        assert.equal(r.headers.get('access-control-allow-origin'), null, 'never CORS');
        const { jid, sid, rid } = r.json;
        assert.equal(jid, 'alice@localhost/web-test', 'the full JID from the bind result');
        assert.ok(sid.length >= 22, sid);
        assert.ok(Number.isSafeInteger(rid) && rid >= 2 ** 40 && rid < 2 ** 52, `rid ${rid}`);
        assert.ok(!r.text.includes(ALICE.password));
        // Bosun logs which mechanism it used, and never the password.
        const mech = /prebound with (\S+);/.exec(stack.bosun.logs());
        assert.ok(mech && mech[1].startsWith('SCRAM-SHA-1'), 'a SCRAM mechanism, not PLAIN');
        t.diagnostic(`upstream mechanism: ${mech[1]}`);
        assert.ok(!stack.bosun.logs().includes(ALICE.password), 'password in the log');

        // P2: a message sent before the browser attaches waits for it.
        const bob = await sendFromBob(jid, 'before attach');
        await sleep(300);
        const alice = await attach(stack.url, r.json);
        try {
            const early = await waitForMessage(alice, (m) => m.textContent.includes('before attach'));
            assert.equal(early.getAttribute('to'), jid);
            bob.send($msg({ to: jid, type: 'chat' }).c('body').t('after attach'));
            await waitForMessage(alice, (m) => m.textContent.includes('after attach'));
            // and the attached session sends too
            const back = waitForMessage(bob, (m) => m.textContent.includes('reply'));
            alice.send($msg({ to: `${BOB.user}@localhost/sender`, type: 'chat' }).c('body').t('reply'));
            await back;
        } finally {
            await disconnect(alice);
            await disconnect(bob);
        }
    }));

    test('a wrong password is 403 invalid_credentials as problem+json, echoing no secret', logged(async () => {
        const secret = 'wrong-' + crypto.randomBytes(6).toString('hex');
        const r = await call('POST', '/v1/prebind', {
            body: { auth: { method: 'password', jid: 'alice@localhost', password: secret } },
        });
        assert.equal(r.status, 403, r.text);
        assert.match(r.headers.get('content-type'), /^application\/problem\+json/);
        assert.equal(r.json.error, 'invalid_credentials');
        assert.ok(!r.text.includes(secret));
        assert.ok(!stack.bosun.logs().includes(secret), 'secret in the log');
    }));

    test('GET /v1/sessions/{sid} reports pending, then attached, never the rid; DELETE ends it and the browser is told', logged(async () => {
        const r = await prebindPassword(ALICE);
        assert.equal(r.status, 201, r.text);
        const { sid, rid } = r.json;
        let info = await call('GET', `/v1/sessions/${sid}`);
        assert.equal(info.status, 200, info.text);
        assert.equal(info.json.state, 'pending');
        assert.ok(!info.text.includes(String(rid)), 'rid revealed');
        // The browser's first poll is held...
        const held = post(stack.url, poll(sid, rid));
        await sleep(300);
        info = await call('GET', `/v1/sessions/${sid}`);
        assert.equal(info.json.state, 'attached', info.text);
        // ... and learns of the end when the back end deletes the session.
        const del = await call('DELETE', `/v1/sessions/${sid}`);
        assert.equal(del.status, 204, del.text);
        const res = await held;
        assert.ok(isTerminate(res), res.text);
        const after = await call('GET', `/v1/sessions/${sid}`);
        assert.equal(after.status, 404, after.text);
        assert.equal((await call('DELETE', `/v1/sessions/${sid}`)).status, 404);
    }));

    test('an unattached session is closed after the attach window (P5)', logged(async () => {
        const r = await prebindPassword(ALICE);
        assert.equal(r.status, 201, r.text);
        await sleep((ATTACH_TIMEOUT + 1.5) * 1000);
        const info = await call('GET', `/v1/sessions/${r.json.sid}`);
        assert.ok(info.status === 404 || info.json?.state === 'closed', info.text);
        const res = await post(stack.url, poll(r.json.sid, r.json.rid));
        assert.ok(isTerminate(res, 'item-not-found'), res.text);
    }));

    test('DELETE /v1/users/{jid}/sessions ends every session of the user', logged(async () => {
        const a = await prebindPassword(ALICE);
        const b = await prebindPassword(ALICE);
        assert.equal(a.status, 201, a.text);
        assert.equal(b.status, 201, b.text);
        const r = await call('DELETE', '/v1/users/alice@localhost/sessions');
        assert.equal(r.status, 200, r.text);
        assert.ok(r.json.ended >= 2, r.text);
        for (const s of [a, b]) assert.equal((await call('GET', `/v1/sessions/${s.json.sid}`)).status, 404);
    }));
});

describe('token', () => {
    test('the token is forwarded as the SASL PLAIN password, checked by the server; attach works', logged(async () => {
        // Prosody's internal auth checks PLAIN against the stored password:
        // the "token" here is what a token-checking auth module would accept.
        const r = await call('POST', '/v1/prebind', {
            key: OTHER_KEY,
            body: { auth: { method: 'token', jid: 'bob@localhost', token: BOB.password } },
        });
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.jid, /^bob@localhost\//);
        assert.match(stack.bosun.logs(), /prebound with PLAIN/);
        const conn = await attach(stack.url, r.json);
        let alice = null;
        try {
            alice = await connect(stack.url, `${ALICE.user}@localhost/sender`, ALICE.password);
            alice.send($msg({ to: r.json.jid, type: 'chat' }).c('body').t('hello token'));
            const got = await waitForMessage(conn, (m) => m.textContent.includes('hello token'));
            assert.equal(got.getAttribute('from'), `${ALICE.user}@localhost/sender`);
        } finally {
            await disconnect(conn);
            if (alice) await disconnect(alice);
        }
    }));

    test('a method outside the client policy is 403 forbidden, and nothing is opened upstream', logged(async () => {
        const r = await call('POST', '/v1/prebind', {
            key: OTHER_KEY,
            body: { auth: { method: 'password', jid: 'bob@localhost', password: BOB.password } },
        });
        assert.equal(r.status, 403, r.text);
        assert.equal(r.json.error, 'forbidden');
    }));
});

describe('anonymous', () => {
    test('SASL ANONYMOUS on an anonymous host; the display name comes back; attach works', logged(async () => {
        const r = await call('POST', '/v1/prebind', {
            body: { auth: { method: 'anonymous', jid: ANON, display_name: 'Guest Ann' }, client: { ip: '203.0.113.9' } },
        });
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.jid, new RegExp(`^[^@/]+@${ANON.replace('.', '\\.')}/`));
        assert.equal(r.json.display_name, 'Guest Ann');
        assert.match(stack.bosun.logs(), /prebound with ANONYMOUS/);
        const conn = await attach(stack.url, r.json);
        let bob = null;
        try {
            // a user of the other VirtualHost writes to the guest
            bob = await sendFromBob(r.json.jid, 'hello guest');
            const got = await waitForMessage(conn, (m) => m.textContent.includes('hello guest'));
            assert.equal(got.getAttribute('from'), `${BOB.user}@localhost/sender`);
        } finally {
            await disconnect(conn);
            if (bob) await disconnect(bob);
        }
    }));
});

describe('API callers', () => {
    test('a missing or wrong API key is 401 with WWW-Authenticate', logged(async () => {
        for (const key of [null, `bsk_webapp_${crypto.randomBytes(32).toString('base64url')}`, 'garbage']) {
            const r = await call('POST', '/v1/prebind', {
                key,
                body: { auth: { method: 'password', jid: 'alice@localhost', password: ALICE.password } },
            });
            assert.equal(r.status, 401, r.text);
            assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
            assert.equal(r.json.error, 'unauthenticated');
        }
    }));

    test('malformed JSON, an unknown method, and an unserved domain get their problem types', logged(async () => {
        let r = await call('POST', '/v1/prebind', { body: '{"auth": ' });
        assert.equal(r.status, 400, r.text);
        assert.equal(r.json.error, 'invalid_request');
        r = await call('POST', '/v1/prebind', { body: { auth: { method: 'kerberos', jid: 'alice@localhost' } } });
        assert.equal(r.status, 400, r.text);
        r = await call('POST', '/v1/prebind', {
            body: { auth: { method: 'password', jid: 'alice@elsewhere.example', password: 'x' } },
        });
        assert.ok(r.status === 403 || r.status === 404, r.text);
    }));

    test('the API is not served on the public BOSH port', logged(async () => {
        const bosh = new URL(stack.url);
        const res = await fetch(`http://127.0.0.1:${bosh.port}/v1/prebind`, {
            method: 'POST',
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ auth: { method: 'password', jid: 'alice@localhost', password: ALICE.password } }),
        });
        await res.text();
        assert.notEqual(res.status, 201);
    }));
});
