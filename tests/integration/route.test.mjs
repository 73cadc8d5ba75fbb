// 'route' (XEP-0124 §7.1, checklist #20) against the real bosun and Prosody:
// ignored unless allow-listed, so Bosun is never an open relay, and used
// when the operator allow-lists it. The domain's configured upstream points
// at a closed port, so only an honoured route reaches Prosody.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertBody, isTerminate, newSession, post } from '../harness/bosh.mjs';
import { startBosun } from '../harness/bosun.mjs';
import { freePort } from '../harness/ports.mjs';
import { startProsody } from '../harness/prosody.mjs';

let prosody;
let bosun;
let allowed;

before(async () => {
    prosody = await startProsody({ tls: true });
    allowed = `xmpp:127.0.0.1:${prosody.c2sPort}`;
    bosun = await startBosun({
        upstreamPort: await freePort(), // nobody listens there
        domain: prosody.domain,
        tls: 'required',
        caFile: prosody.caFile,
        bosh: { allowed_routes: [allowed] },
    });
}, { timeout: 30_000 });

after(async () => {
    await bosun?.stop();
    await prosody?.stop();
});

let rid = 1000;
const create = (route) =>
    post(bosun.url, newSession({ to: prosody.domain, rid: (rid += 10), wait: 5, ...(route ? { route } : {}) }));

test('without route the domain\'s upstream is used (here: unreachable → remote-connection-failed)', async () => {
    const res = await create();
    assertBody(res);
    assert.ok(isTerminate(res, 'remote-connection-failed'), res.text);
});

test('a route that is not allow-listed is ignored: no relay to it (#20)', async () => {
    const res = await create(`xmpp:localhost:${prosody.c2sPort}`); // reaches Prosody, but not listed as written
    assert.ok(isTerminate(res, 'remote-connection-failed'), res.text);
});

test('an allow-listed route is honoured, with the domain\'s TLS verification (#20)', async () => {
    const res = await create(allowed);
    assertBody(res);
    assert.ok(!isTerminate(res), res.text);
    assert.match(res.text, /mechanisms/, 'stream features from Prosody');
    assert.match(bosun.logs(), /upstream by allowed route 127\.0\.0\.1:/);
});
