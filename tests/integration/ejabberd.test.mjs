// Prebind methods `token` and `assertion` against a real ejabberd 23.01
// (Debian 12) with `auth_method: jwt`: tests/harness/ejabberd.mjs starts a
// private ejabberd on loopback, the real bosun binary sits in front, and
// Strophe.js attach() / connect() play the browser. docs/prebind.md
// ("token", "assertion", "The ejabberd_jwt strategy and ejabberd").
//
//   token      the web app mints the ejabberd JWT itself; Bosun forwards it
//              as the SASL PLAIN password and ejabberd checks it;
//   assertion  the web app signs an assertion for Bosun; Bosun verifies it
//              and mints the ejabberd JWT (prebind_login = "ejabberd_jwt").
// No account exists on the server: jwt auth lets in any JID with a valid
// token, the "other user" who sends the message included (a plain BOSH
// login through Bosun with a JWT as its password).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../harness/ports.mjs';
import { bosunBinary } from '../harness/bosun.mjs';
import { makeJwtKey, signEjabberdJwt, startEjabberd } from '../harness/ejabberd.mjs';
import {
    attachAndReceive as receiveOnAttach, callApi, clientToml, issuerToml, makeApiKey, prebindToml, signAssertion as signJwt,
    startBosunFor, upstreamToml, writeSecret,
} from '../harness/prebind.mjs';
import { makeTempDir, removeTempDir, run } from '../harness/proc.mjs';
import { withLogs } from '../harness/stack.mjs';
import { attach, connect, disconnect } from '../harness/strophe.mjs';

const KEY = makeApiKey('webapp');
const ISSUER = 'https://webapp.test';
const HS_SECRET = crypto.randomBytes(32).toString('base64url');
const DOMAIN = 'localhost';
const ES_DOMAIN = 'es.localhost'; // a second ejabberd whose jwt_key is an EC public JWK

let stack;
let api;
let dir;
const logged = (fn) => withLogs(() => stack, fn);
const newUser = (prefix) => `${prefix}${crypto.randomBytes(4).toString('hex')}`;

/** An assertion as the web app signs it for Bosun (HS256, kid "hs-1"). */
const signAssertion = (claims) => signJwt(claims, { issuer: ISSUER, hsSecret: HS_SECRET });

before(async () => {
    dir = makeTempDir('ejabberd-test');
    const hsFile = writeSecret(dir, 'hs.secret', HS_SECRET);
    const [ejabberd, esEjabberd] = await Promise.all([
        startEjabberd({ domain: DOMAIN }),
        startEjabberd({ domain: ES_DOMAIN, jwtAlg: 'ES256' }),
    ]);
    stack = {
        ejabberd,
        esEjabberd,
        bosun: null,
        stop: async () => {
            await stack.bosun?.stop().catch(() => {});
            await ejabberd.stop().catch(() => {});
            await esEjabberd.stop().catch(() => {});
            removeTempDir(dir);
        },
        dumpLogs: () =>
            process.stderr.write(
                `\n--- bosun ---\n${stack.bosun?.logs().slice(-12000)}\n--- ejabberd ---\n${ejabberd.log().slice(-8000)}\n--- ejabberd ${ES_DOMAIN} ---\n${esEjabberd.log().slice(-4000)}\n`,
            ),
    };
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    // The upstream table itself comes from startBosun (host, port, tls, ca_file);
    // these keys are appended to it, before the next table.
    const extraToml = `prebind_login = "ejabberd_jwt"
ejabberd_jwt_key_file = ${JSON.stringify(ejabberd.jwt.bosunKeyFile)}
ejabberd_jwt_lifetime = 60
${prebindToml(apiPort)}
${clientToml({ id: 'webapp', key: KEY, domains: [DOMAIN, ES_DOMAIN], methods: ['token', 'assertion'], extra: 'assertion_issuers = ["webapp"]' })}
${issuerToml({ id: 'webapp', issuer: ISSUER, hsFile, extra: 'audience = "bosun:prebind"' })}
${upstreamToml(ES_DOMAIN, esEjabberd, `prebind_login = "ejabberd_jwt"
ejabberd_jwt_key_file = ${JSON.stringify(esEjabberd.jwt.bosunKeyFile)}`)}`;
    // Bosun verifies ejabberd's certificate against the harness CA.
    stack.bosun = await startBosunFor(ejabberd, { extraToml });
    stack.url = stack.bosun.url;
}, { timeout: 60_000 });

after(async () => {
    await stack?.stop();
});

const call = (method, p, body) => callApi(api, method, p, { body, key: KEY });

const prebind = (auth) => call('POST', '/v1/prebind', { auth });
const prebound = () => (stack.bosun.logs().match(/prebound with/g) ?? []).length;

/**
 * Attaches to a prebound session, has another user (a plain BOSH login
 * through Bosun with an ejabberd JWT as password) send it a message, and
 * checks that the attached session receives it.
 */
function attachAndReceive(session, text, { bare = false } = {}) {
    const sender = newUser('sender');
    return receiveOnAttach(stack.url, session, text, {
        bare,
        sender: () => connect(stack.url, `${sender}@${DOMAIN}/web`, stack.ejabberd.mintJwt(`${sender}@${DOMAIN}`)),
        checkSender: (other) => assert.match(other.jid, new RegExp(`^${sender}@localhost/`)),
    });
}

describe('ejabberd auth_method: jwt', () => {
    test('token: the web app mints the ejabberd JWT; a never-seen user is prebound, attaches and receives', logged(async () => {
        const user = newUser('tok');
        const token = stack.ejabberd.mintJwt(`${user}@${DOMAIN}`);
        const r = await prebind({ method: 'token', jid: `${user}@${DOMAIN}`, token });
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.jid, new RegExp(`^${user}@localhost/.+`));
        assert.ok(!r.text.includes(token), 'token echoed');
        assert.ok(!stack.bosun.logs().includes(token), 'token in the log');
        await attachAndReceive(r.json, `hello token ${user}`);
    }));

    test('assertion: Bosun verifies the assertion and mints the ejabberd JWT (ejabberd_jwt)', logged(async () => {
        const user = newUser('asr');
        const before = prebound();
        const assertion = signAssertion({ sub: `${user}@${DOMAIN}` });
        const r = await prebind({ method: 'assertion', assertion });
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.jid, new RegExp(`^${user}@localhost/.+`));
        assert.equal(prebound(), before + 1);
        assert.match(stack.bosun.logs(), /prebound with PLAIN/);
        assert.ok(!stack.bosun.logs().includes(assertion), 'assertion in the log');
        // The minted JWT's header and payload prefix never reach the log either.
        assert.ok(!/eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\./.test(stack.bosun.logs()), 'minted JWT in the log');
        await attachAndReceive(r.json, `hello assertion ${user}`, { bare: true });
    }));

    test('assertion with an ES256 ejabberd key: ejabberd (jose) accepts the JWT Bosun signs', logged(async () => {
        const user = newUser('es');
        const r = await prebind({ method: 'assertion', assertion: signAssertion({ sub: `${user}@${ES_DOMAIN}` }) });
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.jid, new RegExp(`^${user}@es\\.localhost/.+`));
        const conn = await attach(stack.url, r.json);
        await disconnect(conn);
    }));

    test('token signed with a wrong key, for another user or expired: 403 invalid_credentials', logged(async () => {
        const other = makeJwtKey(dir, 'HS256');
        const cases = {
            'wrong key': (jid) => signEjabberdJwt(other, jid),
            'another user': () => stack.ejabberd.mintJwt(`someone-else@${DOMAIN}`),
            expired: (jid) => stack.ejabberd.mintJwt(jid, { lifetime: -5 }),
        };
        for (const [name, make] of Object.entries(cases)) {
            const jid = `${newUser('bad')}@${DOMAIN}`;
            const r = await prebind({ method: 'token', jid, token: make(jid) });
            assert.equal(r.status, 403, `${name}: ${r.text}`);
            assert.equal(r.json.error, 'invalid_credentials', name);
        }
    }));

    test('a refused assertion opens nothing upstream', logged(async () => {
        const before = prebound();
        const forged = signAssertion({ sub: `${newUser('eve')}@${DOMAIN}` }).slice(0, -4) + 'AAAA';
        const r = await prebind({ method: 'assertion', assertion: forged });
        assert.equal(r.status, 403, r.text);
        assert.equal(r.json.error, 'invalid_credentials');
        assert.equal(prebound(), before);
    }));

    test('POST /v1/tickets: the minted ejabberd JWT is the password of a normal BOSH login', logged(async () => {
        const user = newUser('cred');
        const r = await call('POST', '/v1/tickets', { assertion: signAssertion({ sub: `${user}@${DOMAIN}` }) });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.json.jid, `${user}@${DOMAIN}`);
        const [, payload] = r.json.password.split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
        assert.equal(claims.jid, `${user}@${DOMAIN}`);
        const left = claims.exp - Math.floor(Date.now() / 1000);
        assert.ok(left > 50 && left <= 60, `exp ${left} s ahead`);
        assert.equal(Date.parse(r.json.expires_at) / 1000, claims.exp);
        const conn = await connect(stack.url, `${user}@${DOMAIN}/web`, r.json.password);
        assert.match(conn.jid, new RegExp(`^${user}@localhost/web`));
        await disconnect(conn);
    }));
});

describe('--check-config reads the ejabberd_jwt key file', () => {
    const check = async (keyText) => {
        const keyFile = path.join(dir, `check-${crypto.randomBytes(4).toString('hex')}.jwk`);
        fs.writeFileSync(keyFile, keyText, { mode: 0o600 });
        const text = fs.readFileSync(stack.bosun.configFile, 'utf8')
            .replace(/^ejabberd_jwt_key_file = .*$/m, `ejabberd_jwt_key_file = ${JSON.stringify(keyFile)}`);
        const config = path.join(dir, 'check.toml');
        fs.writeFileSync(config, text);
        const r = await run(bosunBinary(), ['--config', config, '--check-config'], { timeoutMs: 5000 });
        return { code: r.code, out: `${r.stdout}\n${r.stderr}` };
    };

    test('the harness key passes; a public EC JWK (ejabberd\'s half) fails, naming the file', async () => {
        const good = await check(fs.readFileSync(stack.ejabberd.jwt.bosunKeyFile));
        assert.equal(good.code, 0, good.out);
        const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const bad = await check(JSON.stringify(publicKey.export({ format: 'jwk' })));
        assert.equal(bad.code, 1, bad.out);
        assert.match(bad.out, /upstream localhost: ejabberd_jwt_key_file .*check-.*\.jwk: a kty "EC" JWK: give Bosun the private key as PEM/);
    });
});
