// Conformance B: the <body/> wrapper (checklist items 13–16, XEP-0124 §6, §7.2).

import {
    NS,
    assert,
    describeResponse,
    findElement,
    isTerminate,
    item,
    message,
    newSession,
    poll,
    post,
    postBuffer,
    randomRid,
    textOf,
    useStack,
} from './lib.mjs';

useStack();

const FORBIDDEN = /<!--|<\?(?!xml[\s?])|<!DOCTYPE|<!ENTITY/i;

/** The response body, checked to be one well-formed httpbind <body/> (namespace-aware). */
function checkWrapper(res, what) {
    assert.equal(res.status, 200, `${what}: HTTP ${res.status}`);
    assert.ok(res.body, `${what}: not well-formed XML (${res.parseError}): ${res.text.slice(0, 200)}`);
    assert.equal(res.body.localName, 'body', `${what}: root <${res.body.localName}>`);
    assert.equal(res.body.namespaceURI, NS.HTTPBIND, `${what}: root namespace ${res.body.namespaceURI}`);
    assert.ok(!FORBIDDEN.test(res.text), `${what}: comment, PI or DTD in the response: ${res.text.slice(0, 200)}`);
    // no character data directly inside <body/>
    for (let n = res.body.firstChild; n; n = n.nextSibling) {
        assert.ok(n.nodeType === 1 || (n.nodeType === 3 && !n.data.trim()), `${what}: character data in <body/>: ${res.text.slice(0, 200)}`);
    }
}

item(13, { level: 'M', section: '§6', title: 'every response is one well-formed httpbind <body/>', timeout: 30_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const held = bob.send('', {}, 10_000);
    alice.sendInBackground(message(bob.jid, 'n13 <&> "quoted" é ✓'));
    const got = await held;
    const responses = [...alice.responses, ...bob.responses];
    responses.push(got);
    responses.push(await post(ctx.url, poll('no-such-sid-13', randomRid())));
    responses.push(await post(ctx.url, newSession({ to: 'unknown.invalid', rid: randomRid() })));
    responses.push(await alice.terminate());
    await alice.settle();
    responses.push(...alice.responses.slice(-2));
    responses.forEach((r, i) => checkWrapper(r, `response ${i + 1} (${describeResponse(r)})`));
    ctx.record(`${responses.length} responses (creation, features, SASL, bind, messages, errors, terminate) all one httpbind <body/>`);
});

item(14, { level: 'M', section: '§6', title: 'comments, PIs, DTDs and character data in a request → bad-request, nothing forwarded', timeout: 60_000 }, async (ctx) => {
    const bob = await ctx.login(1);
    const bobJid = bob.jid; // the full JID: a bare-JID chat to a user without presence goes to offline storage
    const variants = [
        ['comment', (sid, rid, msg) => `<body rid='${rid}' sid='${sid}' xmlns='${NS.HTTPBIND}'><!-- x -->${msg}</body>`],
        ['processing instruction', (sid, rid, msg) => `<body rid='${rid}' sid='${sid}' xmlns='${NS.HTTPBIND}'><?pi x?>${msg}</body>`],
        ['DOCTYPE prolog', (sid, rid, msg) => `<!DOCTYPE body><body rid='${rid}' sid='${sid}' xmlns='${NS.HTTPBIND}'>${msg}</body>`],
        ['character data', (sid, rid, msg) => `<body rid='${rid}' sid='${sid}' xmlns='${NS.HTTPBIND}'>hello${msg}</body>`],
    ];
    const answers = [];
    for (const [name, build] of variants) {
        const alice = await ctx.login(0);
        const res = await post(ctx.url, build(alice.sid, alice.rid++, message(bobJid, `f14-${name}`)));
        assert.equal(res.status, 200, `${name}: HTTP ${res.status} for a ver='1.6' client`);
        checkWrapper(res, name);
        assert.ok(isTerminate(res, 'bad-request'), `${name}: expected term(bad-request), got ${describeResponse(res)}`);
        answers.push(`${name} → term(bad-request)`);
    }
    // Nothing may have been forwarded: a marker sent afterwards is the first message bob sees.
    const alice = await ctx.login(0);
    alice.sendInBackground(message(bobJid, 'marker-14'));
    await bob.waitFor((el) => el.localName === 'message' && textOf(findElement(el, 'body')) === 'marker-14', 10_000);
    const leaked = bob.responses.flatMap((r) => (r.text.match(/f14-[a-z ]+/g) ?? []));
    assert.deepEqual(leaked, [], `forwarded despite the error: ${leaked.join(', ')}`);
    for (const r of [...bob.responses, ...alice.responses]) checkWrapper(r, 'session response');
    ctx.record(`${answers.join('; ')}; none forwarded`);
});

item(15, { level: 'M', section: '§6', title: 'missing rid, non-body root, wrong namespace → bad-request' }, async (ctx) => {
    const s = await ctx.ready();
    const cases = [
        ['no rid', `<body sid='${s.sid}' xmlns='${NS.HTTPBIND}'/>`],
        ['<foo/> root', `<foo xmlns='${NS.HTTPBIND}'/>`],
        ["xmlns='urn:wrong'", `<body rid='${randomRid()}' to='${ctx.domain}' xmlns='urn:wrong'/>`],
        ['no namespace', `<body rid='${randomRid()}' to='${ctx.domain}'/>`],
        ['truncated XML', `<body rid='${randomRid()}' to='${ctx.domain}' xmlns='${NS.HTTPBIND}'`],
    ];
    const answers = [];
    for (const [name, xml] of cases) {
        const res = await post(ctx.url, xml);
        const ok = res.status === 400 || (res.status === 200 && isTerminate(res, 'bad-request'));
        assert.ok(ok, `${name}: expected term(bad-request) or HTTP 400, got ${describeResponse(res)}`);
        if (ctx.isBosun) assert.equal(res.status, 200, `${name}: Bosun answers with a binding condition, not HTTP ${res.status}`);
        answers.push(`${name} → ${res.status === 400 ? 'HTTP 400' : 'term(bad-request)'}`);
    }
    ctx.record(answers.join('; '));
});

item(16, { level: 'S', section: '§7.2', title: "UTF-8 bodies; other encodings only if listed in 'charsets'", timeout: 20_000 }, async (ctx) => {
    const alice = await ctx.login(0);
    const bob = await ctx.login(1);
    const text = 'n16 é ü ✓ 𝄞';
    alice.sendInBackground(message(bob.jid, text));
    const got = await bob.waitFor((el) => el.localName === 'message' && textOf(findElement(el, 'body'))?.startsWith('n16'), 10_000);
    assert.equal(textOf(findElement(got, 'body')), text, 'UTF-8 text changed on the way');
    const charsets = alice.creation.body.getAttribute('charsets');
    if (!charsets) ctx.unsupported(`no 'charsets': UTF-8 only (UTF-8 '${text}' delivered intact)`);
    const list = charsets.split(/\s+/);
    if (!list.some((c) => /^ISO[_-]?8859-1$/i.test(c))) ctx.unsupported(`charsets='${charsets}' (no ISO-8859-1)`);
    const latin = Buffer.from(`<body rid='${alice.rid++}' sid='${alice.sid}' xmlns='${NS.HTTPBIND}'>${message(bob.jid, 'n16b é')}</body>`, 'latin1');
    alice.inBackground(postBuffer(ctx.url, latin, { headers: { 'Content-Type': 'text/xml; charset=ISO-8859-1' } }));
    const got2 = await bob.waitFor((el) => el.localName === 'message' && textOf(findElement(el, 'body'))?.startsWith('n16b'), 10_000);
    assert.equal(textOf(findElement(got2, 'body')), 'n16b é');
    ctx.record(`charsets='${charsets}'; ISO-8859-1 é delivered as U+00E9`);
});
