// The bosun command line: --check-config, --version, --help.
// STYLE.md rule 4: startup errors exit non-zero with a clear message;
// config validation collects every error at once (src/config).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { bosunBinary, renderBosunConfig } from '../harness/bosun.mjs';
import { makeCert } from '../harness/certs.mjs';
import { makeTempDir, removeTempDir, run } from '../harness/proc.mjs';

const BIN = bosunBinary();
let dir;
let certFile;

before(async () => {
    dir = makeTempDir('cli');
    ({ certFile } = await makeCert(path.join(dir, 'certs')));
}, { timeout: 10_000 });

after(() => removeTempDir(dir));

function bosun(...args) {
    assert.ok(fs.existsSync(BIN), `bosun binary not found at ${BIN} (build it, or set BOSUN_BIN)`);
    return run(BIN, args, { timeoutMs: 5000 });
}

function writeConfig(name, text) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
}

const output = (r) => `${r.stdout}\n${r.stderr}`;

test('--check-config on a good config exits 0', { timeout: 10_000 }, async () => {
    const file = writeConfig(
        'good.toml',
        renderBosunConfig({ port: 5280, upstreamPort: 5222, domain: 'localhost', tls: 'required', caFile: certFile, logLevel: 'info' }),
    );
    const r = await bosun('--config', file, '--check-config');
    assert.equal(r.code, 0, `exit ${r.code}:\n${output(r)}`);
});

test('--check-config on a broken config prints every error and exits non-zero', { timeout: 10_000 }, async () => {
    // Three independent mistakes; validate() must report all of them, not just the first.
    const lines = [
        'log_level = "debug"',                 // 1
        'frobnicate = true',                   // 2  unknown key
        '[http]',                              // 3
        'listen = ["127.0.0.1:5280"]',         // 4
        'path = "/http-bind"',                 // 5
        '[upstream."localhost"]',              // 6
        'host = "127.0.0.1"',                  // 7
        'port = 70000',                        // 8  bad port (> 65535)
        'tls = "sometimes"',                   // 9  bad tls value
        `ca_file = ${JSON.stringify(certFile)}`,
        '',
    ];
    const file = writeConfig('broken.toml', lines.join('\n'));
    const r = await bosun('--config', file, '--check-config');
    const text = output(r);
    assert.notEqual(r.code, 0, `broken config accepted:\n${text}`);
    assert.equal(r.signal, null, `bosun died of ${r.signal}`);

    const errorLines = text.split('\n').filter((l) => l.trim());
    const mentions = (what, re) => {
        const hit = errorLines.find((l) => re.test(l));
        assert.ok(hit, `no error about ${what} in:\n${text}`);
        return hit;
    };
    mentions('the unknown key frobnicate', /frobnicate/);
    const portLine = mentions('port = 70000', /70000|:8:\d+|upstream\.\S*port/i);
    const tlsLine = mentions('tls = "sometimes"', /sometimes|:9:\d+|upstream\.\S*tls/i);
    assert.notEqual(portLine, tlsLine, `port and tls reported on the same line only:\n${text}`);
});

// docs/prebind.md "The listener": secure by default.
test('--check-config and startup refuse a plain-text prebind API off loopback; TLS or an explicit opt-in passes', { timeout: 20_000 }, async () => {
    const base = renderBosunConfig({ port: 5280, upstreamPort: 5222, domain: 'localhost', tls: 'required', caFile: certFile, logLevel: 'info' });
    const prebind = (extra) => `${base}\n[prebind]\nenabled = true\nlisten = ["0.0.0.0:5281"]\n${extra}\n`;
    const plain = writeConfig('prebind-plain.toml', prebind(''));
    let r = await bosun('--config', plain, '--check-config');
    assert.equal(r.code, 1, output(r));
    assert.match(output(r), /prebind\.listen: 0\.0\.0\.0 is not loopback and the listener has no TLS/);
    r = await bosun('--config', plain);  // startup: the same refusal, before anything listens
    assert.equal(r.code, 1, output(r));
    assert.match(output(r), /not loopback and the listener has no TLS/);
    r = await bosun('--config', writeConfig('prebind-optin.toml', prebind('allow_plaintext_non_loopback = true')), '--check-config');
    assert.equal(r.code, 0, output(r));
    assert.match(output(r), /warning/i);
    const keyFile = certFile.replace(/\.crt$/, '.key');
    const tls = `tls_cert_file = ${JSON.stringify(certFile)}\ntls_key_file = ${JSON.stringify(keyFile)}`;
    r = await bosun('--config', writeConfig('prebind-tls.toml', prebind(tls)), '--check-config');
    assert.equal(r.code, 0, output(r));
    const badKey = `tls_cert_file = ${JSON.stringify(certFile)}\ntls_key_file = ${JSON.stringify(certFile)}`;
    r = await bosun('--config', writeConfig('prebind-badkey.toml', prebind(badKey)), '--check-config');
    assert.equal(r.code, 1, output(r));
    assert.match(output(r), /tls_key_file/);
});

test('--version prints the version and exits 0', { timeout: 10_000 }, async () => {
    const r = await bosun('--version');
    assert.equal(r.code, 0, output(r));
    assert.match(output(r), /\d+\.\d+\.\d+/);
});

test('--help prints usage (with --config and --check-config) and exits 0', { timeout: 10_000 }, async () => {
    const r = await bosun('--help');
    assert.equal(r.code, 0, output(r));
    assert.match(output(r), /--config/);
    assert.match(output(r), /--check-config/);
});

test('a missing config file is a clear startup error, not a crash', { timeout: 10_000 }, async () => {
    const missing = path.join(dir, 'does-not-exist.toml');
    const r = await bosun('--config', missing, '--check-config');
    assert.notEqual(r.code, 0);
    assert.equal(r.signal, null);
    assert.ok(output(r).includes(missing), `the message should name the file:\n${output(r)}`);
});
