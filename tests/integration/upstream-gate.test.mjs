// The bound on upstream connections being opened at once (bosh.max_connecting,
// bosh.max_connect_queue; docs/architecture.md "Upstream", W4 in
// docs/benchmarks.md), against the real bosun.
//
// Part 1 uses a stalled upstream, a fault a real server does not produce on
// demand: it accepts TCP connections and never answers, so the first session
// holds the only slot for its whole connect_timeout. Part 2 uses a real
// Prosody: sessions queued behind one slot all open in turn, and with no
// queue the ones beyond the slot are refused with policy-violation.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { assertBody, isTerminate, newSession, post } from '../harness/bosh.mjs';
import { startBosun } from '../harness/bosun.mjs';
import { callApi, clientToml, makeApiKey, prebindToml, startBosunFor } from '../harness/prebind.mjs';
import { freePort } from '../harness/ports.mjs';
import { startProsody } from '../harness/prosody.mjs';

let rid = 5000;
const create = (url, to = 'localhost') => post(url, newSession({ to, rid: (rid += 10), wait: 10 }));

describe('a stalled upstream: one slot, a queue of one', () => {
    let stall;
    let accepted = 0;
    const sockets = [];
    let bosun;
    let apiPort;
    const KEY = makeApiKey('webapp');

    before(async () => {
        stall = net.createServer((s) => {
            accepted += 1;
            sockets.push(s);
            s.on('error', () => {});
        });
        await new Promise((resolve) => stall.listen(0, '127.0.0.1', resolve));
        apiPort = await freePort();
        bosun = await startBosun({
            upstreamPort: stall.address().port,
            tls: 'required',
            bosh: { max_connecting: 1, max_connect_queue: 1, connect_timeout: 2 },
            extraToml: `${prebindToml(apiPort)}
${clientToml({ id: 'webapp', key: KEY, domains: ['localhost'], methods: ['password'] })}`,
        });
    }, { timeout: 30_000 });

    after(async () => {
        await bosun?.stop();
        for (const s of sockets) s.destroy();
        stall?.close();
    });

    test('the first opens, the second waits, the third and a prebind are refused at once; nothing hangs', async () => {
        const first = create(bosun.url);
        await new Promise((r) => setTimeout(r, 300)); // the first holds the slot
        const second = create(bosun.url);
        await new Promise((r) => setTimeout(r, 300)); // the second is queued

        const t0 = Date.now();
        const third = await create(bosun.url);
        assertBody(third);
        assert.ok(isTerminate(third, 'policy-violation'), third.text);
        const prebind = await callApi(`http://127.0.0.1:${apiPort}`, 'POST', '/v1/prebind', {
            key: KEY,
            body: { auth: { method: 'password', jid: 'alice@localhost', password: 'not-used' } },
        });
        assert.equal(prebind.status, 503, prebind.text);
        assert.equal(prebind.json.error, 'unavailable');
        assert.ok(prebind.headers.get('retry-after'), 'Retry-After on 503');
        assert.ok(Date.now() - t0 < 1500, `refusals took ${Date.now() - t0} ms`);
        assert.equal(accepted, 1, 'only the first reached the upstream');
        assert.match(bosun.logs(), /not tried \(too many being opened\)/);

        // Both earlier creations are answered within connect_timeout (the
        // core answers a creation at that deadline at the latest), so
        // neither hangs; their upstreams end by their own timers.
        const a = await first;
        assertBody(a);
        const b = await second;
        assertBody(b);
        assert.ok(Date.now() - t0 < 4000, 'answered within connect_timeout');
    });

    test('the slot is free again once the earlier ones end', async () => {
        await new Promise((r) => setTimeout(r, 1500)); // past every earlier deadline
        const before = accepted;
        const res = create(bosun.url);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(accepted, before + 1, 'a new session reached the upstream');
        assertBody(await res);
    });
});

describe('a real Prosody behind one slot', () => {
    let prosody;
    let queued;
    let unqueued;

    before(async () => {
        prosody = await startProsody({ tls: true });
        queued = await startBosunFor(prosody, { bosh: { max_connecting: 1, max_connect_queue: 20 } });
        unqueued = await startBosunFor(prosody, { bosh: { max_connecting: 1, max_connect_queue: 0 } });
    }, { timeout: 30_000 });

    after(async () => {
        await queued?.stop();
        await unqueued?.stop();
        await prosody?.stop();
    });

    test('eight sessions created at once all open, one after another', async () => {
        const all = await Promise.all(Array.from({ length: 8 }, () => create(queued.url, prosody.domain)));
        for (const res of all) {
            assertBody(res);
            assert.ok(!isTerminate(res), res.text);
            assert.match(res.text, /mechanisms/, 'stream features from Prosody');
        }
    });

    test('with no queue, the ones beyond the slot get policy-violation and the rest open', async () => {
        const all = await Promise.all(Array.from({ length: 8 }, () => create(unqueued.url, prosody.domain)));
        const opened = all.filter((res) => !isTerminate(res) && /mechanisms/.test(res.text)).length;
        const refused = all.filter((res) => isTerminate(res, 'policy-violation')).length;
        assert.equal(opened + refused, 8, all.map((r) => r.text).join('\n'));
        assert.ok(opened >= 1, 'the first opens');
        assert.ok(refused >= 1, 'eight at once cannot all fit one slot with no queue');
    });
});
