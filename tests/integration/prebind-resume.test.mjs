// The prebind `resume` method end to end: a real Prosody with
// conf/prosody/mod_auth_bosun.lua on its own VirtualHost (the ticket
// strategy that `assertion` and `resume` log in with), the real bosun
// binary, and Strophe.js attach() as the browser. docs/prebind.md
// ("resume"), reference/prebind-and-auth.md §6.7. resume_grace is 1 s here
// so reuse detection is tested without waiting the default 60 s.

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
import { $msg, attach, connect, disconnect, waitForMessage } from '../harness/strophe.mjs';

const KEY = `bsk_webapp_${crypto.randomBytes(32).toString('base64url')}`;
const OTHER_KEY = `bsk_other_${crypto.randomBytes(32).toString('base64url')}`;
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const TICKETS = 'tickets.localhost';
const ISSUER = 'https://webapp.test';
const HS_SECRET = crypto.randomBytes(32).toString('base64url');
const TICKET_SECRET = crypto.randomBytes(32).toString('hex');
const GRACE_S = 1;
const [ALICE, BOB] = DEFAULT_USERS;

let stack;
let api;
let dir;
const issued = []; // every token seen, to check the log never holds one
const logged = (fn) => withLogs(() => stack, fn);
const b64u = (x) => Buffer.from(x).toString('base64url');

function signJwt(sub) {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: ISSUER, aud: 'bosun:prebind', sub, iat: now, exp: now + 60, jti: crypto.randomUUID() };
    const input = `${b64u(JSON.stringify({ alg: 'HS256', kid: 'hs-1', typ: 'JWT' }))}.${b64u(JSON.stringify(payload))}`;
    return `${input}.${crypto.createHmac('sha256', HS_SECRET).update(input).digest('base64url')}`;
}

before(async () => {
    dir = makeTempDir('resume');
    const ticketFile = path.join(dir, 'ticket.secret');
    const hsFile = path.join(dir, 'hs.secret');
    fs.writeFileSync(ticketFile, TICKET_SECRET + '\n', { mode: 0o600 });
    fs.writeFileSync(hsFile, HS_SECRET, { mode: 0o600 });
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

[prebind]
enabled = true
listen = ["127.0.0.1:${apiPort}"]
resume_grace = ${GRACE_S}

[[prebind.clients]]
id = "webapp"
key_hashes = ["sha256:${sha256(KEY)}"]
allowed_domains = ["localhost", ${JSON.stringify(TICKETS)}]
allowed_methods = ["assertion", "resume", "password"]
assertion_issuers = ["webapp"]

[[prebind.clients]]
id = "other"
key_hashes = ["sha256:${sha256(OTHER_KEY)}"]
allowed_domains = [${JSON.stringify(TICKETS)}]
allowed_methods = ["resume"]

[[prebind.issuers]]
id = "webapp"
issuer = ${JSON.stringify(ISSUER)}

[[prebind.issuers.keys]]
kid = "hs-1"
alg = "HS256"
secret_file = ${JSON.stringify(hsFile)}
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

async function call(p, body, key = KEY) {
    const res = await fetch(api + p, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
        json = JSON.parse(text);
    } catch {}
    if (json?.resume_token) issued.push(json.resume_token);
    return { status: res.status, json, text, type: res.headers.get('content-type') };
}

const prebindWithToken = (user) =>
    call('/v1/prebind', { auth: { method: 'assertion', assertion: signJwt(`${user}@${TICKETS}`) }, issue_resume_token: true });
const resume = (token, key = KEY) => call('/v1/prebind', { auth: { method: 'resume', resume_token: token } }, key);
const freshUser = () => `r${crypto.randomBytes(4).toString('hex')}`;

describe('prebind resume (ticket strategy, mod_auth_bosun)', () => {
    test('an assertion prebind with issue_resume_token returns a bsr1_ token and its expiry', logged(async () => {
        const r = await prebindWithToken(freshUser());
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.resume_token, /^bsr1_[A-Za-z0-9_-]{43}$/);
        const expires = Date.parse(r.json.resume_token_expires_at);
        assert.match(r.json.resume_token_expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.ok(Math.abs(expires - (Date.now() + 24 * 3600 * 1000)) < 10_000, r.json.resume_token_expires_at);
        const conn = await attach(stack.url, r.json);
        await disconnect(conn);
    }));

    test('resume opens a new session for the same user; Strophe attaches and receives a message', logged(async () => {
        const user = freshUser();
        const first = await prebindWithToken(user);
        assert.equal(first.status, 201, first.text);
        const r = await resume(first.json.resume_token);
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.jid, new RegExp(`^${user}@tickets\\.localhost/`));
        assert.notEqual(r.json.sid, first.json.sid);
        assert.match(r.json.resume_token, /^bsr1_/);
        assert.notEqual(r.json.resume_token, first.json.resume_token);
        assert.ok(!r.text.includes(first.json.resume_token));

        const alice = await attach(stack.url, r.json);
        const bob = await connect(stack.url, `${BOB.user}@localhost/sender`, BOB.password);
        try {
            bob.send($msg({ to: r.json.jid, type: 'chat' }).c('body').t('hello resumed user'));
            const m = await waitForMessage(alice, (x) => x.textContent.includes('hello resumed user'));
            assert.equal(m.getAttribute('from'), `${BOB.user}@localhost/sender`);
        } finally {
            await disconnect(alice);
            await disconnect(bob);
        }
    }));

    test('a replaced token used after the grace revokes the whole family', logged(async () => {
        const first = await prebindWithToken(freshUser());
        assert.equal(first.status, 201, first.text);
        const second = await resume(first.json.resume_token);
        assert.equal(second.status, 201, second.text);
        await sleep(GRACE_S * 1000 + 300);
        const before = (stack.bosun.logs().match(/prebound /g) ?? []).length;
        const reused = await resume(first.json.resume_token);
        assert.equal(reused.status, 403, reused.text);
        assert.equal(reused.json.error, 'invalid_credentials');
        assert.match(reused.json.detail, /replaced/);
        const newest = await resume(second.json.resume_token);
        assert.equal(newest.status, 403, 'the newest token of the family is revoked too');
        assert.equal(newest.json.error, 'invalid_credentials');
        assert.equal((stack.bosun.logs().match(/prebound /g) ?? []).length, before, 'nothing went upstream');
    }));

    test('within the grace the replaced token still works (a retried request)', logged(async () => {
        const first = await prebindWithToken(freshUser());
        assert.equal((await resume(first.json.resume_token)).status, 201);
        const retry = await resume(first.json.resume_token);
        assert.equal(retry.status, 201, retry.text);
        assert.equal((await resume(retry.json.resume_token)).status, 201);
    }));

    test('another client presenting the token gets 403 and the family survives', logged(async () => {
        const first = await prebindWithToken(freshUser());
        const theirs = await resume(first.json.resume_token, OTHER_KEY);
        assert.equal(theirs.status, 403, theirs.text);
        assert.equal(theirs.json.error, 'invalid_credentials');
        assert.equal((await resume(first.json.resume_token)).status, 201);
    }));

    test('password with issue_resume_token is 403 resume_unsupported, before any upstream login', logged(async () => {
        const before = (stack.bosun.logs().match(/prebound /g) ?? []).length;
        const r = await call('/v1/prebind', {
            auth: { method: 'password', jid: `${ALICE.user}@localhost`, password: ALICE.password },
            issue_resume_token: true,
        });
        assert.equal(r.status, 403, r.text);
        assert.equal(r.json.error, 'resume_unsupported');
        assert.equal(r.type, 'application/problem+json');
        assert.equal((stack.bosun.logs().match(/prebound /g) ?? []).length, before);
    }));

    test('POST /v1/resume-tokens/revoke by token and by jid', logged(async () => {
        const user = freshUser();
        const a = await prebindWithToken(user);
        const b = await prebindWithToken(user);
        const c = await prebindWithToken(user);
        const byToken = await call('/v1/resume-tokens/revoke', { resume_token: a.json.resume_token });
        assert.equal(byToken.status, 204, byToken.text);
        assert.equal((await resume(a.json.resume_token)).status, 403);
        assert.equal((await resume(b.json.resume_token)).status, 201, 'another family is untouched');
        const byJid = await call('/v1/resume-tokens/revoke', { jid: `${user}@${TICKETS}` });
        assert.equal(byJid.status, 204, byJid.text);
        assert.equal((await resume(c.json.resume_token)).status, 403);
    }));

    test('the log never holds a resume token', logged(async () => {
        assert.ok(issued.length > 5);
        const logs = stack.bosun.logs();
        assert.match(logs, /resume token (issued|rotated)/);
        for (const t of issued) assert.ok(!logs.includes(t.slice(5)), 'resume token in the log');
    }));
});
