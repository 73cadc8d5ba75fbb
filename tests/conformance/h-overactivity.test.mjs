// Checklist section H: overactivity and polling (XEP-0124 §11, §12, §14.3), items 64–72.
//
// Bosun's rules: hold=1, requests=2, polling=2. The §11 "too frequent" and
// the §12 polling rules are applied to polling sessions only (wait=0 or
// hold=0). For long-polling sessions the §11 empty-request rule (#66) is
// deliberately not applied, because Strophe.js sends an empty request while
// one is held. The same rid re-sent more than 8 times → policy-violation (#72).

import {
    TARGET,
    WAIT,
    assert,
    assertBody,
    childrenOf,
    describeResponse,
    elementChildren,
    findElement,
    isTerminate,
    item,
    poll,
    sleep,
    useStack,
} from './lib.mjs';
import { NS, authPlain } from '../harness/bosh.mjs';

useStack({});

const S11 = 'XEP-0124 §11';
const S12 = 'XEP-0124 §12';

/** Creates a raw session (no login) and returns helpers bound to it. */
async function rawSession(ctx, attrs = {}) {
    const { res, sid, rid } = await ctx.create(attrs);
    assertBody(res, 'creation');
    assert.ok(sid && !isTerminate(res), `creation refused: ${res.text}`);
    let next = rid + 1;
    const s = {
        res,
        sid,
        rid,
        attr: (name) => res.body.getAttribute(name),
        /** poll(next) on its own socket when `agent` is given. */
        send(payload = '', extra = {}, opts = {}) {
            const r = next++;
            return ctx.post(poll(sid, r, payload, extra), { timeoutMs: 30_000, ...opts });
        },
        /** poll(rid) with an explicit rid (does not move `next`). */
        sendRid(r, payload = '', extra = {}, opts = {}) {
            return ctx.post(poll(sid, r, payload, extra), { timeoutMs: 30_000, ...opts });
        },
        skip(n = 1) {
            next += n;
        },
        get next() {
            return next;
        },
    };
    return s;
}

/** Bosun sends the features in the creation response; another CM may send them on the next poll. */
async function drainFeatures(s) {
    if (elementChildren(s.res.body).length) return null;
    const r = await s.send();
    assert.ok(!isTerminate(r), `first poll: ${r.text}`);
    return r;
}

/** Awaits p, but at most ms; resolves null when it is still pending. */
function within(p, ms) {
    return Promise.race([p, sleep(ms).then(() => null)]);
}

item(64, { level: 'S', section: S11, title: 'more than `requests` outstanding new requests → terminal error (record which)', timeout: 20_000 }, async (ctx) => {
    const s = await rawSession(ctx, { wait: WAIT });
    await drainFeatures(s);
    const R = s.next - 1; // last rid answered
    assert.equal(s.attr('requests'), '2', `requests='${s.attr('requests')}'`);
    // never send R+1; R+2 is buffered (inside the window), then R+3
    const a = ctx.agent();
    const b = ctx.agent();
    const p2 = s.sendRid(R + 2, '', {}, { agent: a });
    await sleep(200);
    const r3 = await s.sendRid(R + 3, '', {}, { agent: b, timeoutMs: 10_000 });
    assertBody(r3);
    const r2 = await within(p2, 3000);
    assert.ok(r2, 'the buffered request R+2 was left hanging after the session ended');
    assert.ok(
        isTerminate(r3, 'policy-violation') || isTerminate(r3, 'item-not-found'),
        `R+3 (outstanding R+2, R+3 with R+1 missing) → ${describeResponse(r3)}, expected policy-violation or item-not-found`,
    );
    ctx.record(`R+3 → ${describeResponse(r3)}; buffered R+2 → ${describeResponse(r2)}`);
    if (TARGET === 'bosun') {
        // Bosun checks the §14.2 window first: R+3 > R + requests.
        assert.ok(isTerminate(r3, 'item-not-found'), r3.text);
        assert.ok(isTerminate(r2, 'other-request'), `buffered R+2: ${r2.text}`);
    }
});

item(65, { level: 'O', section: S11, title: 'one extra request to pause or terminate is not overactivity', timeout: 30_000 }, async (ctx) => {
    const details = [];
    // (a) long polling: A = poll(R+1) held; 0.2 s later an empty terminate
    {
        const s = await rawSession(ctx, { wait: WAIT });
        await drainFeatures(s);
        const A = s.send('', {}, { agent: ctx.agent() });
        await sleep(200);
        const B = await s.send('', { type: 'terminate' }, { agent: ctx.agent() });
        const a = await within(A, 1500);
        assert.ok(a, 'held request not answered after the terminate');
        assert.ok(isTerminate(B) && !B.body.getAttribute('condition'), `terminate request → ${describeResponse(B)}`);
        assert.ok(!isTerminate(a, 'policy-violation') && a.body?.getAttribute('type') !== 'error', `held request → ${describeResponse(a)}`);
        details.push(`long-poll + terminate: B ${describeResponse(B)}, A ${describeResponse(a)}`);
    }
    // (b) polling session (wait=0, hold=0): an empty poll, then terminate 0.2 s later
    {
        const s = await rawSession(ctx, { wait: 0, hold: 0 });
        const first = await s.send();
        assert.ok(!isTerminate(first), `first poll of a polling session: ${first.text}`);
        await sleep(200);
        const B = await s.send('', { type: 'terminate' });
        assert.ok(isTerminate(B) && !B.body.getAttribute('condition'), `polling session, terminate 0.2 s after an empty poll → ${describeResponse(B)}`);
        details.push(`polling + terminate 0.2 s after an empty poll: ${describeResponse(B)}`);
    }
    // (c) the same with pause, where pause is offered
    const probe = await rawSession(ctx, { wait: WAIT });
    const maxpause = Number(probe.attr('maxpause')) || null;
    if (maxpause) {
        const pause = Math.min(30, maxpause);
        {
            const s = probe;
            const A = s.send('', {}, { agent: ctx.agent() });
            await sleep(200);
            const B = await s.send('', { pause }, { agent: ctx.agent() });
            const a = await within(A, 1500);
            assert.ok(a, 'held request not answered after the pause');
            assert.ok(!isTerminate(B) && !isTerminate(a), `long-poll + pause: A ${describeResponse(a)}, B ${describeResponse(B)}`);
            details.push(`long-poll + pause=${pause}: A ${describeResponse(a)}, B ${describeResponse(B)}`);
        }
        {
            const s = await rawSession(ctx, { wait: 0, hold: 0 });
            const first = await s.send();
            assert.ok(!isTerminate(first), first.text);
            await sleep(200);
            const B = await s.send('', { pause });
            assert.ok(!isTerminate(B), `polling session, pause 0.2 s after an empty poll → ${describeResponse(B)}`);
            details.push(`polling + pause: ${describeResponse(B)}`);
        }
    } else {
        if (TARGET === 'bosun') assert.fail(`bosun advertises no maxpause: ${probe.res.text}`);
        details.push('no maxpause: the pause variant does not apply');
    }
    ctx.record(details.join('; '));
});

item(66, { level: 'S', section: S11, title: "'too frequent' empty request while one is held (record: not applied to long polling)", timeout: 30_000 }, async (ctx) => {
    // empty R+2 0.2 s after a held R+1
    const s = await rawSession(ctx, { wait: WAIT });
    await drainFeatures(s);
    const A = s.send('', {}, { agent: ctx.agent() });
    await sleep(200);
    const B = s.send('', {}, { agent: ctx.agent() });
    const a = await within(A, 1500);
    assert.ok(a, 'held R+1 not answered when R+2 arrived (hold=1)');
    const b = await B;
    ctx.record(`long polling, empty R+2 0.2 s after held R+1: A ${describeResponse(a)}, B ${describeResponse(b)}`);
    if (TARGET === 'bosun') {
        // Bosun's documented choice: no policing of long-polling sessions
        // (Strophe sends an empty request while one is held); #69 covers polling sessions.
        assert.ok(!isTerminate(a) && !isTerminate(b), `bosun policed a long-polling session: A ${a.text} B ${b.text}`);
        assert.ok(b.elapsedMs >= WAIT * 1000 - 500, `R+2 was not held (answered after ${b.elapsedMs} ms)`);
        ctx.note("bosun applies §11 'too frequent' to polling sessions only (wait=0 or hold=0); see #69");
    }
    // the same with a stanza in R+2 must be accepted (#46)
    const alice = await ctx.login(0);
    const A2 = alice.send();
    await sleep(200);
    const id = `ping-${Math.random().toString(36).slice(2)}`;
    const B2 = alice.send(`<iq xmlns='jabber:client' type='get' id='${id}' to='${ctx.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const a2 = await within(A2, 1500);
    assert.ok(a2 && !isTerminate(a2), `held request with a stanza request behind it: ${describeResponse(a2)}`);
    const b2 = await B2;
    assert.ok(!isTerminate(b2), `the stanza-carrying R+2 was refused: ${b2.text}`);
    const pong = await alice.waitFor((el) => el.localName === 'iq' && el.getAttribute('id') === id, 5000);
    assert.equal(pong.getAttribute('type'), 'result');
    ctx.record('a stanza-carrying R+2 is accepted and its iq answered');
});

item(67, { level: 'M', section: `${S11}, ${S12}`, title: 'no requests/polling advertised → unlimited concurrency/frequency', timeout: 20_000 }, async (ctx) => {
    const s = await rawSession(ctx, { wait: WAIT });
    const requests = s.attr('requests');
    const polling = s.attr('polling');
    const ran = [];
    if (requests === null) {
        await drainFeatures(s);
        const polls = Array.from({ length: 5 }, () => s.send('', {}, { agent: ctx.agent() }));
        const out = await Promise.all(polls);
        assert.ok(out.every((r) => !isTerminate(r, 'policy-violation')), out.map(describeResponse).join(', '));
        ran.push('5 parallel polls: no policy-violation');
    }
    if (polling === null) {
        const p = await rawSession(ctx, { wait: 0 });
        for (let i = 0; i < 4; i++) {
            const r = await p.send();
            assert.ok(!isTerminate(r, 'policy-violation'), `back-to-back poll ${i}: ${r.text}`);
        }
        ran.push('4 back-to-back polls: no policy-violation');
    }
    if (!ran.length) ctx.na(`requests='${requests}' and polling='${polling}' are advertised, so the 'unlimited' rule does not apply`);
    ctx.record(ran.join('; '));
});

item(68, { level: 'S', section: S12, title: 'polling session (wait=0, hold=0): inactivity > polling and ≥ the long-polling value', timeout: 15_000 }, async (ctx) => {
    const normal = await rawSession(ctx, { wait: WAIT });
    const s = await rawSession(ctx, { wait: 0, hold: 0 });
    const inactivity = Number(s.attr('inactivity'));
    const polling = Number(s.attr('polling'));
    const normalInactivity = Number(normal.attr('inactivity'));
    ctx.record(`polling session: wait=${s.attr('wait')} hold=${s.attr('hold')} requests=${s.attr('requests')} inactivity=${inactivity} polling=${polling}; long-polling inactivity=${normalInactivity}`);
    assert.ok(Number.isFinite(inactivity) && Number.isFinite(polling), 'inactivity/polling missing');
    assert.ok(inactivity > polling, `inactivity ${inactivity} ≤ polling ${polling}`);
    assert.ok(inactivity >= normalInactivity, `polling inactivity ${inactivity} < long-polling ${normalInactivity}`);
});

item(69, { level: 'S', section: S12, title: 'polling session: two empty requests less than `polling` s apart → policy-violation', timeout: 20_000 }, async (ctx) => {
    const s = await rawSession(ctx, { wait: 0, hold: 0 });
    const polling = Number(s.attr('polling'));
    assert.ok(Number.isFinite(polling), `polling='${s.attr('polling')}'`);
    const r1 = await s.send();
    assert.ok(!isTerminate(r1), `R+1: ${r1.text}`);
    assert.ok(r1.elapsedMs < 1000, `a wait=0 poll was held ${r1.elapsedMs} ms`);
    await sleep(polling * 1000 + 500);
    const r2 = await s.send();
    assert.ok(!isTerminate(r2), `R+2 after polling+0.5 s: ${r2.text}`);
    assert.equal(childrenOf(r2).length, 0, `R+2 should be an empty answer: ${r2.text}`);
    await sleep(500);
    const r3 = await s.send();
    ctx.record(`gap ${polling + 0.5} s → ${describeResponse(r2)}; gap 0.5 s after an empty answer → ${describeResponse(r3)}`);
    assert.ok(isTerminate(r3, 'policy-violation'), `R+3 0.5 s after an empty answer: ${describeResponse(r3)}`);
});

item(70, { level: '—', section: S12, title: 'no violation when the previous response carried payloads, or the request is non-empty', timeout: 30_000 }, async (ctx) => {
    const s = await rawSession(ctx, { wait: 0, hold: 0 });
    const polling = Number(s.attr('polling')) || 0;
    const steps = [];
    let last = s.res;
    if (!elementChildren(s.res.body).length) {
        // the features come later: fetch them at the polling interval
        for (let i = 0; i < 5 && !elementChildren(last.body).length; i++) {
            await sleep(polling * 1000 + 500);
            last = await s.send();
            assert.ok(!isTerminate(last), last.text);
        }
    }
    assert.ok(findElement(last.body, 'features', NS.STREAM), `no features: ${last.text}`);
    // (1) the previous response carried payloads (features): an immediate empty request is fine
    const r1 = await s.send();
    assert.ok(!isTerminate(r1), `empty request right after a response with payloads → ${r1.text}`);
    steps.push(`empty request 0 s after a response with features: ${describeResponse(r1)}`);
    // (2) a non-empty request 0.2 s after an empty answer is fine
    assert.equal(childrenOf(r1).length, 0, `expected an empty answer: ${r1.text}`);
    await sleep(200);
    const [{ user, password }] = ctx.users;
    const r2 = await s.send(authPlain(user, password));
    assert.ok(!isTerminate(r2), `non-empty request 0.2 s after an empty answer → ${r2.text}`);
    steps.push(`<auth/> 0.2 s after an empty answer: ${describeResponse(r2)}`);
    // (3) collect <success/> at the polling interval, then an immediate empty request
    let got = r2;
    for (let i = 0; i < 5 && !childrenOf(got).length; i++) {
        await sleep(polling * 1000 + 500);
        got = await s.send();
        assert.ok(!isTerminate(got), got.text);
    }
    assert.ok(findElement(got.body, 'success', NS.SASL), `no <success/>: ${got.text}`);
    const r3 = await s.send();
    assert.ok(!isTerminate(r3), `empty request right after the <success/> response → ${r3.text}`);
    steps.push(`empty request 0 s after <success/>: ${describeResponse(r3)}`);
    ctx.record(steps.join('; '));
});

item(71, { level: 'O', section: S12, title: "forcing polling with requests='1' (record; not the default)", timeout: 15_000 }, async (ctx) => {
    const normal = await rawSession(ctx, { wait: WAIT, hold: 1 });
    const polling = await rawSession(ctx, { wait: 0, hold: 0 });
    const hold = Number(normal.attr('hold'));
    const requests = Number(normal.attr('requests'));
    ctx.record(`hold=1 session: hold=${hold} requests=${requests}; hold=0 session: hold=${polling.attr('hold')} requests=${polling.attr('requests')}`);
    assert.ok(requests > 1, `requests='${requests}' forces polling by default`);
    assert.equal(requests, hold + 1, 'requests = hold+1 (§7.2 RECOMMENDED)');
});

item(72, { level: 'O', section: '§14.3', title: 'the same rid re-sent many times (record; bosun: > 8 → policy-violation)', timeout: 30_000 }, async (ctx) => {
    const s = await rawSession(ctx, { wait: 1 });
    await drainFeatures(s);
    const rid = s.next;
    const original = await s.send();
    assert.ok(!isTerminate(original), original.text);
    const xml = poll(s.sid, rid);
    let violationAt = null;
    let replays = 0;
    const other = [];
    for (let i = 1; i <= 50; i++) {
        const r = await ctx.post(xml, { timeoutMs: 10_000 });
        assertBody(r, `resend ${i}`);
        if (isTerminate(r)) {
            assert.ok(isTerminate(r, 'policy-violation'), `resend ${i}: ${r.text}`);
            violationAt = i;
            break;
        }
        if (r.text === original.text) replays++;
        else other.push(`${i}: ${describeResponse(r)}`);
    }
    ctx.record(
        violationAt
            ? `${replays} identical replays, then policy-violation on resend ${violationAt}`
            : `50 resends: ${replays} identical replays${other.length ? `, others: ${other.slice(0, 3).join(', ')}` : ''}`,
    );
    assert.equal(other.length, 0, `resends answered with something other than a replay: ${other.join(', ')}`);
    if (TARGET === 'bosun') {
        assert.equal(violationAt, 9, 'bosun: the 9th resend (more than 8) → policy-violation');
        const after = await s.send();
        assert.ok(isTerminate(after, 'item-not-found'), `session outlived the violation: ${after.text}`);
    }
});
