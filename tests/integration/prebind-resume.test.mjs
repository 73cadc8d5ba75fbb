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
import {
    attachAndReceive, callApi, clientToml, issuerToml, makeApiKey, prebindToml, signAssertion, startPrebindStack,
    ticketHostOptions, ticketUpstreamToml, writeSecret,
} from '../harness/prebind.mjs';
import { makeTempDir, removeTempDir } from '../harness/proc.mjs';
import { DEFAULT_USERS } from '../harness/prosody.mjs';
import { withLogs } from '../harness/stack.mjs';
import { attach, connect, disconnect } from '../harness/strophe.mjs';

const KEY = makeApiKey('webapp');
const OTHER_KEY = makeApiKey('other');
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

const signJwt = (sub) => signAssertion({ sub }, { issuer: ISSUER, hsSecret: HS_SECRET });

before(async () => {
    dir = makeTempDir('resume');
    const ticketFile = writeSecret(dir, 'ticket.secret', TICKET_SECRET + '\n');
    const hsFile = writeSecret(dir, 'hs.secret', HS_SECRET);
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    stack = await startPrebindStack({
        prosody: ticketHostOptions(TICKETS, ticketFile),
        cleanup: () => removeTempDir(dir),
        bosun: (prosody) => ({
            extraToml: `${ticketUpstreamToml(TICKETS, prosody, ticketFile)}
${prebindToml(apiPort, `resume_grace = ${GRACE_S}`)}
${clientToml({ id: 'webapp', key: KEY, domains: ['localhost', TICKETS], methods: ['assertion', 'resume', 'password'], extra: 'assertion_issuers = ["webapp"]' })}
${clientToml({ id: 'other', key: OTHER_KEY, domains: [TICKETS], methods: ['resume'] })}
${issuerToml({ id: 'webapp', issuer: ISSUER, hsFile })}`,
        }),
    });
}, { timeout: 60_000 });

after(async () => {
    await stack?.stop();
});

async function call(p, body, key = KEY) {
    const r = await callApi(api, 'POST', p, { body, key });
    if (r.json?.resume_token) issued.push(r.json.resume_token);
    return r;
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

        await attachAndReceive(stack.url, r.json, 'hello resumed user', {
            sender: () => connect(stack.url, `${BOB.user}@localhost/sender`, BOB.password),
            from: `${BOB.user}@localhost/sender`,
        });
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
