// Checklist section I: termination (XEP-0124 §13, §17.2), items 73–75.

import {
    assert,
    assertBody,
    assertTerm,
    describeResponse,
    isTerminate,
    item,
    message,
    poll,
    rawSend,
    receive,
    stillPending,
    terminate,
    uniq,
    useStack,
} from './lib.mjs';

useStack({});

item(73, { level: 'M', section: 'XEP-0124 §13', title: 'payloads of a terminate request are forwarded; every open request is answered', timeout: 30_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const text = uniq('bye');
    const A = rawSend(ctx, alice, '', {}, { agent: ctx.agent() });
    assert.ok(await stillPending(A, 400), 'poll(R+1) not held');
    const rid = alice.rid++;
    const B = ctx.post(terminate(alice.sid, rid, message(bob.jid, text) + "<presence type='unavailable' xmlns='jabber:client'/>"), { agent: ctx.agent() });
    const [resA, resB] = await Promise.all([A, B]);
    assertBody(resA, 'A');
    assertBody(resB, 'B');
    alice.terminated = resB;
    const got = await receive(bob, text, 5000);
    assert.ok(got, 'the message inside the terminate request was not delivered');
    const terms = [resA, resB].filter((r) => isTerminate(r));
    assert.ok(terms.length >= 1, `no type='terminate' answer: A ${describeResponse(resA)}, B ${describeResponse(resB)}`);
    ctx.record(`payload delivered; held A → ${describeResponse(resA)}, terminate request B → ${describeResponse(resB)}`);
});

item(74, { level: '—', section: 'XEP-0124 §13, §10', title: 'after termination the sid is dead', timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const rid = s.rid++;
    const t = await ctx.post(terminate(s.sid, rid));
    assert.ok(isTerminate(t), describeResponse(t));
    s.terminated = t;
    const after = await ctx.post(poll(s.sid, rid + 1));
    const how = assertTerm(after, 'item-not-found');
    ctx.record(`terminate → ${describeResponse(t)}; poll(R+1) → ${how}`);
});

item(75, { level: 'O', section: 'XEP-0124 §17.2', title: "a client terminate with a condition is a normal termination", timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const rid = s.rid++;
    const t = await ctx.post(terminate(s.sid, rid, '', { condition: 'undefined-condition' }));
    assertBody(t);
    assert.ok(isTerminate(t), `condition='undefined-condition' → ${describeResponse(t)}`);
    s.terminated = t;
    const after = await ctx.post(poll(s.sid, rid + 1));
    assertTerm(after, 'item-not-found');
    ctx.record(`terminate condition='undefined-condition' → ${describeResponse(t)}; then item-not-found`);
});
