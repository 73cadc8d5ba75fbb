// A held request whose HTTP connection closes (a page unload, a dropped
// network) gets nothing written to it: what the server sends meanwhile waits
// for the client's next request. Without this, the message goes into a
// response nobody reads, and a client that does not use acks (Strophe,
// Converse) never learns it was lost ("nothing is lost"; XEP-0124 §14.3;
// reference/prebind-and-auth.md §6.6: "keep undelivered stanzas queued when a
// held request's HTTP connection closes, and do not treat them as sent").

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { BoshSession, elementChildren, findElement, message, poll, textOf } from '../harness/bosh.mjs';
import { sleep } from '../harness/ports.mjs';
import { startStack, withLogs } from '../harness/stack.mjs';

const WAIT = 3;
let stack;
const logged = (fn) => withLogs(() => stack, fn);

before(async () => {
    stack = await startStack({ target: 'bosun' });
}, { timeout: 30_000 });

after(async () => {
    await stack?.stop();
});

/** POSTs a body on its own connection and returns the request, to be destroyed. */
function heldRequest(url, xml) {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'Content-Type': 'text/xml; charset=utf-8' } });
    const outcome = new Promise((resolve) => {
        req.on('response', (res) => resolve(`answered HTTP ${res.statusCode}`));
        req.on('error', () => resolve('closed'));
    });
    req.end(xml);
    return { req, outcome };
}

async function login(i) {
    const s = new BoshSession(stack.url, { domain: stack.domain });
    const { user, password } = stack.users[i];
    await s.login(user, password, `held-${i}`, { wait: WAIT });
    await s.settle();
    return s;
}

test('a message sent while the held request’s connection is gone comes with the next request', { timeout: 40_000 }, logged(async (t) => {
    const alice = await login(0);
    const bob = await login(1);
    try {
        // bob's page holds a long poll, then unloads: the browser closes the connection
        const { req, outcome } = heldRequest(stack.url, poll(bob.sid, bob.rid++));
        await sleep(400);
        req.destroy();
        assert.equal(await outcome, 'closed', 'the held request was answered before the connection closed');
        await sleep(300);
        // alice writes while bob has nothing held
        alice.sendInBackground(message(bob.jid, 'while you were away', { id: 'away-1' }));
        await sleep(500);
        // bob's reloaded page carries on with the next rid
        const got = await bob.waitFor((el) => el.localName === 'message' && el.getAttribute('id') === 'away-1', 5_000);
        assert.equal(textOf(findElement(got, 'body')), 'while you were away');
        t.diagnostic('the message arrived with the request after the closed one');
    } finally {
        await alice.close();
        await bob.close();
    }
}));

test('the rid of the closed request, sent again, gets an empty answer and the data still follows', { timeout: 40_000 }, logged(async () => {
    const alice = await login(0);
    const bob = await login(1);
    try {
        const rid = bob.rid++;
        const { req } = heldRequest(stack.url, poll(bob.sid, rid));
        await sleep(400);
        req.destroy();
        await sleep(300);
        alice.sendInBackground(message(bob.jid, 'second try', { id: 'away-2' }));
        await sleep(500);
        // Strophe re-sends the same rid after a network error (§14.3 replay)
        const again = await bob.request(poll(bob.sid, rid), `resend rid ${rid}`, 5_000);
        assert.equal(elementChildren(again.body).length, 0, `the replay carried payloads: ${again.text}`);
        const got = await bob.waitFor((el) => el.localName === 'message' && el.getAttribute('id') === 'away-2', 5_000);
        assert.equal(textOf(findElement(got, 'body')), 'second try');
    } finally {
        await alice.close();
        await bob.close();
    }
}));
