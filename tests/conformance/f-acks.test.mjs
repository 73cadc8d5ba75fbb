// Checklist section F: acknowledgements (XEP-0124 §9), items 51–55.
//
// A client asks for acks with ack='1' on its creation request (§9.2). Bosun
// then acks on its responses (§9.1) where a response's ack would differ from
// its own rid, keeps unacknowledged responses for replay (§14.3) and reports
// a response the client's ack shows lost (§9.2: report/time).

import {
    WAIT,
    assert,
    assertBody,
    assertTerm,
    bareJid,
    describeResponse,
    headline,
    isTerminate,
    item,
    poll,
    randomRid,
    sleep,
    stillPending,
    uniq,
    useStack,
} from './lib.mjs';

useStack({});

const S91 = 'XEP-0124 §9.1';
const S92 = 'XEP-0124 §9.2';

/** A logged-in session that asked for acks (ack='1' at creation). */
async function ackedLogin(ctx, i = 0) {
    const s = ctx.session({ startRid: randomRid() });
    await s.login(ctx.users[i].user, ctx.users[i].password, uniq('ack'), { wait: WAIT, ack: 1 });
    await s.settle();
    return s;
}

/** Sends rid r on its own socket (not absorbed). */
const send = (ctx, s, r, payload = '', extra = {}) => ctx.post(poll(s.sid, r, payload, extra), { agent: ctx.agent(), timeoutMs: 20_000 });

item(51, { level: 'O', section: S91, title: "'ack' = the highest rid received; not equal to the rid answered", timeout: 30_000 }, async (ctx) => {
    const s = await ackedLogin(ctx);
    const r1 = s.rid++;
    const r2 = s.rid++;
    const A = send(ctx, s, r1);
    assert.ok(await stillPending(A, 400), 'poll(R+1) not held');
    const B = send(ctx, s, r2, headline(bareJid(ctx, 1), uniq('a51')));
    const resA = await A;
    assertBody(resA);
    const ackA = resA.body.getAttribute('ack');
    const resB = await B;
    const ackB = resB.body.getAttribute('ack');
    ctx.record(`A (rid R+1) ack='${ackA}'; B (rid R+2) ack='${ackB}'`);
    if (ackA === null && ackB === null && s.creation.body.getAttribute('ack') === null) ctx.unsupported('the CM sends no acks (MAY)');
    assert.equal(ackA, String(r2), `A's ack is not the highest rid received (${r2})`);
    assert.equal(ackB, null, "B's response carries ack equal to its own rid");
});

item(52, { level: 'M', section: S91, title: "a CM that acks sets 'ack' wherever it differs from the rid answered", timeout: 30_000 }, async (ctx) => {
    const s = await ackedLogin(ctx);
    if (s.creation.body.getAttribute('ack') === null) ctx.unsupported('the CM sends no acks (checked in #37)');
    // three requests in flight: answers to the older ones must ack the newest
    const r = [s.rid++, s.rid++];
    const A = send(ctx, s, r[0]);
    await sleep(200);
    const B = send(ctx, s, r[1], headline(bareJid(ctx, 1), uniq('a52')));
    const resA = await A;
    assert.equal(resA.body.getAttribute('ack'), String(r[1]), `response to ${r[0]} lacks ack='${r[1]}': ${resA.text}`);
    const r3 = s.rid++;
    const C = send(ctx, s, r3, headline(bareJid(ctx, 1), uniq('a52')));
    const resB = await B;
    assert.equal(resB.body.getAttribute('ack'), String(r3), `response to ${r[1]} lacks ack='${r3}': ${resB.text}`);
    const resC = await C;
    assert.equal(resC.body.getAttribute('ack'), null, `response to ${r3} carries ack='${resC.body.getAttribute('ack')}'`);
    ctx.record('every response answered while a newer rid was in hand carried that rid as ack; the newest carried none');
});

item(53, { level: 'O', section: S92, title: "client ack below the last answered rid → immediate report/time", timeout: 30_000 }, async (ctx) => {
    const s = await ackedLogin(ctx);
    const hl = () => headline(bareJid(ctx, 1), uniq('a53'));
    const r1 = s.rid++;
    const r2 = s.rid++;
    const r3 = s.rid++;
    const r4 = s.rid++;
    const A = send(ctx, s, r1);
    await sleep(200);
    const B = send(ctx, s, r2, hl());
    await A; // answered: B arrived
    const C = send(ctx, s, r3, hl(), { ack: r1 });
    await B; // answered: C arrived
    await sleep(300);
    // the client says it has only r1: the response to r2 was lost
    const started = Date.now();
    const D = send(ctx, s, r4, '', { ack: r1 });
    const resC = await C;
    const tookC = Date.now() - started;
    const T = send(ctx, s, s.rid++, '', { type: 'terminate' });
    const resD = await D;
    await T;
    const withReport = [resC, resD].find((r) => r.body?.hasAttribute('report'));
    ctx.record(`ack='${r1}' after ${r2} was answered → ${withReport ? `report='${withReport.body.getAttribute('report')}' time='${withReport.body.getAttribute('time')}' on the response answered ${tookC} ms later` : 'no report'}`);
    if (!withReport) ctx.unsupported('no report/time (MAY)');
    assert.equal(withReport.body.getAttribute('report'), String(r2), 'report is not ack+1');
    const time = Number(withReport.body.getAttribute('time'));
    assert.ok(Number.isInteger(time) && time >= 300, `time='${withReport.body.getAttribute('time')}' (the response was sent ≥ 300 ms earlier)`);
    assert.ok(tookC < 1000, `the report came after ${tookC} ms, not at once`);
});

item(54, { level: 'S', section: `${S92}, §14.3`, title: 'unacknowledged responses stay replayable; acknowledged ones may go', timeout: 30_000 }, async (ctx) => {
    const s = await ackedLogin(ctx);
    const [t1, t2, t3] = [uniq('a54'), uniq('a54'), uniq('a54')];
    const [r1, r2, r3, r4] = [s.rid++, s.rid++, s.rid++, s.rid++];
    const base = r1 - 1;
    const A = send(ctx, s, r1, headline(bareJid(ctx, 1), t1), { ack: base });
    await sleep(200);
    const B = send(ctx, s, r2, headline(bareJid(ctx, 1), t2), { ack: base });
    const resA = await A;
    const C = send(ctx, s, r3, headline(bareJid(ctx, 1), t3), { ack: base });
    const resB = await B;
    // r1 and r2 answered, neither acknowledged: both replay byte for byte
    const again1 = await send(ctx, s, r1, headline(bareJid(ctx, 1), t1), { ack: base });
    assert.equal(again1.text, resA.text, `resending ${r1} (unacknowledged) → ${describeResponse(again1)}`);
    const again2 = await send(ctx, s, r2, headline(bareJid(ctx, 1), t2), { ack: base });
    assert.equal(again2.text, resB.text, `resending ${r2} (unacknowledged) → ${describeResponse(again2)}`);
    // now acknowledge up to r2; a resend of r1 may be item-not-found
    const D = send(ctx, s, r4, '', { ack: r2 });
    await C;
    const late = await send(ctx, s, r1, headline(bareJid(ctx, 1), t1), { ack: base });
    ctx.record(`unacknowledged ${r1}, ${r2} replayed byte for byte; after ack='${r2}', resending ${r1} → ${describeResponse(late)}`);
    if (!isTerminate(late)) await send(ctx, s, s.rid++, '', { type: 'terminate' });
    await D;
});

item(55, { level: 'S', section: S92, title: "a client that asked for acks may omit 'ack' once it has everything", timeout: 30_000 }, async (ctx) => {
    const s = await ackedLogin(ctx);
    for (let i = 0; i < 3; i++) {
        const r = await s.send(headline(bareJid(ctx, 1), uniq('a55')));
        assert.ok(!isTerminate(r), describeResponse(r));
    }
    ctx.record("ack='1' at creation, no 'ack' afterwards: every request served normally");
});

void assertTerm;
