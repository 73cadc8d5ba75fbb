// Checklist section L: multiple streams (XEP-0124 §16), items 84–86.
//
// Bosun does not support multiple streams. §16.2: support is advertised by a
// 'stream' attribute in the creation response, so Bosun sends none; §16.3:
// a CM without support MUST ignore the extra attributes and treat a
// mid-session <body to=…> as a normal request. These items check exactly
// that answer.

import {
    WAIT,
    assert,
    assertBody,
    describeResponse,
    elementChildren,
    isTerminate,
    item,
    rawSession,
    useStack,
} from './lib.mjs';

useStack({});

item(84, { level: 'M', section: 'XEP-0124 §16.2', title: "multiple streams: 'stream' in the creation response only if supported" }, async (ctx) => {
    const s = await rawSession(ctx);
    const stream = s.attr('stream');
    if (stream === null) ctx.unsupported("no 'stream' attribute in the creation response: multiple streams not offered (§16.2)");
    assert.ok(stream.length >= 8, `stream='${stream}' is not an unpredictable name`);
    ctx.record(`stream='${stream}' advertised`);
});

item(85, { level: 'M', section: 'XEP-0124 §16.3', title: "without multiple streams a mid-session <body to=…> is a normal request", timeout: 20_000 }, async (ctx) => {
    const s = await rawSession(ctx, { wait: WAIT });
    if (!elementChildren(s.res.body).length) await s.send();
    const res = await s.send('', { to: ctx.domain, 'xml:lang': 'en', 'xmpp:version': '1.0', 'xmlns:xmpp': 'urn:xmpp:xbosh' });
    assertBody(res);
    assert.ok(!isTerminate(res), `mid-session to= → ${describeResponse(res)}`);
    const supported = s.attr('stream') !== null;
    if (!supported) assert.equal(res.body.getAttribute('stream'), null, 'a stream was added although none were advertised');
    assert.equal(elementChildren(res.body).length, 0, `not an empty body: ${res.text}`);
    const next = await s.send();
    assert.ok(!isTerminate(next), `the session did not continue: ${describeResponse(next)}`);
    if (!supported) ctx.unsupported(`<body rid sid to='${ctx.domain}' xml:lang='en'/> → empty <body/> after ${res.elapsedMs} ms, session continues (§16.3)`);
    ctx.record('a stream request answered; session continues');
});

item(86, { level: 'M', section: 'XEP-0124 §16.3–§16.6; 0206 §4', title: "multiple streams: unknown 'stream' → item-not-found (only if supported)", timeout: 20_000 }, async (ctx) => {
    const s = await rawSession(ctx, { wait: WAIT });
    if (!elementChildren(s.res.body).length) await s.send();
    const res = await s.send('', { stream: 'bogus' });
    assertBody(res);
    if (s.attr('stream') === null) {
        // without support the attribute is ignored (§16.3 "MUST ignore")
        assert.ok(!isTerminate(res), `stream='bogus' on a CM without streams → ${describeResponse(res)}`);
        const next = await s.send();
        assert.ok(!isTerminate(next), describeResponse(next));
        ctx.unsupported(`no streams advertised: stream='bogus' ignored → ${describeResponse(res)}, session continues`);
    }
    assert.ok(isTerminate(res, 'item-not-found'), `stream='bogus' → ${describeResponse(res)}`);
    ctx.record("stream='bogus' → item-not-found");
});
