// Checklist section D: the session creation response (XEP-0124 §7.2, §9.1,
// §19.3; XEP-0206 §2, §4), items 31–42.

import {
    NS,
    WAIT,
    assert,
    assertBody,
    describeResponse,
    elementChildren,
    findElement,
    isTerminate,
    item,
    newSession,
    rawSession,
    randomRid,
    checkSids,
    useStack,
    xboshAttr,
} from './lib.mjs';

useStack({});

const S72 = 'XEP-0124 §7.2';
const SESSION_ATTRS = ['sid', 'wait', 'requests', 'ver', 'polling', 'inactivity', 'hold', 'accept', 'charsets', 'maxpause'];

/** Creates n sessions (concurrency c) and terminates them again; resolves the sids. */
async function manySids(ctx, n, c = 10) {
    const sids = [];
    let next = 0;
    const worker = async () => {
        while (next < n) {
            next++;
            const rid = randomRid();
            const res = await ctx.post(newSession({ to: ctx.domain, rid, wait: WAIT }), { timeoutMs: 20_000 });
            assertBody(res);
            assert.ok(!isTerminate(res), describeResponse(res));
            const sid = res.body.getAttribute('sid');
            sids.push(sid);
            await ctx.post(`<body rid='${rid + 1}' sid='${sid}' type='terminate' xmlns='${NS.HTTPBIND}'/>`, { timeoutMs: 10_000 });
        }
    };
    await Promise.all(Array.from({ length: c }, worker));
    return sids;
}

item(31, { level: 'M', section: `${S72}, §19.3`, title: 'the sid is unique, unpredictable and never repeats', timeout: 120_000 }, async (ctx) => {
    const sids = await manySids(ctx, 300);
    ctx.record(checkSids(sids));
});

item(32, { level: 'M', section: S72, title: "creation response carries 'sid', 'wait' and 'requests'" }, async (ctx) => {
    const s = await rawSession(ctx);
    for (const a of ['sid', 'wait', 'requests']) assert.ok(s.attr(a), `no '${a}': ${s.res.text.slice(0, 300)}`);
    ctx.record(`sid, wait='${s.attr('wait')}', requests='${s.attr('requests')}'`);
});

item(33, { level: 'S', section: S72, title: "'requests' > 'hold' (RECOMMENDED hold+1)" }, async (ctx) => {
    const s = await rawSession(ctx, { hold: 1 });
    const hold = Number(s.attr('hold') ?? 1);
    const requests = Number(s.attr('requests'));
    assert.ok(requests > hold, `requests=${requests} hold=${hold}`);
    assert.equal(requests, hold + 1, `requests=${requests}, not hold+1`);
    ctx.record(`hold=${hold} → requests=${requests}`);
});

item(34, { level: 'S', section: S72, title: "creation response also carries 'ver', 'polling', 'inactivity', 'hold', 'from'" }, async (ctx) => {
    const s = await rawSession(ctx);
    const missing = ['ver', 'polling', 'inactivity', 'hold', 'from'].filter((a) => !s.attr(a));
    ctx.record(missing.length ? `missing: ${missing.join(', ')}` : `all present (from='${s.attr('from')}')`);
    assert.deepEqual(missing, [], `missing ${missing.join(', ')}`);
});

item(35, { level: 'S', section: S72, title: 'session attributes appear only in the creation response', timeout: 30_000 }, async (ctx) => {
    const s = await ctx.login(0);
    await s.send(); // one idle poll too
    const later = s.responses.filter((r) => r !== s.creation);
    assert.ok(later.length >= 3, `${later.length} later responses`);
    for (const r of later) {
        const found = SESSION_ATTRS.filter((a) => r.body.hasAttribute(a));
        assert.deepEqual(found, [], `a later response carries ${found.join(', ')}: ${r.text.slice(0, 200)}`);
    }
    ctx.record(`${later.length} later responses: none carries ${SESSION_ATTRS.join('/')}`);
});

item(36, { level: 'O', section: S72, title: "'accept', 'charsets', 'maxpause' (record); 'from' now or on the next response" }, async (ctx) => {
    const s = await rawSession(ctx);
    let from = s.attr('from');
    if (!from) {
        const next = await s.send();
        from = next.body?.getAttribute('from');
    }
    const rec = ['accept', 'charsets', 'maxpause'].map((a) => `${a}=${s.attr(a) === null ? '(absent)' : `'${s.attr(a)}'`}`);
    ctx.record(`${rec.join(', ')}; from='${from}'`);
    assert.ok(from, "'from' neither in the creation response nor in the next one");
    if (ctx.isBosun) assert.ok(s.attr('maxpause'), 'bosun offers pause: maxpause expected');
});

item(37, { level: 'M', section: 'XEP-0124 §9.1', title: "a CM that acks puts ack='R' on the creation response", timeout: 30_000 }, async (ctx) => {
    const rid = randomRid();
    const s = ctx.session({ startRid: rid });
    await s.login(ctx.users[0].user, ctx.users[0].password, 'c37', { wait: WAIT, ack: 1 });
    await s.settle();
    await s.send();
    const acked = s.responses.filter((r) => r !== s.creation && r.body.hasAttribute('ack'));
    const creationAck = s.creation.body.getAttribute('ack');
    ctx.record(`creation ack='${creationAck}'; ${acked.length} of ${s.responses.length - 1} later responses carry ack`);
    if (acked.length) assert.equal(creationAck, String(rid), `later responses ack but the creation response has ack='${creationAck}', not '${rid}'`);
    if (creationAck !== null) assert.equal(creationAck, String(rid));
});

item(38, { level: 'S', section: '0206 §4', title: 'stream features in the creation response or the next one' }, async (ctx) => {
    const s = await rawSession(ctx);
    let where = 'creation response';
    let f = findElement(s.res.body, 'features', NS.STREAM);
    if (!f) {
        const next = await s.send();
        f = findElement(next.body, 'features', NS.STREAM);
        where = 'answer to R+1';
    }
    assert.ok(f, 'no <stream:features/> in the creation response or the next');
    assert.ok(findElement(f, 'mechanisms', NS.SASL), 'features without SASL mechanisms');
    ctx.record(`features with SASL mechanisms in the ${where}`);
});

item(39, { level: 'M', section: '0206 §2', title: "a body carrying stream elements declares xmlns:stream on <body/>", timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const carrying = s.responses.filter((r) => elementChildren(r.body).some((e) => e.namespaceURI === NS.STREAM));
    assert.ok(carrying.length >= 2, `${carrying.length} responses with stream elements`);
    for (const r of carrying) {
        assert.equal(r.body.getAttribute('xmlns:stream'), NS.STREAM, `<body/> without xmlns:stream: ${r.text.slice(0, 200)}`);
        for (const e of elementChildren(r.body).filter((x) => x.localName === 'features')) assert.equal(e.namespaceURI, NS.STREAM);
    }
    ctx.record(`${carrying.length} bodies with <stream:features/>: each declares xmlns:stream on <body/>`);
});

item(40, { level: 'M', section: '0206 §4', title: "xmpp:restartlogic='true' is advertised" }, async (ctx) => {
    const s = await rawSession(ctx);
    const v = xboshAttr(s.res.body, 'restartlogic');
    ctx.record(`xmpp:restartlogic=${v === null ? '(absent)' : `'${v}'`}`);
    assert.equal(v, 'true', 'restarts are supported (item 107) but restartlogic is not advertised');
});

item(41, { level: 'O', section: '0206 §4', title: "'authid' (obsolete): if present, it changes after the restart", timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const before = s.creation.body.getAttribute('authid');
    const after = s.featuresResponse?.body.getAttribute('authid');
    if (before === null) {
        ctx.record("no 'authid' (obsolete, only XEP-0078 needs it)");
        return;
    }
    ctx.record(`authid '${before}' → '${after}' after the restart`);
    if (after !== null) assert.notEqual(after, before, 'the stream id did not change across the restart');
});

item(42, { level: 'S', section: '0206 §2, §4', title: 'no <starttls/> or XEP-0138 compression in the features after creation' }, async (ctx) => {
    const s = await ctx.ready();
    const tls = findElement(s.features, 'starttls', NS.TLS);
    const comp = findElement(s.features, 'compression', 'http://jabber.org/features/compress');
    ctx.record(`starttls ${tls ? 'offered' : 'absent'}, compression ${comp ? 'offered' : 'absent'}`);
    assert.ok(!tls, 'the features offer <starttls/> inside BOSH');
    assert.ok(!comp, 'the features offer stream compression inside BOSH');
});
