// The prebind API's transport security against the real bosun binary and a
// real Prosody: HTTPS on the API listener (tls_cert_file/tls_key_file, with
// the harness's certificates), and HMAC request signing required for a
// client (docs/prebind.md "The listener", "Request signing"; reference
// §6.2 items 1 and 3).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bosunBinary } from '../harness/bosun.mjs';
import { makeCert } from '../harness/certs.mjs';
import { freePort, sleep } from '../harness/ports.mjs';
import {
    clientToml, makeApiKey, prebindToml, sha256Hex, startBosunFor, startPrebindStack, writeSecret,
} from '../harness/prebind.mjs';
import { makeTempDir, removeTempDir, run } from '../harness/proc.mjs';
import { DEFAULT_USERS } from '../harness/prosody.mjs';
import { withLogs } from '../harness/stack.mjs';
import { signRequest } from '../../examples/webapp/server.mjs';

const KEY = makeApiKey('signed');
const PLAIN_KEY = makeApiKey('plain');
const SIGNING_SECRET = crypto.randomBytes(32).toString('hex');
const [ALICE] = DEFAULT_USERS;

let stack;
let dir;
let apiPort;
let apiCert;
const logged = (fn) => withLogs(() => stack, fn);

/** tls_cert_file and tls_key_file of [prebind]: the API listener speaks HTTPS with `cert`. */
const apiTls = (cert) => `tls_cert_file = ${JSON.stringify(cert.certFile)}
tls_key_file = ${JSON.stringify(cert.keyFile)}`;
const plainClient = clientToml({ id: 'plain', key: PLAIN_KEY, domains: ['localhost'], methods: ['password'] });

before(async () => {
    dir = makeTempDir('prebind-secure');
    apiCert = await makeCert(path.join(dir, 'api-certs'), ['localhost'], { basename: 'api' });
    const secretFile = writeSecret(dir, 'signed-k1.secret', `${SIGNING_SECRET}\n`);
    apiPort = await freePort();
    stack = await startPrebindStack({
        prosody: { tls: true },
        prosodyLogTail: 6000,
        bosun: () => ({
            extraToml: `${prebindToml(apiPort, apiTls(apiCert))}
${clientToml({ id: 'signed', key: KEY, domains: ['localhost'], methods: ['password'], extra: `require_signature = true
[[prebind.clients.signing_keys]]
id = "k1"
secret_file = ${JSON.stringify(secretFile)}` })}
${plainClient}`,
        }),
    });
}, { timeout: 60_000 });

after(async () => {
    await stack?.stop();
    if (dir) removeTempDir(dir);
});

/** One request to the API; resolves { status, headers, json, text } or rejects on a transport error. */
function request(scheme, method, target, { body = '', headers = {}, port = apiPort, tls = {} } = {}) {
    const mod = scheme === 'https' ? https : http;
    return new Promise((resolve, reject) => {
        const req = mod.request({
            host: '127.0.0.1',
            port,
            method,
            path: target,
            headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
            agent: false,
            timeout: 5000,
            ...(scheme === 'https' ? { ca: fs.readFileSync(apiCert.certFile), servername: 'localhost', ...tls } : {}),
        }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { text += c; });
            res.on('end', () => {
                let json = null;
                try { json = JSON.parse(text); } catch { json = null; }
                resolve({ status: res.statusCode, headers: res.headers, json, text });
            });
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(body);
    });
}

function signatureHeaders(method, target, body, { secret = SIGNING_SECRET, ts = Math.floor(Date.now() / 1000) } = {}) {
    const nonce = crypto.randomBytes(16).toString('hex');
    const mac = crypto.createHmac('sha256', secret)
        .update(`${method}\n${target}\n${ts}\n${nonce}\n${sha256Hex(body)}`).digest('hex');
    return {
        'x-bosun-key-id': 'k1',
        'x-bosun-timestamp': String(ts),
        'x-bosun-nonce': nonce,
        'x-bosun-signature': `v1=${mac}`,
    };
}

const passwordBody = JSON.stringify({
    auth: { method: 'password', jid: `${ALICE.user}@localhost`, password: ALICE.password },
});

describe('HTTPS on the API listener', () => {
    test('a POST over https works', logged(async () => {
        const r = await request('https', 'POST', '/v1/prebind', {
            body: passwordBody,
            headers: { authorization: `Bearer ${PLAIN_KEY}` },
        });
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.jid, /^alice@localhost\//);
        assert.match(stack.bosun.logs(), /prebind API listening on https:\/\/127\.0\.0\.1:/);
    }));

    test('plain http to the https port fails', logged(async () => {
        await assert.rejects(
            request('http', 'POST', '/v1/prebind', {
                body: passwordBody,
                headers: { authorization: `Bearer ${PLAIN_KEY}` },
            }),
            (err) => /socket hang up|ECONNRESET|Parse Error|HPE_|EPIPE/i.test(`${err.code} ${err.message}`),
        );
        assert.ok(!stack.bosun.logs().includes(ALICE.password), 'password in the log');
    }));
});

describe('request signing (require_signature = true)', () => {
    test('a signed request passes', logged(async () => {
        const r = await request('https', 'POST', '/v1/prebind', {
            body: passwordBody,
            headers: { authorization: `Bearer ${KEY}`, ...signatureHeaders('POST', '/v1/prebind', passwordBody) },
        });
        assert.equal(r.status, 201, r.text);
        assert.match(r.json.jid, /^alice@localhost\//);
        // The example back end's signer (examples/webapp) produces the same headers.
        const url = `https://127.0.0.1:${apiPort}/v1/prebind`;
        const byWebapp = await request('https', 'POST', '/v1/prebind', {
            body: passwordBody,
            headers: { authorization: `Bearer ${KEY}`, ...signRequest({ keyId: 'k1', secret: SIGNING_SECRET }, 'POST', url, passwordBody) },
        });
        assert.equal(byWebapp.status, 201, byWebapp.text);
    }));

    test('an unsigned request is 401 with the unauthenticated problem type', logged(async () => {
        const r = await request('https', 'POST', '/v1/prebind', {
            body: passwordBody,
            headers: { authorization: `Bearer ${KEY}` },
        });
        assert.equal(r.status, 401, r.text);
        assert.match(r.headers['content-type'], /^application\/problem\+json/);
        assert.equal(r.json.type, 'urn:bosun:problem:unauthenticated');
        assert.match(r.json.detail, /missing_header/);
        assert.ok(r.headers['www-authenticate']);
    }));

    test('a replayed, re-targeted or stale signed request is 401', logged(async () => {
        const headers = { authorization: `Bearer ${KEY}`, ...signatureHeaders('POST', '/v1/prebind', passwordBody) };
        assert.equal((await request('https', 'POST', '/v1/prebind', { body: passwordBody, headers })).status, 201);
        const replay = await request('https', 'POST', '/v1/prebind', { body: passwordBody, headers });
        assert.equal(replay.status, 401, replay.text);
        assert.match(replay.json.detail, /replayed/);
        const moved = await request('https', 'POST', '/v1/tickets', {
            body: passwordBody,
            headers: { authorization: `Bearer ${KEY}`, ...signatureHeaders('POST', '/v1/prebind', passwordBody) },
        });
        assert.equal(moved.status, 401, moved.text);
        assert.match(moved.json.detail, /bad_signature/);
        const stale = await request('https', 'POST', '/v1/prebind', {
            body: passwordBody,
            headers: {
                authorization: `Bearer ${KEY}`,
                ...signatureHeaders('POST', '/v1/prebind', passwordBody, { ts: Math.floor(Date.now() / 1000) - 400 }),
            },
        });
        assert.equal(stale.status, 401, stale.text);
        assert.match(stale.json.detail, /stale/);
    }));

    test('bosun-prebind signs its requests and trusts --cacert', logged(async (t) => {
        // Beside the bosun under test: <build>/src/app/bosun -> <build>/tools/bosun-prebind/.
        const cli = path.join(path.resolve(bosunBinary(), '..', '..', '..'), 'tools', 'bosun-prebind', 'bosun-prebind');
        if (!fs.existsSync(cli)) {
            t.skip(`no ${cli} (built without libcurl)`);
            return;
        }
        const keyFile = path.join(dir, 'api.key-file');
        fs.writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
        const passwordFile = path.join(dir, 'alice.password');
        fs.writeFileSync(passwordFile, `${ALICE.password}\n`, { mode: 0o600 });
        const common = ['--url', `https://localhost:${apiPort}`, '--cacert', apiCert.certFile, '--key-file', keyFile,
            '--method', 'password', '--jid', `${ALICE.user}@localhost`, '--password-file', passwordFile];
        // curl falls back from ::1 to 127.0.0.1, where Bosun listens.
        const env = { ...process.env };
        const unsigned = await run(cli, ['prebind', ...common], { env, timeoutMs: 15_000 });
        assert.equal(unsigned.code, 1, unsigned.stderr);
        assert.match(unsigned.stdout, /unauthenticated/);
        const signed = await run(cli, ['prebind', ...common, '--sign-key-id', 'k1', '--sign-secret-file',
            path.join(dir, 'signed-k1.secret')], { env, timeoutMs: 15_000 });
        assert.equal(signed.code, 0, `${signed.stdout}\n${signed.stderr}`);
        assert.match(JSON.parse(signed.stdout).jid, /^alice@localhost\//);
    }));
});

describe('mTLS (tls_client_ca_file)', () => {
    let mtls;
    let port;
    let client;

    before(async () => {
        // A self-signed client certificate that is its own CA, for clientAuth.
        client = { cert: path.join(dir, 'client.crt'), key: path.join(dir, 'client.key') };
        const made = await run('openssl', ['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
            '-nodes', '-sha256', '-days', '2', '-subj', '/CN=webapp-backend',
            '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
            '-addext', 'extendedKeyUsage=clientAuth', '-keyout', client.key, '-out', client.cert]);
        assert.equal(made.code, 0, made.stderr);
        port = await freePort();
        mtls = await startBosunFor(stack.prosody, {
            extraToml: `${prebindToml(port, `${apiTls(apiCert)}
tls_client_ca_file = ${JSON.stringify(client.cert)}`)}
${plainClient}`,
        });
    }, { timeout: 30_000 });

    after(async () => {
        await mtls?.stop().catch(() => {});
    });

    test('a caller with a client certificate the CA verifies gets through; one without is refused', async () => {
        const headers = { authorization: `Bearer ${PLAIN_KEY}` };
        const withCert = await request('https', 'POST', '/v1/prebind', {
            port, body: passwordBody, headers,
            tls: { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) },
        });
        assert.equal(withCert.status, 201, withCert.text);
        await assert.rejects(
            request('https', 'POST', '/v1/prebind', { port, body: passwordBody, headers }),
            (err) => /certificate|ECONNRESET|socket hang up|alert/i.test(`${err.code} ${err.message}`),
        );
        await sleep(200);
        assert.equal(mtls.logs().match(/POST prebind ->/g).length, 1, 'the request without a certificate reached the API');
    });
});
