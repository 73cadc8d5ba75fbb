// Checklist section K: key sequencing (XEP-0124 §15), items 82–83. OPTIONAL
// to verify; Bosun verifies keys (SHA-1 chains, §15.3, §19.4).

import crypto from 'node:crypto';
import {
    assert,
    assertBody,
    describeResponse,
    isTerminate,
    item,
    message,
    randomRid,
    receive,
    uniq,
    useStack,
} from './lib.mjs';

useStack({});

const sha1 = (s) => crypto.createHash('sha1').update(s).digest('hex');

/** K(0)…K(n): K(i) = hex(SHA-1(K(i−1))). The client uses them from K(n) down (§15.3). */
function chain(n) {
    const k = [crypto.randomBytes(20).toString('hex')];
    for (let i = 1; i <= n; i++) k.push(sha1(k[i - 1]));
    return k;
}

/**
 * A BoshSession whose every request carries the next key: the creation
 * request newkey=K(n), then key=K(n−1), K(n−2), … (rids and keys are taken
 * together, so concurrent requests stay consistent).
 */
function keyedSession(ctx, n = 40) {
    const keys = chain(n);
    let i = n;
    const s = ctx.session({ startRid: randomRid() });
    const wrap = (fn) => (...args) => {
        const extra = args[1] ?? {};
        args[1] = { ...(extra.key !== undefined || extra.newkey !== undefined ? {} : { key: keys[--i] }), ...extra };
        return fn(...args);
    };
    s.send = wrap(s.send.bind(s));
    const restart = s.restart.bind(s);
    s.restart = (extra = {}) => restart({ key: keys[--i], ...extra });
    const terminate = s.terminate.bind(s);
    s.terminate = (payload = '', opts = {}) => terminate(payload, { key: keys[--i], ...opts });
    s.keys = keys;
    s.nextKeyIndex = () => i;
    s.setIndex = (j) => (i = j);
    s.createAttrs = { newkey: keys[n] };
    return s;
}

item(82, { level: 'O', section: 'XEP-0124 §15.4', title: 'a wrong key is not processed: term(item-not-found)', timeout: 30_000 }, async (ctx) => {
    const alice = keyedSession(ctx);
    await alice.login(ctx.users[0].user, ctx.users[0].password, uniq('k'), { wait: 2, ...alice.createAttrs });
    await alice.settle();
    const bob = await ctx.login(1);
    const ok = await alice.send('');
    assert.ok(!isTerminate(ok), `a correct key → ${describeResponse(ok)}`);
    const text = uniq('m82');
    const bad = await alice.send(message(bob.jid, text), { key: sha1('wrong') });
    assertBody(bad);
    alice.terminated = bad;
    if (!isTerminate(bad)) {
        ctx.record(`a wrong key → ${describeResponse(bad)}: keys are not verified (MAY)`);
        ctx.unsupported('keys are not verified: a wrong key is accepted (§15.4 MAY)');
    }
    assert.ok(isTerminate(bad, 'item-not-found'), `a wrong key → ${describeResponse(bad)}`);
    const leaked = await receive(bob, text, 2500);
    assert.equal(leaked, null, 'the message of the refused request was delivered');
    ctx.record('login with a key chain works; a wrong key carrying a message → term(item-not-found), message not delivered');
});

item(83, { level: 'O', section: 'XEP-0124 §15.5, §15.3', title: 'switching key chains; keys compared case-insensitively', timeout: 40_000 }, async (ctx) => {
    const alice = keyedSession(ctx);
    await alice.login(ctx.users[0].user, ctx.users[0].password, uniq('k'), { wait: 2, ...alice.createAttrs });
    await alice.settle();
    // one request carries the next key of the old chain and newkey = K'(m)
    // of a fresh chain, sent in upper-case hex
    const fresh = chain(10);
    const sw = await alice.send('', { key: alice.keys[alice.nextKeyIndex() - 1], newkey: fresh[10].toUpperCase() });
    assert.ok(!isTerminate(sw), `chain switch → ${describeResponse(sw)}`);
    // K'(m−1): its hash (lower-case hex) must match the upper-case newkey
    const next = await alice.send('', { key: fresh[9] });
    assertBody(next);
    assert.ok(!isTerminate(next), `K'(m−1) after an upper-case newkey → ${describeResponse(next)}`);
    const then = await alice.send('', { key: fresh[8] });
    assert.ok(!isTerminate(then), `K'(m−2) → ${describeResponse(then)}`);
    const end = await ctx.post(`<body rid='${alice.rid++}' sid='${alice.sid}' key='${fresh[7]}' type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>`);
    assert.ok(isTerminate(end), describeResponse(end));
    alice.terminated = end;
    ctx.record("switched chains mid-session (key=K(i) newkey=K'(m) in upper-case hex); K'(m−1), K'(m−2) in lower case accepted: hex compared case-insensitively");
});
