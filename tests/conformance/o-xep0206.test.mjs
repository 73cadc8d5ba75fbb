// Checklist section O: XEP-0206 specifics, items 105–112.

import {
    NS,
    WAIT,
    assert,
    assertBody,
    assertTerm,
    describeResponse,
    findElement,
    isTerminate,
    item,
    message,
    randomRid,
    receive,
    sleep,
    textOf,
    uniq,
    useStack,
} from './lib.mjs';

useStack({ inactivity: 10 });

const S5 = 'XEP-0206 §5';

/** create + SASL PLAIN, stopping before the restart. */
async function authenticated(ctx, i = 0) {
    const s = ctx.session({ startRid: randomRid() });
    await s.create({ wait: WAIT });
    await s.authPlain(ctx.users[i].user, ctx.users[i].password);
    await s.settle();
    return s;
}

item(105, { level: 'S', section: 'XEP-0206 §2', title: "stanzas without xmlns are jabber:client; inbound stanzas carry xmlns='jabber:client'", timeout: 30_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const text = uniq('nons');
    alice.sendInBackground(`<message to='${bob.jid}' type='chat'><body>${text}</body></message>`);
    const got = await receive(bob, text, 5000);
    assert.ok(got, 'a stanza without xmlns was not delivered');
    const res = bob.responses.find((r) => r.text.includes(text));
    assert.equal(got.namespaceURI, NS.CLIENT, `inbound message in ${got.namespaceURI}`);
    assert.match(res.text, /<message[^>]*\sxmlns=['"]jabber:client['"]/, 'the inbound stanza does not declare xmlns=jabber:client itself');
    ctx.record("<message/> without xmlns delivered; the recipient's copy carries xmlns='jabber:client'");
});

item(106, { level: 'M', section: 'XEP-0206 §3', title: 'a <stream:stream> from the client → bad-request' }, async (ctx) => {
    const s = ctx.session({ startRid: randomRid() });
    await s.create({ wait: WAIT });
    const rid = s.rid++;
    const res = await ctx.post(`<body rid='${rid}' sid='${s.sid}' xmlns='${NS.HTTPBIND}'><stream:stream xmlns:stream='${NS.STREAM}' to='${ctx.domain}' version='1.0'></stream:stream></body>`);
    s.terminated = res;
    assertTerm(res, 'bad-request');
    const unclosed = await ctx.post(`<body rid='${randomRid()}' sid='${s.sid}' xmlns='${NS.HTTPBIND}'><stream:stream xmlns:stream='${NS.STREAM}' to='${ctx.domain}'></body>`);
    ctx.record(`<stream:stream/> in a body → term(bad-request); an unclosed one → ${describeResponse(unclosed)}`);
    assert.ok(isTerminate(unclosed), describeResponse(unclosed));
});

item(107, { level: 'M', section: S5, title: 'restart: new stream on the same connection, features with <bind/>, bind works', timeout: 30_000 }, async (ctx) => {
    const s = await authenticated(ctx);
    const features = await s.restartForBind();
    assert.ok(findElement(features, 'bind', NS.BIND));
    const resource = uniq('r107');
    const jid = await s.bind(resource);
    assert.equal(jid, `${ctx.users[0].user}@${ctx.domain}/${resource}`);
    ctx.record(`xmpp:restart='true' → features with <bind/>; bound ${jid}`);
});

item(108, { level: 'S', section: S5, title: 'a stanza in the restart body is ignored (record)', timeout: 30_000 }, async (ctx) => {
    const bob = await ctx.login(1);
    const s = await authenticated(ctx);
    const text = uniq('r108');
    const rid = s.rid++;
    s.features = null;
    const res = await ctx.post(`<body rid='${rid}' sid='${s.sid}' to='${ctx.domain}' xml:lang='en' xmpp:restart='true' xmlns:xmpp='${NS.XBOSH}' xmlns='${NS.HTTPBIND}'>${message(bob.jid, text)}</body>`, { timeoutMs: 15_000 });
    assertBody(res);
    s.absorb(res);
    await s.waitForFeatures(10_000, (f) => !!findElement(f, 'bind', NS.BIND));
    const got = await receive(bob, text, 3000);
    ctx.record(`restart body carrying a <message/> → restarted; message ${got ? 'delivered (forwarded)' : 'not delivered (ignored)'}`);
    if (ctx.isBosun) assert.equal(got, null, 'bosun documents that a stanza in a restart body is ignored');
});

item(109, { level: 'M', section: `${S5} (namespaces)`, title: 'restart identified by namespace urn:xmpp:xbosh, any prefix', timeout: 30_000 }, async (ctx) => {
    const s = await authenticated(ctx);
    const rid = s.rid++;
    s.features = null;
    const res = await ctx.post(`<body rid='${rid}' sid='${s.sid}' to='${ctx.domain}' xml:lang='en' x:restart='true' xmlns:x='${NS.XBOSH}' xmlns='${NS.HTTPBIND}'/>`, { timeoutMs: 15_000 });
    assertBody(res);
    s.absorb(res);
    const features = await s.waitForFeatures(10_000, (f) => !!findElement(f, 'bind', NS.BIND));
    assert.ok(features);
    const jid = await s.bind(uniq('r109'));
    ctx.record(`x:restart='true' with xmlns:x='urn:xmpp:xbosh' → new features with <bind/>; bound ${jid}`);
});

item(110, { level: 'S', section: S5, title: 'SASL EXTERNAL: restart from= tied to TLS credentials' }, async (ctx) => {
    const s = await ctx.ready();
    const mechs = [...(findElement(s.features, 'mechanisms', NS.SASL)?.getElementsByTagName('mechanism') ?? [])].map((m) => textOf(m));
    if (!mechs.includes('EXTERNAL')) ctx.na(`the server offers no SASL EXTERNAL (mechanisms: ${mechs.join(' ')}); BOSH clients present no certificate to the CM`);
    ctx.record(`EXTERNAL offered: ${mechs.join(' ')}`);
});

item(111, { level: 'S', section: 'XEP-0206 §7', title: 'undelivered stanzas of a dead session: message → recipient-unavailable, iq → service-unavailable, presence dropped', timeout: 40_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const iqId = uniq('iq111');
    const msgId = uniq('m111');
    // nothing held for alice: these wait in her queue
    bob.sendInBackground(`<iq xmlns='jabber:client' type='get' id='${iqId}' to='${alice.jid}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    bob.sendInBackground(`<message xmlns='jabber:client' type='chat' id='${msgId}' to='${alice.jid}'><body>lost</body></message>`);
    bob.sendInBackground(`<presence xmlns='jabber:client' to='${alice.jid}'/>`);
    await sleep(1000);
    // alice's session dies of inactivity (10 s) with them undelivered
    const iq = await bob.waitFor((el) => el.localName === 'iq' && el.getAttribute('id') === iqId, 25_000);
    const msg = await bob.waitFor((el) => el.localName === 'message' && el.getAttribute('id') === msgId, 5000).catch(() => null);
    alice.terminated = true;
    assert.equal(iq.getAttribute('type'), 'error', iq.toString());
    assert.ok(findElement(iq, 'service-unavailable'), `iq error is not service-unavailable: ${iq.toString()}`);
    if (msg) {
        assert.equal(msg.getAttribute('type'), 'error');
        assert.ok(findElement(msg, 'recipient-unavailable'), msg.toString());
    }
    const presenceErr = bob.inbox.find((el) => el.localName === 'presence' && el.getAttribute('type') === 'error');
    assert.ok(!presenceErr, 'a presence was bounced');
    ctx.record(`after inactivity: iq → ${iq.toString().match(/<(service-unavailable)[^>]*>/)?.[1]}; message → ${msg ? 'recipient-unavailable' : 'no error (stored offline by the server)'}; presence dropped`);
});

item(112, { level: 'M', section: 'RFC 6120 §4.3.3, §4.7; XEP-0206 §3', title: 'the CM stream header: to, from, version, xml:lang; a new stream after SASL', timeout: 30_000 }, async (ctx) => {
    const from = `${ctx.users[0].user}@${ctx.domain}`;
    if (!ctx.isBosun) {
        const s = await ctx.login(0, { from });
        ctx.record(`session with from='${from}' logged in as ${s.jid} (the server-side stream header is not observable)`);
        return;
    }
    const { url, tap } = await ctx.tappedBosun();
    const s = ctx.session({ url });
    const { user, password } = ctx.users[0];
    await s.login(user, password, uniq('r112'), { wait: WAIT, from, lang: 'de' });
    await s.settle();
    const header = tap.firstStreamHeader();
    assert.ok(header, 'no stream header captured');
    assert.equal(header.attrs.to, ctx.domain);
    assert.equal(header.attrs.from, from);
    assert.equal(header.attrs.version, '1.0');
    assert.equal(header.attrs['xml:lang'], 'de');
    const before = s.creation.body.getAttribute('authid');
    const after = s.featuresResponse?.body.getAttribute('authid') ?? null;
    if (before !== null && after !== null) assert.notEqual(before, after, 'authid unchanged after SASL');
    ctx.record(`first upstream header ${header.text} (later ones travel inside TLS); after SASL a new stream gave features with <bind/> and bound ${s.jid}; authid ${before === null ? 'not exposed' : `${before} → ${after}`}`);
});
