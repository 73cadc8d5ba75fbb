// Conformance A: the HTTP layer (checklist items 1–12, XEP-0124 §4, §5, §18, §19, §20; XEP-0252).

import zlib from 'node:zlib';
import {
    NS,
    WAIT,
    assert,
    assertBody,
    describeResponse,
    elementChildren,
    headline,
    httpRequest,
    isTerminate,
    item,
    newSession,
    parseXmlSafe,
    poll,
    post,
    postBuffer,
    randomRid,
    rawHttp,
    rawPost,
    stillPending,
    timed,
    useStack,
} from './lib.mjs';

const APP_ORIGIN = 'https://app.example';

useStack({ httpConfig: { cors_allowed_origins: [APP_ORIGIN], trusted_proxies: ['127.0.0.1'] } });

item(1, { level: 'M', section: '0124 §5', title: 'RFC 2616 requests: unknown headers ignored, answer has Content-Length' }, async (ctx) => {
    // node:http sends no User-Agent unless told to
    const { res, sid } = await ctx.create({}, { headers: { Cookie: 'a=b; c=d', 'X-Foo': 'bar', 'X-Requested-With': 'nothing' } });
    const b = assertBody(res, 'creation with extra headers');
    assert.ok(!isTerminate(res), `refused: ${res.text}`);
    assert.ok(sid, 'no sid');
    assert.equal(b.localName, 'body');
    assert.ok(res.headers['content-length'], 'Content-Length missing');
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.text), 'Content-Length does not match the body');
    // all data travels in POST bodies: the endpoint does not run BOSH over GET without a query
    const get = await httpRequest(ctx.url);
    // the status line is exactly "HTTP/1.1 200 OK": some clients (Tsung) reject another reason phrase
    const raw = await rawHttp(ctx.url, rawPost(ctx.url, newSession({ to: ctx.domain, rid: randomRid(), wait: WAIT })));
    const statusLine = raw.responses[0]?.statusLine ?? raw.raw.split('\r\n')[0];
    assert.equal(statusLine, 'HTTP/1.1 200 OK', `status line '${statusLine}'`);
    const rawSid = raw.responses[0]?.body?.getAttribute('sid');
    if (rawSid) await ctx.post(`<body rid='${randomRid()}' sid='${rawSid}' type='terminate' xmlns='${NS.HTTPBIND}'/>`).catch(() => {});
    ctx.record(`extra Cookie/X-Foo headers, no User-Agent → HTTP ${res.status}, session created; status line '${statusLine}'; GET → HTTP ${get.status}`);
    assert.ok(!/<body[^>]*\bsid=/.test(get.text), 'GET created a session');
});

item(2, { level: 'S', section: '0124 §5', title: 'the request Content-Type is ignored' }, async (ctx) => {
    const seen = [];
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
        const { res, sid } = await ctx.create({}, { headers: { 'Content-Type': type } });
        assertBody(res, `Content-Type: ${type}`);
        assert.ok(!isTerminate(res) && sid, `Content-Type ${type}: ${describeResponse(res)}`);
        seen.push(type);
    }
    ctx.record(`session created with ${seen.join(', ')}`);
});

item(3, { level: 'S', section: '0124 §5', title: 'no chunked transfer coding, also on held responses', timeout: 20_000 }, async (ctx) => {
    const agent = ctx.agent(); // one keep-alive socket for everything
    const s = await ctx.ready({}, { agent });
    const held = await s.send('', {}, 10_000); // idle: held for wait
    const term = await s.terminate();
    const all = [...s.responses, held, term];
    for (const r of all) {
        assert.equal(r.headers['transfer-encoding'], undefined, `Transfer-Encoding: ${r.headers['transfer-encoding']} on ${describeResponse(r)}`);
        assert.ok(r.headers['content-length'], `no Content-Length on ${describeResponse(r)}`);
        assert.notEqual(r.headers.connection?.toLowerCase(), 'close', 'the server closed the keep-alive connection');
    }
    assert.ok(held.elapsedMs >= (WAIT - 1) * 1000, `the idle poll was not held (${held.elapsedMs} ms)`);
    ctx.record(`${all.length} responses on one keep-alive socket (one held ${held.elapsedMs} ms): all Content-Length, none chunked`);
});

item(4, { level: 'O', section: '0124 §5', title: 'response compression follows Accept-Encoding' }, async (ctx) => {
    const rid = randomRid();
    // the creation response carries the stream features: big enough to be worth compressing
    const gz = await postBuffer(ctx.url, newSession({ to: ctx.domain, rid, wait: WAIT }), { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(gz.status, 200);
    const encoding = gz.headers['content-encoding'];
    let text;
    if (encoding) {
        assert.equal(encoding, 'gzip', `Content-Encoding ${encoding} was not offered (Accept-Encoding: gzip)`);
        text = zlib.gunzipSync(gz.buffer).toString('utf8');
        assert.equal(Number(gz.headers['content-length']), gz.buffer.length, 'Content-Length is not the compressed length');
        assert.match(gz.headers.vary ?? '', /accept-encoding/i, 'no Vary: Accept-Encoding on a compressed response');
    } else {
        text = gz.buffer.toString('utf8');
    }
    const doc = parseXmlSafe(text);
    assert.ok(doc && doc.localName === 'body' && doc.namespaceURI === NS.HTTPBIND, `not a <body/> after decoding: ${text.slice(0, 200)}`);
    const sid = doc.getAttribute('sid');
    // identity only → never compressed
    const plain = await postBuffer(ctx.url, poll(sid, rid + 1), { headers: { 'Accept-Encoding': 'identity' } });
    assert.equal(plain.headers['content-encoding'], undefined, 'compressed although only identity was accepted');
    assert.ok(parseXmlSafe(plain.buffer.toString('utf8')), 'identity response is not XML');
    // and no Accept-Encoding at all → never compressed
    const none = await postBuffer(ctx.url, `<body rid='${rid + 2}' sid='${sid}' type='terminate' xmlns='${NS.HTTPBIND}'/>`);
    assert.equal(none.headers['content-encoding'], undefined, 'compressed without Accept-Encoding');
    if (!encoding) {
        // Bosun documents gzip whenever the client accepts it
        assert.ok(!ctx.isBosun, 'Accept-Encoding: gzip but the response is not compressed');
        ctx.unsupported('no compression: identity responses whatever Accept-Encoding says (MAY)');
    }
    ctx.record(`Accept-Encoding: gzip → Content-Encoding: gzip (${gz.buffer.length} bytes for ${Buffer.byteLength(text)}); identity / none → uncompressed`);
});

item(5, { level: 'O', section: '0124 §7.2, §5', title: "'accept': compressed request bodies" }, async (ctx) => {
    const { res, sid, rid } = await ctx.create();
    const b = assertBody(res, 'creation');
    const accept = b.getAttribute('accept');
    if (!accept) {
        ctx.unsupported("no 'accept' attribute: the client must send uncompressed bodies (§7.2)");
    }
    const codings = accept.split(/[\s,]+/).filter(Boolean);
    assert.ok(codings.length, `empty accept='${accept}'`);
    if (!codings.includes('gzip')) ctx.unsupported(`accept='${accept}' (gzip not offered)`);
    const data = zlib.gzipSync(Buffer.from(poll(sid, rid + 1), 'utf8'));
    const r = await postBuffer(ctx.url, data, { headers: { 'Content-Encoding': 'gzip' } });
    assert.equal(r.status, 200, `gzip request → HTTP ${r.status}`);
    const text = r.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(r.buffer).toString('utf8') : r.buffer.toString('utf8');
    const doc = parseXmlSafe(text);
    assert.ok(doc, `not XML: ${text.slice(0, 200)}`);
    assert.notEqual(doc.getAttribute('type'), 'terminate', `gzip request refused: ${text}`);
    ctx.record(`accept='${accept}'; a gzip-compressed poll was answered normally`);
});

item(6, { level: 'M', section: '0124 §7.1', title: "'content' sets the Content-Type of every response", timeout: 20_000 }, async (ctx) => {
    const CT = 'text/html; charset=utf-8';
    const s = ctx.session();
    const created = await s.create({ wait: WAIT, content: CT });
    await s.waitForFeatures(10_000);
    await s.settle();
    const idle = await s.send('', {}, 10_000);
    const term = await s.terminate();
    const got = [...s.responses, idle, term].map((r) => r.headers['content-type']);
    for (const [i, ct] of got.entries()) assert.equal(ct, CT, `response ${i + 1} of ${got.length}: Content-Type '${ct}' with content='${CT}'`);
    assert.ok(created);
    // without 'content': exactly text/xml; charset=utf-8
    const plain = await ctx.ready();
    const p = await plain.send('', {}, 10_000);
    for (const r of [...plain.responses, p]) {
        assert.match(r.headers['content-type'] ?? '', /^text\/xml; ?charset=utf-8$/i, `default Content-Type '${r.headers['content-type']}'`);
    }
    ctx.record(`content='${CT}' → ${got.length} responses with it; without → '${p.headers['content-type']}'`);
});

item(7, { level: 'I', section: '0124 §4', title: 'one session over several concurrent sockets', timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const [a, b] = [ctx.agent(), ctx.agent()];
    const r1 = s.rid++;
    const r2 = s.rid++;
    const A = timed(post(ctx.url, poll(s.sid, r1), { agent: a }));
    assert.ok(await stillPending(A, 400), 'socket A: poll(R+1) was not held');
    const sentB = Date.now();
    const B = timed(post(ctx.url, poll(s.sid, r2, headline(`${ctx.users[1].user}@${ctx.domain}`, 'n7')), { agent: b }));
    const { value: resA, at } = await A;
    assertBody(resA, 'socket A');
    assert.ok(!isTerminate(resA), describeResponse(resA));
    const delay = at - sentB;
    assert.ok(delay < 1000, `socket A answered ${delay} ms after B's request`);
    assert.ok(await stillPending(B, 400), 'socket B (poll(R+2, msg)) was not held after A was answered');
    const { value: resB } = await B;
    assertBody(resB, 'socket B');
    assert.ok(!isTerminate(resB), describeResponse(resB));
    s.rid = r2 + 1;
    ctx.record(`A held, B arrives on another socket → A answered ${delay} ms later (${describeResponse(resA)}), B held then ${describeResponse(resB)}`);
});

item(8, { level: 'S', section: '0124 §18.1', title: 'a pipelining client is served in order', timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const r1 = s.rid++;
    const r2 = s.rid++;
    const out = await rawHttp(
        ctx.url,
        [rawPost(ctx.url, poll(s.sid, r1)), rawPost(ctx.url, poll(s.sid, r2, headline(`${ctx.users[1].user}@${ctx.domain}`, 'n8')))],
        { count: 2, timeoutMs: (3 * WAIT + 4) * 1000 },
    );
    assert.equal(out.responses.length, 2, `${out.responses.length} of 2 pipelined requests answered (socket ${out.closed ? 'closed' : 'open'}): ${out.raw.slice(0, 300)}`);
    const [x, y] = out.responses;
    for (const r of out.responses) {
        assert.equal(r.status, 200);
        assert.ok(r.body && r.body.localName === 'body' && r.body.namespaceURI === NS.HTTPBIND, r.text);
        assert.notEqual(r.body.getAttribute('type'), 'terminate', r.text);
    }
    const gap = y.at - x.at;
    assert.ok(gap <= (WAIT + 1) * 1000, `second response ${gap} ms after the first (wait=${WAIT})`);
    ctx.record(`both pipelined requests answered in order: first after ${x.at} ms, second ${gap} ms later`);
});

item(9, { level: 'M', section: '0124 §19.1', title: 'a TLS session is not continued over plain HTTP' }, async (ctx) => {
    // TLS ends at the front proxy; the proxy tells the scheme in
    // X-Forwarded-Proto, believed from trusted_proxies only (127.0.0.1 here).
    const overTls = { headers: { 'X-Forwarded-Proto': 'https' } };
    const { res, sid, rid } = await ctx.create({}, overTls);
    assert.ok(sid && !isTerminate(res), `creation over https refused: ${describeResponse(res)}`);
    // the same request over plain HTTP: the connection is closed, no body
    let plain;
    try {
        const answer = await ctx.post(poll(sid, rid + 1), { timeoutMs: 5000 });
        plain = `answered HTTP ${answer.status}: ${answer.text.slice(0, 120)}`;
    } catch (err) {
        plain = null;
        assert.doesNotMatch(err.message, /no response within/, 'plain request neither answered nor closed');
    }
    assert.equal(plain, null, `plain HTTP request for a TLS session was ${plain}`);
    // the session is not terminated: the same rid over https still works
    const again = await ctx.post(poll(sid, rid + 1), { ...overTls, timeoutMs: (WAIT + 5) * 1000 });
    assert.equal(again.status, 200);
    assert.ok(!isTerminate(again), `session ended by the plain request: ${describeResponse(again)}`);
    ctx.record('created with X-Forwarded-Proto: https; poll over plain HTTP → connection closed, no body; same rid over https → answered, session alive');
});

item(10, { level: 'I', section: '0252 §2.2–§4', title: 'Script Syntax GET and non-cacheable responses' }, async (ctx) => {
    const script = await httpRequest(`${ctx.url}?${encodeURIComponent(`<body rid='${randomRid()}' to='${ctx.domain}' xmlns='${NS.HTTPBIND}'/>`)}`);
    const isScript = /^\s*_BOSH_\(/.test(script.text);
    let answer;
    if (isScript) {
        const cc = script.headers['cache-control'] ?? '';
        assert.match(cc, /no-store/, 'Script Syntax without Cache-Control: no-store');
        assert.match(cc, /no-cache/, 'Script Syntax without Cache-Control: no-cache');
        assert.match(script.headers.pragma ?? '', /no-cache/, 'Script Syntax without Pragma: no-cache');
        answer = 'Script Syntax with no-cache headers';
    } else {
        const notFound = script.status === 404 || /condition=['"]item-not-found/.test(script.text);
        assert.ok(notFound, `GET with a <body/> query → HTTP ${script.status} ${script.text.slice(0, 120)} (neither Script Syntax nor 404/item-not-found)`);
        answer = `Script Syntax unsupported → HTTP ${script.status}`;
    }
    const { res } = await ctx.create();
    const cc = res.headers['cache-control'] ?? '';
    assert.ok(!/\bpublic\b/i.test(cc), `POST response Cache-Control: ${cc}`);
    if (res.headers.expires) {
        const t = Date.parse(res.headers.expires);
        assert.ok(Number.isNaN(t) || t <= Date.now() + 1000, `POST response Expires in the future: ${res.headers.expires}`);
    }
    ctx.record(`${answer}; POST Cache-Control: '${cc || 'none'}'${res.headers.pragma ? `, Pragma: ${res.headers.pragma}` : ''}`);
});

item(11, { level: 'I', section: 'practice (CORS)', title: 'CORS preflight and ACAO on POST' }, async (ctx) => {
    const pre = await httpRequest(ctx.url, {
        method: 'OPTIONS',
        headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.ok(pre.status >= 200 && pre.status < 300, `preflight → HTTP ${pre.status}`);
    const acao = pre.headers['access-control-allow-origin'];
    assert.ok(acao === '*' || acao === APP_ORIGIN, `preflight ACAO '${acao}'`);
    const methods = (pre.headers['access-control-allow-methods'] ?? '').split(/\s*,\s*/).map((m) => m.toUpperCase());
    assert.ok(methods.includes('POST'), `Allow-Methods '${pre.headers['access-control-allow-methods']}'`);
    const headers = (pre.headers['access-control-allow-headers'] ?? '').split(/\s*,\s*/).map((h) => h.toLowerCase());
    assert.ok(headers.includes('content-type') || headers.includes('*'), `Allow-Headers '${pre.headers['access-control-allow-headers']}'`);
    const { res } = await ctx.create({}, { headers: { Origin: APP_ORIGIN } });
    assertBody(res);
    const postAcao = res.headers['access-control-allow-origin'];
    assert.ok(postAcao === '*' || postAcao === APP_ORIGIN, `POST ACAO '${postAcao}'`);
    // a foreign origin: Bosun answers only listed origins (its documented choice, never '*')
    const foreign = await httpRequest(ctx.url, {
        method: 'OPTIONS',
        headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    const foreignAcao = foreign.headers['access-control-allow-origin'];
    if (ctx.isBosun) {
        assert.equal(acao, APP_ORIGIN, 'Bosun echoes the listed origin, never *');
        assert.equal(foreignAcao, undefined, `unlisted origin got ACAO '${foreignAcao}'`);
    }
    ctx.record(
        `preflight HTTP ${pre.status}, ACAO '${acao}', methods '${pre.headers['access-control-allow-methods']}', headers '${pre.headers['access-control-allow-headers']}', max-age ${pre.headers['access-control-max-age'] ?? '-'}; POST ACAO '${postAcao}'; unlisted origin → HTTP ${foreign.status}, ACAO '${foreignAcao ?? 'none'}'`,
    );
});

item(12, { level: 'I', section: '0124 §20; 0156', title: 'port 5280 and host-meta discovery' }, async (ctx) => {
    ctx.na('deployment: host-meta (XEP-0156) is served by the web server of the domain; Bosun’s default listen port is 5280');
});
