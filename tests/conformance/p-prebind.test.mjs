// Checklist §2: prebind / session attach, rules P1–P7. Client A (the back
// end) logs in over BOSH and hands {jid, sid, rid = L+1} to client B (the
// browser): another TCP connection, another source address, Origin and
// User-Agent, no cookies.

import {
    NS,
    WAIT,
    assert,
    assertBody,
    assertTerm,
    describeResponse,
    hasMessage,
    httpRequest,
    isTerminate,
    item,
    message,
    poll,
    post,
    randomRid,
    sleep,
    stillPending,
    uniq,
    useStack,
} from './lib.mjs';

const APP = 'https://app.example';
const INACTIVITY = 10;
useStack({ inactivity: INACTIVITY, httpConfig: { cors_allowed_origins: [APP] } });

const SECTION = 'checklist §2 (prebind)';

/** Client A: login, every response received, nothing held. Returns { s, L }. */
async function backendLogin(ctx, i = 0) {
    const s = ctx.session({ startRid: randomRid(), agent: ctx.agent(), headers: { 'User-Agent': 'backend/1.0' } });
    await s.login(ctx.users[i].user, ctx.users[i].password, uniq('pre'), { wait: WAIT });
    await s.settle();
    return { s, L: s.rid - 1 };
}

/** Client B: another socket from 127.0.0.2 (when the host has it), the browser's headers. */
function browser(ctx) {
    const agent = ctx.agent({ localAddress: '127.0.0.2' });
    const headers = { Origin: APP, 'User-Agent': 'Mozilla/5.0 (prebind test)' };
    return (xml, o = {}) => post(ctx.url, xml, { agent, headers, timeoutMs: 20_000, ...o });
}

item('P1', { level: 'M', section: SECTION, title: 'the same sid from another client (connection, address, Origin, UA) is served', timeout: 30_000 }, async (ctx) => {
    const { s, L } = await backendLogin(ctx);
    const b = browser(ctx);
    const res = await b(poll(s.sid, L + 1));
    assertBody(res);
    assert.ok(!isTerminate(res), `B's poll(L+1) → ${describeResponse(res)}`);
    s.rid = L + 2;
    ctx.record(`B (127.0.0.2, Origin ${APP}, new UA, no cookies) poll(L+1) → ${describeResponse(res)} after ${res.elapsedMs} ms`);
});

item('P2', { level: 'M', section: SECTION, title: 'stanzas between the hand-off and B’s first request are queued for B', timeout: 30_000 }, async (ctx) => {
    const { s, L } = await backendLogin(ctx, 0);
    const bob = await ctx.login(1);
    const text = uniq('p2');
    bob.sendInBackground(message(s.jid, text));
    await sleep(800);
    const res = await browser(ctx)(poll(s.sid, L + 1));
    s.rid = L + 2;
    assert.ok(hasMessage(res, text), `B's first response lacks the message: ${res.text}`);
    assert.ok(res.elapsedMs < 1000, `answered after ${res.elapsedMs} ms`);
    ctx.record(`a message sent between the hand-off and B's first request came on it (${res.elapsedMs} ms)`);
});

item('P3', { level: 'S', section: SECTION, title: 'B may replay rid L (the bind result), then continue at L+1', timeout: 30_000 }, async (ctx) => {
    const { s, L } = await backendLogin(ctx);
    const last = s.responses[s.responses.length - 1];
    const b = browser(ctx);
    const replay = await b(poll(s.sid, L));
    assertBody(replay);
    assert.ok(!isTerminate(replay), `poll(L) → ${describeResponse(replay)}`);
    const bindResponse = s.responses.find((r) => r.text.includes('<jid>'));
    const next = await b(poll(s.sid, L + 1));
    s.rid = L + 2;
    assert.ok(!isTerminate(next), `poll(L+1) after the replay → ${describeResponse(next)}`);
    ctx.record(`poll(L) → ${replay.text === last.text ? 'the same bytes as A got for L' : describeResponse(replay)}${bindResponse && replay.text === bindResponse.text ? ' (the bind result)' : ''}; then poll(L+1) → ${describeResponse(next)}`);
    assert.ok(s.responses.some((r) => r.text === replay.text), 'the replay is not a copy of a response A received');
});

item('P4', { level: 'M', section: SECTION, title: 'a rid beyond the window from B → item-not-found', timeout: 30_000 }, async (ctx) => {
    const { s, L } = await backendLogin(ctx);
    const requests = Number(s.creation.body.getAttribute('requests') || 2);
    const res = await browser(ctx)(poll(s.sid, L + requests + 1));
    s.terminated = res;
    assertTerm(res, 'item-not-found');
    ctx.record(`requests=${requests}: B's poll(L+${requests + 1}) → term(item-not-found)`);
});

item('P5', { level: 'S', section: SECTION, title: 'a hand-off slower than inactivity kills the session; the pause trick keeps it', timeout: 60_000 }, async (ctx) => {
    const { s, L } = await backendLogin(ctx);
    await sleep((INACTIVITY + 4) * 1000);
    const dead = await browser(ctx)(poll(s.sid, L + 1));
    s.terminated = dead;
    assertTerm(dead, 'item-not-found');
    // with pause: A's last request is a pause, B starts after it
    const a = await backendLogin(ctx);
    const maxpause = Number(a.s.creation.body.getAttribute('maxpause') || 0);
    if (!maxpause) {
        ctx.record(`after ${INACTIVITY + 4} s: item-not-found; no maxpause, so no pause trick`);
        return;
    }
    const paused = await post(ctx.url, poll(a.s.sid, a.L + 1, '', { pause: Math.min(60, maxpause) }));
    assert.ok(!isTerminate(paused), describeResponse(paused));
    await sleep((INACTIVITY + 4) * 1000);
    const alive = await browser(ctx)(poll(a.s.sid, a.L + 2));
    a.s.rid = a.L + 3;
    assert.ok(!isTerminate(alive), `after a pause, B's poll → ${describeResponse(alive)}`);
    ctx.record(`hand-off after ${INACTIVITY + 4} s (inactivity ${INACTIVITY}): item-not-found; with A's last request pause='${Math.min(60, maxpause)}': alive`);
});

item('P6', { level: 'I', section: SECTION, title: 'a poll A leaves held is answered when B arrives', timeout: 30_000 }, async (ctx) => {
    const { s, L } = await backendLogin(ctx);
    const A = post(ctx.url, poll(s.sid, L + 1), { agent: ctx.agent() });
    assert.ok(await stillPending(A, 400), 'A not held');
    const started = Date.now();
    const B = browser(ctx)(poll(s.sid, L + 2));
    const resA = await A;
    const took = Date.now() - started;
    assert.ok(!isTerminate(resA), describeResponse(resA));
    assert.ok(took < 1000, `A answered ${took} ms after B's request`);
    const resB = await B;
    s.rid = L + 3;
    assert.ok(!isTerminate(resB), describeResponse(resB));
    ctx.record(`A's held poll answered ${took} ms after B's request (what it carried would be lost to B); B held then ${describeResponse(resB)}`);
});

item('P7', { level: 'I', section: SECTION, title: 'CORS for the browser origin: preflight and POST', timeout: 20_000 }, async (ctx) => {
    const pre = await httpRequest(ctx.url, {
        method: 'OPTIONS',
        headers: { Origin: APP, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.ok(pre.status >= 200 && pre.status < 300, `preflight → HTTP ${pre.status}`);
    assert.equal(pre.headers['access-control-allow-origin'], APP);
    assert.match(pre.headers['access-control-allow-methods'] ?? '', /POST/);
    assert.match(pre.headers['access-control-allow-headers'] ?? '', /content-type/i);
    const { s, L } = await backendLogin(ctx);
    const res = await browser(ctx)(poll(s.sid, L + 1));
    s.rid = L + 2;
    assert.equal(res.headers['access-control-allow-origin'], APP, 'no ACAO on the POST response');
    const other = await httpRequest(ctx.url, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    assert.notEqual(other.headers['access-control-allow-origin'], '*');
    assert.notEqual(other.headers['access-control-allow-origin'], 'https://evil.example');
    ctx.record(`preflight ${pre.status} with ACAO ${APP}; POST answer carries it; another origin gets no ACAO (${other.status})`);
    void NS;
});
