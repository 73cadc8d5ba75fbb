// Checklist section J: request ids (XEP-0124 §14), items 76–81.

import {
    assert,
    assertBody,
    assertTerm,
    bareJid,
    describeResponse,
    headline,
    isTerminate,
    item,
    message,
    poll,
    rawSend,
    receive,
    sleep,
    stillPending,
    uniq,
    useStack,
} from './lib.mjs';

useStack({});

const S142 = 'XEP-0124 §14.2';
const S143 = 'XEP-0124 §14.3';

/** Logs user i in with the first rid `start`. */
async function loginAt(ctx, start, i = 0) {
    const s = ctx.session({ startRid: start });
    await s.login(ctx.users[i].user, ctx.users[i].password, uniq('rid'), { wait: 2 });
    await s.settle();
    return s;
}

/** Walks the session's rid up to `last` with non-empty requests, one always held. */
async function walkTo(ctx, s, last) {
    let prev = null;
    let n = 0;
    while (s.rid <= last) {
        const p = rawSend(ctx, s, headline(bareJid(ctx, 1), `walk-${n++}`), {}, { agent: ctx.agent() });
        if (prev) {
            const r = await prev;
            assert.ok(!isTerminate(r), `rid ${s.rid - 2}: ${describeResponse(r)}`);
        }
        prev = p;
        await sleep(20);
    }
    const end = rawSend(ctx, s);
    const r = await prev;
    assert.ok(!isTerminate(r), describeResponse(r));
    await end;
    return n;
}

item(76, { level: 'I', section: 'XEP-0124 §14.1', title: 'rids up to 2^53−1 and across 2^32 work', timeout: 60_000 }, async (ctx) => {
    const MAX = 9007199254740991;
    const s = await loginAt(ctx, MAX - 14);
    assert.ok(s.rid <= MAX - 2, `login used rids up to ${s.rid - 1}`);
    await walkTo(ctx, s, MAX - 1);
    assert.equal(s.rid, MAX + 1, 'the last rid sent was not 2^53−1');
    const s32 = await loginAt(ctx, 4294967290);
    await walkTo(ctx, s32, 4294967300);
    ctx.record(`login at ${MAX - 14} and requests up to ${MAX}; another across 2^32 (4294967290 → ${s32.rid - 1}): all served`);
});

item(77, { level: 'M', section: S142, title: 'an early request waits for the gap: forwarded and answered in rid order', timeout: 30_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const text = uniq('m77');
    const r1 = alice.rid++;
    const r2 = alice.rid++;
    const B = ctx.post(poll(alice.sid, r2, message(bob.jid, text)), { agent: ctx.agent() });
    const early = await receive(bob, text, 2000);
    assert.equal(early, null, 'R+2 was forwarded before R+1 arrived');
    assert.ok(await stillPending(B, 10), 'R+2 was answered before R+1 arrived');
    const sentA = Date.now();
    const A = ctx.post(poll(alice.sid, r1), { agent: ctx.agent() });
    const got = await receive(bob, text, 5000);
    assert.ok(got, 'the message of R+2 was not delivered after R+1 arrived');
    const [resA, resB] = await Promise.all([A, B]);
    assert.ok(!isTerminate(resA) && !isTerminate(resB), `${describeResponse(resA)} / ${describeResponse(resB)}`);
    ctx.record(`R+2 (message) buffered 2 s, not forwarded; R+1 arrived → delivered within ${Date.now() - sentA} ms`);
});

item(78, { level: 'M', section: S142, title: 'a rid above the window → item-not-found, session ended', timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const requests = Number(s.creation.body.getAttribute('requests') || 2);
    const last = s.rid - 1;
    const above = await ctx.post(poll(s.sid, last + requests + 1));
    assertTerm(above, 'item-not-found');
    const then = await ctx.post(poll(s.sid, last + 1));
    assertTerm(then, 'item-not-found');
    s.terminated = then;
    ctx.record(`requests=${requests}: poll(R+${requests + 1}) → term(item-not-found); poll(R+1) afterwards → term(item-not-found)`);
});

item(79, { level: 'S', section: S143, title: 'a re-sent answered rid gets the same response; its payload is not forwarded twice', timeout: 30_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const text = uniq('m79');
    const rid = alice.rid++;
    const xml = poll(alice.sid, rid, message(bob.jid, text, { id: 'm1' }));
    const first = ctx.post(xml, { agent: ctx.agent() });
    await sleep(200);
    const release = rawSend(ctx, alice, '', {}, { agent: ctx.agent() }); // answers `first`
    const res1 = await first;
    const res2 = await ctx.post(xml);
    assert.equal(res2.text, res1.text, `the replay differs: ${res1.text} vs ${res2.text}`);
    assert.ok(await receive(bob, text, 3000), 'm1 not delivered');
    const twice = await receive(bob, text, 2500);
    assert.equal(twice, null, 'm1 delivered twice');
    await release;
    ctx.record(`resent rid answered with the same ${res1.text.length} bytes; m1 delivered exactly once`);
});

item(80, { level: 'S', section: `${S143}, §17.3`, title: "a rid re-sent while held: the original gets type='error', the new one the data", timeout: 30_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const rid = alice.rid++;
    const xml = poll(alice.sid, rid);
    const A = ctx.post(xml, { agent: ctx.agent() });
    assert.ok(await stillPending(A, 400), 'poll(R+1) not held');
    const B = ctx.post(xml, { agent: ctx.agent() });
    const resA = await A;
    assertBody(resA);
    assert.equal(resA.body.getAttribute('type'), 'error', `the original got ${describeResponse(resA)}`);
    const text = uniq('m80');
    await bob.send(message(alice.jid, text));
    const resB = await B;
    assert.ok(resB.text.includes(text), `the message did not come on the new request: ${describeResponse(resB)}`);
    // #101: the session continues
    const next = await rawSend(ctx, alice);
    assert.ok(!isTerminate(next), describeResponse(next));
    ctx.record("original → <body type='error'/>; the message came on the re-sent request; the session continues");
});

item(81, { level: 'M', section: S143, title: 'a rid no longer buffered → item-not-found', timeout: 40_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const first = s.rid;
    await walkTo(ctx, s, first + 5);
    const old = await ctx.post(poll(s.sid, first));
    assertTerm(old, 'item-not-found');
    s.terminated = old;
    ctx.record(`answered ${first}…${first + 6}; resending ${first} → term(item-not-found)`);
});
