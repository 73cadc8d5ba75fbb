// Checklist section M: terminal binding conditions and other error handling
// (XEP-0124 §17; XEP-0206 §6), items 87–102.
//
// Faults a real server cannot produce on demand are made by the harness:
// a closed port, an upstream certificate nobody trusts, an unresolvable
// host, a relay that drops the upstream link, a SIGTERM to a private bosun.

import path from 'node:path';
import {
    NS,
    WAIT,
    assert,
    assertBody,
    assertTerm,
    bareJid,
    describeResponse,
    elementChildren,
    findElement,
    isTerminate,
    item,
    newSession,
    poll,
    post,
    randomRid,
    rawSend,
    rawSession,
    sleep,
    stillPending,
    uniq,
    useStack,
} from './lib.mjs';
import { makeCert } from '../harness/certs.mjs';
import { freePort } from '../harness/ports.mjs';
import { makeTempDir, removeTempDir } from '../harness/proc.mjs';

const MAX_BODY = 65536;
useStack({ httpConfig: { max_body_bytes: MAX_BODY }, boshConfig: { max_stanza_bytes: 32768 } });

const S172 = 'XEP-0124 §17.2';

/** A private bosun for one item (stopped after it). */
async function privateBosun(ctx, opts) {
    const { startBosun } = await import('../harness/bosun.mjs');
    const b = await startBosun({ domain: ctx.domain, tls: 'required', caFile: ctx.stack.prosody.caFile, upstreamPort: ctx.stack.prosody.c2sPort, ...opts });
    ctx.onCleanup(() => b.stop());
    return b;
}

/** Waits until the bosun log matches re (the log line is written asynchronously). */
async function logMatches(b, re, ms = 3000) {
    const until = Date.now() + ms;
    while (Date.now() < until) {
        if (re.test(b.logs())) return true;
        await sleep(50);
    }
    return re.test(b.logs());
}

function bosunOnly(ctx, why) {
    if (!ctx.isBosun) ctx.na(`needs a private CM instance with an injected fault (${why}); the Prosody target serves BOSH in-process`);
}

item(87, { level: 'M', section: S172, title: 'bad-request for syntax errors' }, async (ctx) => {
    const seen = [];
    const cases = [
        ['<notbody/>', () => `<notbody rid='${randomRid()}' xmlns='${NS.HTTPBIND}'/>`],
        ["rid='x'", (s) => `<body rid='x' sid='${s.sid}' xmlns='${NS.HTTPBIND}'/>`],
        ['a comment', (s) => `<body rid='${s.next}' sid='${s.sid}' xmlns='${NS.HTTPBIND}'><!-- x --></body>`],
        ['truncated XML', (s) => `<body rid='${s.next}' sid='${s.sid}' xmlns='${NS.HTTPBIND}'><message`],
    ];
    for (const [what, make] of cases) {
        const s = await rawSession(ctx);
        const res = await ctx.post(make(s));
        seen.push(`${what} → ${describeResponse(res)}`);
        assertTerm(res, 'bad-request');
        if (what !== '<notbody/>') {
            const after = await s.send();
            assert.ok(isTerminate(after), `the session survived ${what}: ${describeResponse(after)}`);
        }
    }
    ctx.record(seen.join('; '));
});

item(88, { level: '—', section: S172, title: 'host-gone: a domain no longer served' }, async (ctx) => {
    ctx.na('the served domains are fixed while the CM runs (no reload, no vhost removal), so no domain can stop being served: host-gone is never due; an unserved domain is host-unknown (#89)');
});

item(89, { level: '—', section: S172, title: "host-unknown: a 'to' the CM does not serve" }, async (ctx) => {
    const res = await ctx.post(newSession({ rid: randomRid(), to: 'nowhere.invalid', wait: WAIT }));
    ctx.record(`to='nowhere.invalid' → ${describeResponse(res)}`);
    assertTerm(res, 'host-unknown');
});

item(90, { level: '—', section: S172, title: "improper-addressing: no 'to'" }, async (ctx) => {
    const res = await ctx.post(newSession({ rid: randomRid(), to: null, wait: WAIT }));
    ctx.record(`no 'to' → ${describeResponse(res)}`);
    assertTerm(res, 'improper-addressing');
});

item(91, { level: '—', section: S172, title: 'internal-server-error rather than HTTP 500' }, async (ctx) => {
    ctx.na('no internal fault can be injected from outside; a failing session service is answered HTTP 200 with term(internal-server-error), never an HTTP 500 (src/http/server.cpp service_failure; unit test tests/unit/http/server_test.cpp throwing_service_gives_internal_server_error_and_keeps_connection_91)');
});

item(92, { level: 'M', section: S172, title: 'item-not-found: invalid sid, rid above the window, response gone', timeout: 30_000 }, async (ctx) => {
    const a = await ctx.post(poll('no-such-sid', randomRid()));
    assertTerm(a, 'item-not-found');
    const s = await rawSession(ctx);
    const b = await s.sendRid(s.rid + 3);
    assertTerm(b, 'item-not-found');
    const u = await ctx.login(0);
    const first = u.rid;
    for (let i = 0; i < 4; i++) await u.send(`<presence xmlns='jabber:client'/>`);
    const c = await ctx.post(poll(u.sid, first));
    assertTerm(c, 'item-not-found');
    u.terminated = c;
    ctx.record('bogus sid, rid above the window and a rid no longer buffered → term(item-not-found) (invalid key: #82; invalid stream: #86)');
});

item(93, { level: '—', section: S172, title: 'other-request on the other held requests', timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const r = s.rid;
    const A = ctx.post(poll(s.sid, r), { agent: ctx.agent() });
    assert.ok(await stillPending(A, 400), 'poll(R+1) not held');
    const B = await ctx.post(poll(s.sid, r + 3), { agent: ctx.agent() });
    assertTerm(B, 'item-not-found');
    const resA = await A;
    s.terminated = B;
    ctx.record(`B (out of window) → ${describeResponse(B)}; held A → ${describeResponse(resA)}`);
    assert.ok(isTerminate(resA, 'other-request') || (resA.body && !isTerminate(resA)), `A → ${describeResponse(resA)}`);
});

item(94, { level: '—', section: S172, title: 'policy-violation for abuse (polling too often)', timeout: 20_000 }, async (ctx) => {
    const s = await rawSession(ctx, { wait: 0, hold: 0 });
    const polling = Number(s.attr('polling'));
    const first = await s.send();
    assert.ok(!isTerminate(first), describeResponse(first));
    const second = await s.send();
    const third = isTerminate(second) ? second : await s.send();
    ctx.record(`polling=${polling}: empty polls back to back → ${describeResponse(second)}${third === second ? '' : `, then ${describeResponse(third)}`}`);
    if (!ctx.isBosun && !isTerminate(third)) ctx.na('the CM does not police polling (see #69)');
    assertTerm(third, 'policy-violation');
});

item(95, { level: '—', section: S172, title: 'remote-connection-failed, with the exact cause in the log', timeout: 60_000 }, async (ctx) => {
    bosunOnly(ctx, 'a closed upstream port, an untrusted certificate, a dropped link');
    const seen = [];
    // (a) connection refused
    const closed = await freePort();
    const b1 = await privateBosun(ctx, { upstreamPort: closed });
    const r1 = await post(b1.url, newSession({ rid: randomRid(), to: ctx.domain, wait: WAIT }));
    assertTerm(r1, 'remote-connection-failed');
    assert.ok(await logMatches(b1, /refused/i), `no "refused" in the log:\n${b1.logs().slice(-1500)}`);
    seen.push('closed port → term(remote-connection-failed), log says refused');
    // (b) TLS certificate nobody trusts
    const dir = makeTempDir('untrusted');
    ctx.onCleanup(() => removeTempDir(dir));
    const other = await makeCert(path.join(dir, 'c'), [ctx.domain]);
    const b2 = await privateBosun(ctx, { caFile: other.certFile });
    const r2 = await post(b2.url, newSession({ rid: randomRid(), to: ctx.domain, wait: WAIT }));
    assertTerm(r2, 'remote-connection-failed');
    assert.ok(await logMatches(b2, /certificate|verif/i), `no certificate error in the log:\n${b2.logs().slice(-1500)}`);
    seen.push('untrusted certificate → term(remote-connection-failed), log names the verification failure');
    // (c) DNS failure
    const b3 = await privateBosun(ctx, { upstreamHost: 'upstream.invalid' }).catch((e) => e);
    if (b3 instanceof Error) {
        seen.push(`unresolvable host: refused by the configuration (${b3.message.split('\n')[0].slice(0, 80)})`);
    } else {
        const r3 = await post(b3.url, newSession({ rid: randomRid(), to: ctx.domain, wait: WAIT }), { timeoutMs: 20_000 });
        assertTerm(r3, 'remote-connection-failed');
        assert.ok(await logMatches(b3, /resolv|host|not found|name/i), `no resolver error in the log:\n${b3.logs().slice(-1500)}`);
        seen.push('unresolvable host → term(remote-connection-failed), log names the resolver error');
    }
    // (d) the upstream link drops while a poll is held
    const { url, tap, bosun } = await ctx.tappedBosun();
    const s = ctx.session({ url });
    await s.login(ctx.users[0].user, ctx.users[0].password, uniq('r95'), { wait: 10 });
    await s.settle();
    const held = post(url, poll(s.sid, s.rid++), { timeoutMs: 15_000 });
    assert.ok(await stillPending(held, 300), 'poll not held');
    await tap.stop();
    const r4 = await held;
    s.terminated = r4;
    assertTerm(r4, 'remote-connection-failed');
    assert.ok(await logMatches(bosun, /upstream (closed|lost|eof|reset)|end of file|reset|closed/i), `no cause in the log:\n${bosun.logs().slice(-1500)}`);
    seen.push('link dropped → held poll gets term(remote-connection-failed)');
    ctx.record(seen.join('; '));
});

item(96, { level: '—', section: `${S172}; 0206 §6`, title: 'remote-stream-error carries the stream error (conflict)', timeout: 30_000 }, async (ctx) => {
    const resource = uniq('same');
    const first = await ctx.login(0, { resource });
    const held = rawSend(ctx, first, '', {}, { timeoutMs: 20_000 });
    assert.ok(await stillPending(held, 300), 'poll not held');
    await ctx.login(0, { resource });
    const res = await held;
    first.terminated = res;
    assertBody(res);
    ctx.record(`same full JID logged in again → ${describeResponse(res)}: ${res.text.slice(0, 300)}`);
    assertTerm(res, 'remote-stream-error');
    assert.equal(res.body.getAttribute('xmlns:stream'), NS.STREAM, 'no xmlns:stream on the body');
    const kids = elementChildren(res.body);
    const last = kids[kids.length - 1];
    assert.ok(last && last.localName === 'error' && last.namespaceURI === NS.STREAM, 'the last child is not <stream:error/>');
    assert.ok(findElement(last, 'conflict', NS.STREAMS_ERR), 'no <conflict/> in the stream error');
});

item(97, { level: '—', section: S172, title: 'see-other-uri' }, async (ctx) => {
    ctx.na('the CM operates at every URI it listens on (TLS is the front proxy’s job): it never has another URI to point to');
});

item(98, { level: '—', section: S172, title: 'system-shutdown on held requests; no new sessions while draining', timeout: 40_000 }, async (ctx) => {
    bosunOnly(ctx, 'a private CM to shut down');
    const b = await privateBosun(ctx, {});
    const s = ctx.session({ url: b.url });
    await s.login(ctx.users[0].user, ctx.users[0].password, uniq('r98'), { wait: 10 });
    await s.settle();
    const held = post(b.url, poll(s.sid, s.rid++), { timeoutMs: 15_000 });
    assert.ok(await stillPending(held, 300), 'poll not held');
    process.kill(b.pid, 'SIGTERM');
    const fresh = post(b.url, newSession({ rid: randomRid(), to: ctx.domain, wait: WAIT }), { timeoutMs: 5000 }).catch((e) => e);
    const res = await held;
    s.terminated = res;
    assertTerm(res, 'system-shutdown');
    const n = await fresh;
    const refused = n instanceof Error || isTerminate(n, 'system-shutdown') || n.status === 503;
    ctx.record(`SIGTERM → held poll ${describeResponse(res)}; new session during the drain → ${n instanceof Error ? n.code ?? n.message : describeResponse(n)}`);
    assert.ok(refused, `a new session was created during the drain: ${describeResponse(n)}`);
});

item(99, { level: '—', section: S172, title: 'undefined-condition only for anything else (record)', timeout: 20_000 }, async (ctx) => {
    // the MongooseIM case: a polling session must start normally
    const s = await rawSession(ctx, { wait: 0, hold: 0 });
    assert.ok(!isTerminate(s.res));
    const odd = await ctx.create({ hold: 7, wait: 65535, ver: '9.99', content: 'text/plain' });
    assert.ok(!isTerminate(odd.res, 'undefined-condition'), describeResponse(odd.res));
    ctx.record(`hold=0 wait=0 → session; odd but valid attributes → ${describeResponse(odd.res)}; undefined-condition is not used for any known cause`);
});

item(100, { level: 'S', section: 'XEP-0124 §17.1', title: 'no HTTP error codes for non-legacy clients', timeout: 20_000 }, async (ctx) => {
    const a = await ctx.post(poll('bogus', randomRid()));
    const s = await rawSession(ctx, { ver: '1.6' });
    const b = await ctx.post(`<body rid='${s.next}' sid='${s.sid}' xmlns='${NS.HTTPBIND}'><unclosed></body>`);
    const big = await rawSession(ctx, { ver: '1.6' });
    const filler = `<message xmlns='jabber:client' to='${bareJid(ctx, 1)}' type='headline'><body>${'x'.repeat(MAX_BODY)}</body></message>`;
    const c = await ctx.post(poll(big.sid, big.next, filler)).catch((e) => ({ status: 0, text: e.message, body: null }));
    ctx.record(`bogus sid → ${describeResponse(a)}; malformed body → ${describeResponse(b)}; body over max_body_bytes → ${describeResponse(c)}`);
    assertTerm(a, 'item-not-found');
    assertTerm(b, 'bad-request');
    // the stack's bosun has max_body_bytes = 64 KiB; another CM's limit may be higher
    if (ctx.isBosun || isTerminate(c)) assertTerm(c, 'policy-violation');
    else assert.equal(c.status, 200, `a ${MAX_BODY}-byte body → ${describeResponse(c)}`);
    if (ctx.isBosun) {
        // the policy-violation ended the session it named at once
        const after = await ctx.post(poll(big.sid, big.next + 1));
        assertTerm(after, 'item-not-found');
    }
});

item(101, { level: 'O', section: 'XEP-0124 §17.3', title: "a recoverable type='error' does not end the session", timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const rid = s.rid++;
    const A = ctx.post(poll(s.sid, rid), { agent: ctx.agent() });
    assert.ok(await stillPending(A, 400));
    const B = ctx.post(poll(s.sid, rid), { agent: ctx.agent() });
    const resA = await A;
    assert.equal(resA.body?.getAttribute('type'), 'error', describeResponse(resA));
    const C = rawSend(ctx, s, `<presence xmlns='jabber:client'/>`);
    const [resB, resC] = await Promise.all([B, C]);
    assert.ok(!isTerminate(resB) && !isTerminate(resC), `${describeResponse(resB)} / ${describeResponse(resC)}`);
    ctx.record(`type='error' on the re-sent rid; the session continued (${describeResponse(resB)}, ${describeResponse(resC)})`);
});

item(102, { level: '—', section: 'XEP-0124 §17.4', title: 'stanza errors pass through and do not end the session', timeout: 20_000 }, async (ctx) => {
    const s = await ctx.login(0);
    const id = uniq('iq');
    s.sendInBackground(`<iq xmlns='jabber:client' type='get' id='${id}' to='nobody@${ctx.domain}/x'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const iq = await s.waitFor((el) => el.localName === 'iq' && el.getAttribute('id') === id, 10_000);
    assert.equal(iq.getAttribute('type'), 'error', iq.toString());
    const next = await s.send();
    assert.ok(!isTerminate(next), describeResponse(next));
    ctx.record(`<iq type='get' to='nobody@D/x'> → ${iq.toString().slice(0, 160)}; the session continues`);
});
