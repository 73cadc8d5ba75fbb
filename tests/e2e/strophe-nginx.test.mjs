// The Strophe.js scenario of strophe.test.mjs, through a real nginx that
// includes conf/nginx/bosun-location.conf unchanged, in front of Bosun.
// BOSH_TARGET=prosody puts the same nginx in front of Prosody's mod_bosh.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { post } from '../harness/bosh.mjs';
import { REPO_ROOT } from '../harness/bosun.mjs';
import { LOCATION_SNIPPET } from '../harness/nginx.mjs';
import { startStack, targetFromEnv, withLogs } from '../harness/stack.mjs';
import { XMLHttpRequest, bodyText, chatRoundTrip } from '../harness/strophe.mjs';

const TARGET = targetFromEnv('bosun'); // 'prosody' = Prosody's mod_bosh instead of bosun

const ORIGIN = 'https://app.example';
let stack;

before(async () => {
    XMLHttpRequest.keepLog = true;
    // Bosun answers CORS for this origin; nginx must pass that through and add nothing.
    stack = await startStack({ target: TARGET, nginx: true, bosun: { http: { cors_allowed_origins: [ORIGIN] } } });
}, { timeout: 30_000 });

after(async () => {
    await stack?.stop();
});

test(`Strophe.js through nginx: two users chat both ways (${TARGET})`, { timeout: 25_000 }, withLogs(() => stack, async (t) => {
    const [alice, bob] = stack.users;
    assert.equal(new URL(stack.url).port, String(stack.nginx.port), 'the client must talk to nginx');
    const r = await chatRoundTrip(stack.url, [alice, bob], { domain: stack.domain });
    t.diagnostic(`login ${r.timings.loginMs} ms, round trip ${r.timings.roundTripMs} ms`);

    assert.equal(bodyText(r.toB), r.textToB);
    assert.equal(r.toB.getAttribute('from'), r.jids[0]);
    assert.equal(bodyText(r.toA), r.textToA);
    assert.equal(r.toA.getAttribute('from'), r.jids[1]);
    assert.deepEqual(r.disconnected, [true, true], `not cleanly DISCONNECTED: ${JSON.stringify(r.statusLogs)}`);

    const bad = XMLHttpRequest.log.filter((x) => x.status !== 200 || !x.responseText.startsWith('<body'));
    assert.deepEqual(bad.map((x) => `${x.status} ${x.responseText.slice(0, 200)}`), []);
    assert.deepEqual(XMLHttpRequest.handlerErrors, []);

    // The traffic really went through nginx's /http-bind location.
    const posts = stack.nginx.accessLog().split('\n').filter((l) => l.includes('"POST /http-bind HTTP/1.1" 200'));
    assert.ok(posts.length >= 6, `nginx logged ${posts.length} BOSH POSTs`);
}));

test('#11: CORS comes from the backend only; nginx adds and changes nothing (conf/nginx/README.md)', { timeout: 10_000 }, withLogs(() => stack, async () => {
    const unknownSid = "<body rid='1' sid='nope' xmlns='http://jabber.org/protocol/httpbind'/>";
    const preflightHeaders = {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
    };
    for (const [what, xml, opts] of [
        ['POST', unknownSid, { headers: { Origin: ORIGIN } }],
        ['OPTIONS preflight', '', { method: 'OPTIONS', headers: preflightHeaders }],
    ]) {
        const viaNginx = await post(stack.url, xml, opts);
        const direct = await post(stack.directUrl, xml, opts);
        assert.equal(viaNginx.status, direct.status, `${what}: status`);
        assert.equal(viaNginx.text, direct.text, `${what}: nginx must pass the body through unchanged`);
        const cors = (res) =>
            Object.fromEntries(Object.entries(res.headers).filter(([k]) => k.startsWith('access-control-')));
        assert.deepEqual(cors(viaNginx), cors(direct), `${what}: CORS headers added or changed by nginx`);
        if (TARGET === 'bosun') {
            // one value, not "origin, origin" (Node joins a repeated header with ", ")
            assert.equal(viaNginx.headers['access-control-allow-origin'], ORIGIN, `${what}: ACAO`);
            assert.ok(viaNginx.status >= 200 && viaNginx.status < 300, `${what}: HTTP ${viaNginx.status}`);
        }
        assert.ok(!viaNginx.headers['transfer-encoding'], `${what}: checklist #3, no chunked coding through nginx`);
    }
}));

test('an oversized body is refused by nginx (client_max_body_size 512k = Bosun max_body_bytes)', { timeout: 10_000 }, withLogs(() => stack, async () => {
    const big = `<body rid='1' sid='nope' xmlns='http://jabber.org/protocol/httpbind'>${'x'.repeat(600 * 1024)}</body>`;
    const res = await post(stack.url, big);
    assert.equal(res.status, 413);
}));

test('the snippet stays tied to Bosun’s limits (proxy_read_timeout > max_wait, body sizes equal)', { timeout: 5_000 }, () => {
    const snippet = fs.readFileSync(LOCATION_SNIPPET, 'utf8').replace(/#.*$/gm, '');
    const example = fs.readFileSync(path.join(REPO_ROOT, 'conf', 'bosun.example.toml'), 'utf8').replace(/#.*$/gm, '');
    const seconds = (name) => {
        const m = new RegExp(`^\\s*${name}\\s+(\\d+)s\\s*;`, 'm').exec(snippet);
        assert.ok(m, `${name} missing from ${LOCATION_SNIPPET}`);
        return Number(m[1]);
    };
    const tomlInt = (name) => {
        const m = new RegExp(`^\\s*${name}\\s*=\\s*(\\d+)`, 'm').exec(example);
        assert.ok(m, `${name} missing from conf/bosun.example.toml`);
        return Number(m[1]);
    };
    const maxWait = tomlInt('max_wait');
    assert.ok(seconds('proxy_read_timeout') >= maxWait + 10, `proxy_read_timeout must exceed [bosh] max_wait ${maxWait} s with margin`);
    const body = /^\s*client_max_body_size\s+(\d+)k\s*;/m.exec(snippet);
    assert.ok(body, 'client_max_body_size missing');
    assert.equal(Number(body[1]) * 1024, tomlInt('max_body_bytes'), 'client_max_body_size = [http] max_body_bytes');
    assert.match(snippet, /^\s*proxy_next_upstream\s+off\s*;/m, 'a BOSH POST must never be replayed');
    assert.match(snippet, /^\s*proxy_buffering\s+off\s*;/m);
    assert.doesNotMatch(snippet, /Access-Control-/i, 'CORS belongs to Bosun only');
});
