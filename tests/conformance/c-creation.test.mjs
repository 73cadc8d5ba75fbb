// Checklist section C: the session creation request (XEP-0124 §7.1, §17.2;
// XEP-0206 §3), items 17–30.

import {
    NS,
    TARGET,
    WAIT,
    assert,
    assertBody,
    assertTerm,
    describeResponse,
    elementChildren,
    findElement,
    isTerminate,
    item,
    newSession,
    poll,
    randomRid,
    rawSession,
    useStack,
} from './lib.mjs';

useStack({});

const S71 = 'XEP-0124 §7.1';

/** "1.10" → [1, 10] (minor compared as an integer, §7.1). */
function version(v) {
    const m = /^(\d+)\.(\d+)$/.exec(v ?? '');
    assert.ok(m, `ver='${v}' is not <major>.<minor>`);
    return [Number(m[1]), Number(m[2])];
}
const cmp = (a, b) => a[0] - b[0] || a[1] - b[1];

item(17, { level: 'M', section: S71, title: 'the first request has no sid; later requests need a valid sid' }, async (ctx) => {
    const s = await rawSession(ctx);
    assert.ok(s.sid.length > 0);
    const bogus = await ctx.post(poll('bogus', s.next));
    const how = assertTerm(bogus, 'item-not-found');
    ctx.record(`creation → sid; sid='bogus' → ${how}`);
});

item(18, { level: 'S', section: `${S71}, §17.2`, title: "no or empty 'to' → improper-addressing" }, async (ctx) => {
    const none = await ctx.post(newSession({ rid: randomRid(), to: null, wait: WAIT }));
    assertTerm(none, 'improper-addressing');
    const empty = await ctx.post(newSession({ rid: randomRid(), to: '', wait: WAIT }));
    assertTerm(empty, 'improper-addressing');
    ctx.record("no 'to' and to='' → term(improper-addressing)");
});

item(19, { level: '—', section: 'XEP-0124 §17.2', title: "a 'to' the CM does not serve → host-unknown" }, async (ctx) => {
    const res = await ctx.post(newSession({ rid: randomRid(), to: 'unknown.invalid', wait: WAIT }));
    assertBody(res);
    ctx.record(`to='unknown.invalid' → ${describeResponse(res)}`);
    assertTerm(res, 'host-unknown');
});

item(20, { level: 'S', section: S71, title: "'route' is ignored by a single-server CM (never an open relay)" }, async (ctx) => {
    const ok = await rawSession(ctx, { route: `xmpp:${ctx.domain}:5222` });
    assert.ok(ok.sid);
    // a route to a closed port: a relay would fail (remote-connection-failed);
    // a CM that ignores route serves the domain from its own configuration.
    const { res } = await ctx.create({ route: 'xmpp:127.0.0.1:1' });
    assertBody(res);
    if (isTerminate(res)) {
        assert.ok(isTerminate(res, 'remote-connection-failed') || isTerminate(res, 'host-unknown'), `route to a closed port → ${res.text}`);
        ctx.record(`route='xmpp:D:5222' works; route='xmpp:127.0.0.1:1' → ${describeResponse(res)} (proxy CM)`);
    } else {
        ctx.record("route='xmpp:D:5222' works; route='xmpp:127.0.0.1:1' ignored: the session goes to D's configured upstream (no relay)");
    }
    // a malformed route is not parsed as a URI and does not break creation
    const odd = await ctx.create({ route: 'not a uri::' });
    assertBody(odd.res);
    assert.ok(!isTerminate(odd.res, 'bad-request'), `route='not a uri::' → ${odd.res.text}`);
});

item(21, { level: 'M', section: 'XEP-0124 §7.2', title: "response 'wait' ≤ requested 'wait'", timeout: 20_000 }, async (ctx) => {
    const asked = 3;
    const s = await rawSession(ctx, { wait: asked });
    const got = Number(s.attr('wait'));
    assert.ok(got <= asked, `wait='${asked}' → wait='${got}'`);
    if (!elementChildren(s.res.body).length) await s.send(); // features first
    const idle = await s.send();
    assertBody(idle);
    assert.ok(idle.elapsedMs <= (got + 1.5) * 1000, `idle poll held ${idle.elapsedMs} ms with wait=${got}`);
    const big = await rawSession(ctx, { wait: 65535 });
    const cap = Number(big.attr('wait'));
    assert.ok(cap <= 65535, `wait='65535' → '${cap}'`);
    ctx.record(`wait=${asked} → ${got} (idle poll ${idle.elapsedMs} ms); wait=65535 → ${cap}`);
});

item(22, { level: 'M', section: `${S71}, §7.2`, title: "response 'hold' never exceeds requested 'hold'" }, async (ctx) => {
    const zero = await rawSession(ctx, { hold: 0 });
    const h0 = zero.attr('hold');
    const five = await rawSession(ctx, { hold: 5 });
    const h5 = Number(five.attr('hold'));
    ctx.record(`hold=0 → hold='${h0}'; hold=5 → hold='${h5}'`);
    assert.equal(h0, '0', `hold='0' answered hold='${h0}'`);
    assert.ok(h5 <= 5, `hold='5' answered hold='${h5}'`);
});

item(23, { level: 'S', section: `${S71}, §7.2`, title: "'ver' minor compared as an integer; response = min(CM, client)" }, async (ctx) => {
    const base = await rawSession(ctx, { ver: '1.6' });
    const v16 = version(base.attr('ver'));
    const ten = await rawSession(ctx, { ver: '1.10' });
    const v110 = version(ten.attr('ver'));
    const five = await rawSession(ctx, { ver: '1.5' });
    const v15 = version(five.attr('ver'));
    ctx.record(`ver 1.6 → ${v16.join('.')}, 1.10 → ${v110.join('.')}, 1.5 → ${v15.join('.')}`);
    assert.ok(cmp(v16, [1, 6]) <= 0, 'response to 1.6 is above 1.6');
    assert.ok(cmp(v110, [1, 10]) <= 0, 'response to 1.10 is above 1.10');
    // 1.10 > 1.6: a CM reading 1.10 as 1.1 would answer less than for 1.6
    assert.ok(cmp(v110, v16) >= 0, `ver='1.10' answered ${v110.join('.')}, below the answer to 1.6: misparsed as 1.1?`);
    assert.ok(cmp(v15, [1, 5]) <= 0, 'response to 1.5 is above 1.5');
});

item(24, { level: 'S', section: '§17.1, §17.2', title: "no 'ver' = legacy client: HTTP 400/403/404 instead of conditions" }, async (ctx) => {
    // a legacy session: a rid above the window ends it with item-not-found = 404
    const legacy = await rawSession(ctx, { ver: null });
    const l = await legacy.sendRid(legacy.rid + 5);
    // with ver: the same error is HTTP 200 + term(item-not-found)
    const modern = await rawSession(ctx, { ver: '1.6' });
    const m = await modern.sendRid(modern.rid + 5);
    ctx.record(`no ver: rid above window → ${describeResponse(l)}; ver=1.6 → ${describeResponse(m)}`);
    assertTerm(m, 'item-not-found');
    assert.equal(l.status, 404, `legacy client got ${describeResponse(l)}, not HTTP 404`);
});

item(25, { level: 'S', section: S71, title: "'xml:lang' is forwarded to the server stream header", timeout: 20_000 }, async (ctx) => {
    if (!ctx.isBosun) {
        const s = await rawSession(ctx, { lang: 'de' });
        ctx.record(`xml:lang='de' → session ${s.sid ? 'created' : 'refused'} (stream header not observable)`);
        return;
    }
    const { url, tap } = await ctx.tappedBosun();
    const s = await rawSession(ctx, { lang: 'de' }, { url });
    const header = tap.firstStreamHeader();
    assert.ok(header, `no stream header captured: ${tap.clientBytes().slice(0, 200)}`);
    assert.equal(header.attrs['xml:lang'], 'de', header.text);
    ctx.record(`xml:lang='de' → session ${s.sid.slice(0, 6)}…; upstream header ${header.text}`);
});

item(26, { level: 'O', section: `${S71}; 0206 §3`, title: "'from' is passed into the server stream header", timeout: 20_000 }, async (ctx) => {
    const from = `${ctx.users[0].user}@${ctx.domain}`;
    if (!ctx.isBosun) {
        const s = await rawSession(ctx, { from });
        ctx.record(`from='${from}' → session ${s.sid ? 'created' : 'refused'} (stream header not observable)`);
        return;
    }
    const { url, tap } = await ctx.tappedBosun();
    await rawSession(ctx, { from }, { url });
    const header = tap.firstStreamHeader();
    assert.ok(header, 'no stream header captured');
    assert.equal(header.attrs.from, from, header.text);
    ctx.record(`from='${from}' → upstream header ${header.text}`);
});

item(27, { level: 'S', section: '0206 §3', title: "'xmpp:version' is forwarded: SASL features arrive", timeout: 20_000 }, async (ctx) => {
    const s = await ctx.ready({ xmppVersion: '1.0' });
    assert.ok(findElement(s.features, 'mechanisms', NS.SASL), 'no SASL mechanisms in the features');
    // without it: record what the CM does
    const { res } = await ctx.create({ xmppVersion: null, 'xmlns:xmpp': null });
    assertBody(res);
    const features = findElement(res.body, 'features', NS.STREAM);
    ctx.record(`xmpp:version='1.0' → SASL mechanisms; without → ${isTerminate(res) ? describeResponse(res) : features ? 'features (version 1.0 assumed)' : 'no features in the creation response'}`);
});

item(28, { level: '—', section: 'XEP-0124 1.7 §7.1', title: "obsolete 'secure' is accepted and ignored" }, async (ctx) => {
    const s = await rawSession(ctx, { secure: 'true' });
    assert.ok(s.sid);
    ctx.record("secure='true' → session created");
});

item(29, { level: 'I', section: '(impl.)', title: "malformed 'rid'/'wait' in the creation request → bad-request" }, async (ctx) => {
    const seen = [];
    for (const [what, attrs] of [
        ["rid='abc'", { rid: 'abc' }],
        ["rid='0'", { rid: 0 }],
        ["rid='-5'", { rid: -5 }],
        ["wait='-1'", { rid: randomRid(), wait: -1 }],
        ['no rid', { rid: undefined }],
    ]) {
        const xml = attrs.rid === undefined
            ? newSession({ rid: 1, wait: WAIT, to: ctx.domain }).replace(" rid='1'", '')
            : newSession({ wait: WAIT, to: ctx.domain, ...attrs });
        const res = await ctx.post(xml);
        seen.push(`${what} → ${describeResponse(res)}`);
        assertTerm(res, 'bad-request', { legacyStatus: 400 });
    }
    const { res } = await ctx.create({ wait: null });
    seen.push(`no wait → ${isTerminate(res) ? describeResponse(res) : `wait='${res.body.getAttribute('wait')}'`}`);
    ctx.record(seen.join('; '));
});

item(30, { level: 'S', section: S71, title: 'creation attributes on later requests are ignored', timeout: 30_000 }, async (ctx) => {
    const W = 4;
    const s = await rawSession(ctx, { wait: W });
    assert.equal(Number(s.attr('wait')), W);
    if (!elementChildren(s.res.body).length) await s.send();
    const first = await s.send('', { wait: 1, hold: 3, to: 'other.invalid', ver: '1.0' });
    assertBody(first);
    assert.ok(!isTerminate(first), describeResponse(first));
    const idle = await s.send();
    assertBody(idle);
    assert.ok(!isTerminate(idle), describeResponse(idle));
    assert.ok(idle.elapsedMs >= (W - 1) * 1000, `after wait='1' on a later request the idle poll lasted ${idle.elapsedMs} ms, not ~${W} s`);
    ctx.record(`wait='1' hold='3' on poll(R+1) ignored: idle polls ${first.elapsedMs} / ${idle.elapsedMs} ms (wait ${W})`);
});

// keep TARGET referenced for readers: items that differ per target say so in their detail
void TARGET;
