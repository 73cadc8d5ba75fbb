// Checklist section E: payload exchange and long-polling (XEP-0124 §4, §8,
// §14.2), items 43–50.

import {
    WAIT,
    assert,
    assertBody,
    bareJid,
    describeResponse,
    hasMessage,
    headline,
    isTerminate,
    item,
    message,
    poll,
    rawSend,
    receive,
    sleep,
    stillPending,
    timed,
    uniq,
    useStack,
} from './lib.mjs';

useStack({});

const S8 = 'XEP-0124 §8';

item(43, { level: 'M', section: `${S8}, §14.2`, title: 'payloads are forwarded in rid order', timeout: 30_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const [t1, t2] = [uniq('one'), uniq('two')];
    const r1 = alice.rid++;
    const r2 = alice.rid++;
    // socket B: R+2 first; socket A: R+1 a moment later
    const B = ctx.post(poll(alice.sid, r2, message(bob.jid, t2)), { agent: ctx.agent() });
    await sleep(300);
    const A = ctx.post(poll(alice.sid, r1, message(bob.jid, t1)), { agent: ctx.agent() });
    const first = await receive(bob, t1, 5000);
    const second = await receive(bob, t2, 5000);
    assert.ok(first && second, `bob received ${first ? '' : 'not '}"1" and ${second ? '' : 'not '}"2"`);
    // order: "1" before "2" in everything bob was sent, in arrival order
    const all = bob.responses.map((r) => r.text).join('\n');
    assert.ok(all.indexOf(t1) < all.indexOf(t2), 'bob saw "2" before "1"');
    await Promise.all([A, B]);
    ctx.record('R+2 sent before R+1 on another socket: the recipient got "1" then "2"');
});

item(44, { level: 'M', section: S8, title: 'every valid request gets HTTP 200 with a <body/>', timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    await s.send();
    for (const r of s.responses) assertBody(r);
    ctx.record(`${s.responses.length} requests of a login and an idle poll: all HTTP 200 + <body/>`);
});

item(45, { level: 'S', section: S8, title: "an idle request is held up to 'wait', then answered empty", timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const res = await rawSend(ctx, s);
    assertBody(res);
    assert.ok(!isTerminate(res), describeResponse(res));
    assert.equal(res.body.childNodes.length, 0, `not an empty body: ${res.text}`);
    assert.ok(res.elapsedMs >= (WAIT - 1) * 1000, `answered after ${res.elapsedMs} ms (wait ${WAIT})`);
    assert.ok(res.elapsedMs <= (WAIT + 2) * 1000, `held ${res.elapsedMs} ms, longer than wait+2`);
    ctx.record(`empty <body/> after ${res.elapsedMs} ms with wait=${WAIT}`);
});

item(46, { level: 'S', section: S8, title: "never more than 'hold' requests held: the oldest is answered", timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const A = timed(rawSend(ctx, s, '', {}, { agent: ctx.agent() }));
    assert.ok(await stillPending(A, 400), 'poll(R+1) was not held');
    const sent = Date.now();
    const B = rawSend(ctx, s, headline(bareJid(ctx, 1), uniq('h46')), {}, { agent: ctx.agent() });
    const { value: resA, at } = await A;
    assert.ok(!isTerminate(resA), describeResponse(resA));
    const delay = at - sent;
    assert.ok(delay < 500, `the held request was answered ${delay} ms after the new one`);
    const heldB = await stillPending(B, 300);
    await B;
    ctx.record(`hold=1: A answered ${delay} ms after B arrived; B ${heldB ? 'held' : 'answered at once'}`);
    assert.ok(heldB, 'B was not held');
});

item(47, { level: 'M', section: `${S8}, §14.2`, title: 'responses go out in rid order', timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const r1 = s.rid++;
    const r2 = s.rid++;
    const B = timed(ctx.post(poll(s.sid, r2), { agent: ctx.agent() }));
    await sleep(500);
    const A = timed(ctx.post(poll(s.sid, r1), { agent: ctx.agent() }));
    const [a, b] = await Promise.all([A, B]);
    assert.ok(!isTerminate(a.value) && !isTerminate(b.value), `${describeResponse(a.value)} / ${describeResponse(b.value)}`);
    assert.ok(b.at >= a.at, `R+2 answered ${a.at - b.at} ms before R+1`);
    ctx.record(`R+2 sent 500 ms before R+1: R+1 answered first, R+2 ${b.at - a.at} ms later`);
});

item(48, { level: 'S', section: S8, title: 'server payloads return at once on a held request', timeout: 20_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const text = uniq('m48');
    const held = rawSend(ctx, alice);
    await sleep(300);
    const sent = Date.now();
    const out = bob.send(message(alice.jid, text)); // may itself be held for bob's wait
    const res = await held;
    const delay = Date.now() - sent;
    await out;
    assert.ok(hasMessage(res, text), `the held response did not carry the message: ${res.text}`);
    assert.ok(delay < 1500, `answered ${delay} ms after the message was sent`);
    ctx.record(`the held request returned with the message ${delay} ms after it was sent`);
});

item(49, { level: 'I', section: S8, title: 'payloads are buffered while nothing is held', timeout: 20_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const text = uniq('m49');
    await bob.send(message(alice.jid, text));
    await sleep(500);
    const res = await rawSend(ctx, alice);
    assert.ok(hasMessage(res, text), `the next poll did not carry the queued message: ${res.text}`);
    assert.ok(res.elapsedMs < 1000, `answered after ${res.elapsedMs} ms, not at once`);
    ctx.record(`queued message delivered on the next poll after ${res.elapsedMs} ms`);
});

item(50, { level: 'I', section: 'XEP-0124 §4', title: 'the session lives as long as the client keeps polling', timeout: 60_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const until = Date.now() + 10 * WAIT * 1000;
    let n = 0;
    while (Date.now() < until) {
        const r = await rawSend(ctx, s);
        assert.ok(!isTerminate(r), `poll ${n + 1}: ${describeResponse(r)}`);
        n++;
    }
    ctx.record(`${n} consecutive idle polls over ${10 * WAIT} s: the session stays valid`);
});
