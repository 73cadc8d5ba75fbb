// Strophe.js 5 (the real library, under Node with tests/harness/strophe.mjs)
// logs alice and bob in through Bosun to Prosody, exchanges a message each
// way and disconnects. BOSH_TARGET=prosody runs it against Prosody's mod_bosh.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, targetFromEnv, withLogs } from '../harness/stack.mjs';
import { XMLHttpRequest, bodyText, chatRoundTrip } from '../harness/strophe.mjs';

const TARGET = targetFromEnv('bosun'); // 'prosody' = Prosody's mod_bosh instead of bosun

let stack;

before(async () => {
    XMLHttpRequest.keepLog = true;
    stack = await startStack({ target: TARGET });
}, { timeout: 30_000 });

after(async () => {
    await stack?.stop();
});

test(`Strophe.js logs in two users, chats both ways and disconnects (${TARGET})`, { timeout: 25_000 }, withLogs(() => stack, async (t) => {
    const [alice, bob] = stack.users;
    const r = await chatRoundTrip(stack.url, [alice, bob], { domain: stack.domain });
    t.diagnostic(`login ${r.timings.loginMs} ms, round trip ${r.timings.roundTripMs} ms`);

    assert.match(r.jids[0], new RegExp(`^${alice.user}@${stack.domain}/.+`));
    assert.match(r.jids[1], new RegExp(`^${bob.user}@${stack.domain}/.+`));
    assert.equal(bodyText(r.toB), r.textToB);
    assert.equal(r.toB.getAttribute('from'), r.jids[0]);
    assert.equal(bodyText(r.toA), r.textToA);
    assert.equal(r.toA.getAttribute('from'), r.jids[1]);
    assert.deepEqual(r.disconnected, [true, true], `not cleanly DISCONNECTED: ${JSON.stringify(r.statusLogs)}`);

    // Every BOSH exchange was HTTP 200 with XML (checklist #44), and Strophe's handlers never threw.
    const bad = XMLHttpRequest.log.filter((x) => x.status !== 200 || !x.responseText.startsWith('<body'));
    assert.deepEqual(bad.map((x) => `${x.status} ${x.responseText.slice(0, 200)}`), []);
    assert.deepEqual(XMLHttpRequest.handlerErrors, []);
}));
