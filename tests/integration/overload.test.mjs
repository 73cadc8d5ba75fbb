// Overload protection (bosh.overload_lag_ms; docs/architecture.md
// "Upstream", W4 in docs/benchmarks.md) against the real bosun and Prosody.
// A stopped process is the lag a real overload produces, on demand: bosun is
// paused with SIGSTOP for 400 ms, so its 25 ms tick runs ~400 ms late. New
// sessions and prebinds are then refused for a second, while an existing
// session is served as before; afterwards new sessions open again.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertBody, isTerminate, newSession, poll, post } from '../harness/bosh.mjs';
import { callApi, clientToml, makeApiKey, prebindToml, startBosunFor } from '../harness/prebind.mjs';
import { freePort } from '../harness/ports.mjs';
import { startProsody } from '../harness/prosody.mjs';

let prosody;
let bosun;
let apiPort;
const KEY = makeApiKey('webapp');
let rid = 7000;
const create = () => post(bosun.url, newSession({ to: prosody.domain, rid: (rid += 10), wait: 5 }));

before(async () => {
    prosody = await startProsody({ tls: true });
    apiPort = await freePort();
    bosun = await startBosunFor(prosody, {
        bosh: { overload_lag_ms: 100 },
        extraToml: `${prebindToml(apiPort)}
${clientToml({ id: 'webapp', key: KEY, domains: [prosody.domain], methods: ['password'] })}`,
    });
}, { timeout: 30_000 });

after(async () => {
    await bosun?.stop();
    await prosody?.stop();
});

test('after a stall, new sessions and prebinds are refused for a second; existing ones are served', async () => {
    const first = await create();
    assertBody(first);
    assert.ok(!isTerminate(first), first.text);
    const sid = /sid='([^']+)'/.exec(first.text)[1];
    const firstRid = rid;

    process.kill(bosun.pid, 'SIGSTOP');
    await sleep(400);
    process.kill(bosun.pid, 'SIGCONT');
    await sleep(150); // the late tick has run

    const refused = await create();
    assertBody(refused);
    assert.ok(isTerminate(refused, 'policy-violation'), refused.text);
    const prebind = await callApi(`http://127.0.0.1:${apiPort}`, 'POST', '/v1/prebind', {
        key: KEY,
        body: { auth: { method: 'password', jid: `alice@${prosody.domain}`, password: 'not-checked' } },
    });
    assert.equal(prebind.status, 503, prebind.text);
    assert.ok(prebind.headers.get('retry-after'), 'Retry-After on 503');
    // The existing session is served: an empty poll is answered (within its wait), not terminated.
    const polled = await post(bosun.url, poll(sid, firstRid + 1));
    assertBody(polled);
    assert.ok(!isTerminate(polled), polled.text);
    assert.match(bosun.logs(), /event loop \d+ ms late \(bosh\.overload_lag_ms 100\): refusing new sessions/);

    await sleep(1200);
    const again = await create();
    assertBody(again);
    assert.ok(!isTerminate(again), again.text);
    await sleep(100);
    assert.match(bosun.logs(), /event loop on time again: 2 new sessions refused/);
});
