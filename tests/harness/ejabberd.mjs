// A private ejabberd (Debian 12's 23.01) for tests, with `auth_method: jwt`.
//
// startEjabberd() writes its own ejabberd.yml, JWT key, certificate, Mnesia
// dir and log into a temp folder and runs the Erlang VM directly, in the
// foreground, as the current user (root in CI):
//
//   ERL_LIBS=/usr/lib/<triplet> EJABBERD_CONFIG_PATH=<dir>/ejabberd.yml \
//   EJABBERD_LOG_PATH=<dir>/log/ejabberd.log \
//   erl -noinput -mnesia dir '"<dir>/db"' -s ejabberd
//
// That is what `ejabberdctl foreground` runs, minus two things:
//   - ejabberdctl switches to the `ejabberd` user (su) when started as root
//     and reads /etc/ejabberd/ejabberdctl.cfg; we need neither;
//   - no -sname/-name: the VM is not distributed (node nonode@nohost). So
//     there is no epmd daemon (which would outlive the test, listening on
//     every interface) and no distribution port or cookie at all: nothing but
//     our own loopback listeners is open, and two test runs cannot see each
//     other's nodes. The price is that `ejabberdctl` cannot reach this node;
//     with JWT auth no command is needed (there are no accounts to register:
//     ejabberd lets any JID in that presents a valid token, the test's "other
//     user" included; mintJwt() makes one).
// It never touches /etc/ejabberd, /var/lib/ejabberd or the system service
// (tools/setup installs the package and stops and disables that service).
// Startup takes about 1.5 s and is bounded by startTimeoutMs; stop() sends
// SIGTERM (the VM runs init:stop, about 1 s), then SIGKILL after 3 s, and
// spawnManaged() kills the VM if the test process dies first.
//
// JWT key (ejabberd's `jwt_key` is a JWK file, read by the jose library):
//   jwtAlg 'HS256' (default): a random 256-bit {"kty":"oct","k":...} JWK. The
//     same file is Bosun's `ejabberd_jwt_key_file` (jwt.bosunKeyFile).
//   jwtAlg 'ES256': a P-256 key pair; ejabberd gets the public JWK, Bosun the
//     private PEM (jwt.bosunKeyFile).
// With `bosh: true` ejabberd's own mod_bosh is served at boshUrl (issue 5
// compares Bosun against it).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeCert } from './certs.mjs';
import { freePort } from './ports.mjs';
import { makeTempDir, readIfExists, spawnManaged, stopAndRemove, waitForServer } from './proc.mjs';

const ERL = process.env.EJABBERD_ERL || '/usr/bin/erl';

/** Where Debian installs ejabberd-<version>/ebin: ejabberdctl's ERL_LIBS, /usr/lib/<multiarch triplet>. */
function ejabberdLibDir() {
    if (process.env.EJABBERD_ERL_LIBS) return process.env.EJABBERD_ERL_LIBS;
    for (const triplet of fs.readdirSync('/usr/lib')) {
        const dir = path.join('/usr/lib', triplet);
        try {
            if (fs.readdirSync(dir).some((d) => d.startsWith('ejabberd-'))) return dir;
        } catch {
            // not a directory, or unreadable
        }
    }
    throw new Error('ejabberd is not installed (no /usr/lib/*/ejabberd-*; run tools/setup)');
}

const yaml = (s) => JSON.stringify(String(s)); // a YAML double-quoted scalar (JSON escapes are valid YAML)
const b64u = (x) => Buffer.from(x).toString('base64url');

/** A key pair (or secret) for ejabberd's jwt_key and Bosun's ejabberd_jwt_key_file. */
export function makeJwtKey(dir, alg = 'HS256') {
    const jwkFile = path.join(dir, 'jwt.jwk');
    if (alg === 'HS256') {
        const secret = crypto.randomBytes(32);
        fs.writeFileSync(jwkFile, JSON.stringify({ kty: 'oct', k: b64u(secret) }) + '\n', { mode: 0o600 });
        return { alg, jwkFile, bosunKeyFile: jwkFile, secret, privateKey: null };
    }
    if (alg === 'ES256') {
        const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        fs.writeFileSync(jwkFile, JSON.stringify(publicKey.export({ format: 'jwk' })) + '\n');
        const bosunKeyFile = path.join(dir, 'jwt-private.pem');
        fs.writeFileSync(bosunKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
        return { alg, jwkFile, bosunKeyFile, secret: null, privateKey };
    }
    throw new Error(`makeJwtKey: unsupported alg ${alg}`);
}

/**
 * A token ejabberd's auth_method jwt accepts as the PLAIN password of `jid`
 * (its bare JID in claim `jidField`, and exp; no leeway on ejabberd's side).
 */
export function signEjabberdJwt(key, jid, { lifetime = 60, jidField = 'jid', claims = {} } = {}) {
    const exp = Math.floor(Date.now() / 1000) + lifetime;
    const input = `${b64u(JSON.stringify({ alg: key.alg, typ: 'JWT' }))}.${b64u(JSON.stringify({ [jidField]: jid, exp, ...claims }))}`;
    const sig = key.alg === 'HS256'
        ? crypto.createHmac('sha256', key.secret).update(input).digest()
        : crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64u(sig)}`;
}

function renderConfig(o) {
    const listen = [
        '  - port: ' + o.c2sPort,
        '    ip: "127.0.0.1"',
        '    module: ejabberd_c2s',
        `    starttls_required: ${o.tls}`,
        '    max_stanza_size: 262144',
    ];
    if (o.bosh) {
        listen.push(
            '  - port: ' + o.httpPort,
            '    ip: "127.0.0.1"',
            '    module: ejabberd_http',
            '    request_handlers:',
            '      /http-bind: mod_bosh',
        );
    }
    const lines = [
        '# Generated by tests/harness/ejabberd.mjs; private to one test run.',
        `hosts: [${yaml(o.domain)}]`,
        `loglevel: ${o.logLevel}`,
        'log_rotate_count: 0',
        'hide_sensitive_log_data: true',
        ...(o.tls ? [`certfiles: [${yaml(o.certFile)}, ${yaml(o.keyFile)}]`] : []),
        // Any JID with a token signed by jwt_key logs in; nobody is registered.
        'auth_method: [jwt]',
        `jwt_key: ${yaml(o.jwt.jwkFile)}`,
        `jwt_jid_field: ${yaml(o.jidField)}`,
        's2s_access: none',
        'listen:',
        ...listen,
        'acl:',
        '  local:',
        '    user_regexp: ""',
        'access_rules:',
        '  local:',
        '    allow: local',
        '  c2s:',
        '    allow: all',
        'modules:',
        '  mod_disco: {}',
        '  mod_ping: {}',
        '  mod_roster: {}',
        ...(o.bosh ? [`  mod_bosh:`, `    max_inactivity: ${o.boshInactivity}`] : []),
        o.extraConfig,
    ];
    return lines.join('\n') + '\n';
}

/**
 * @param {object} [opts]
 * @param {string} [opts.domain='localhost'] the one vhost
 * @param {boolean} [opts.tls=true] STARTTLS (required) with a generated cert (caFile for Bosun)
 * @param {'HS256'|'ES256'} [opts.jwtAlg='HS256'] the jwt_key type (makeJwtKey)
 * @param {string} [opts.jidField='jid'] ejabberd's jwt_jid_field
 * @param {boolean} [opts.bosh=false] ejabberd's own mod_bosh on a free http port (boshUrl)
 * @param {number} [opts.c2sPort] [opts.httpPort] fixed ports (default: free ones)
 * @param {string} [opts.extraConfig] YAML appended verbatim (top-level keys, or more modules
 *   indented two spaces, since it follows `modules:`)
 * @param {string} [opts.logLevel='info'] ejabberd loglevel (debug logs every stanza)
 * @param {number} [opts.startTimeoutMs=20000]
 * @returns {Promise<{domain, c2sPort, httpPort, boshUrl, caFile, jwt, mintJwt(jid, o?),
 *   configFile, dir, pid, isAlive(), stop(), log()}>}
 */
export async function startEjabberd(opts = {}) {
    const o = {
        domain: 'localhost',
        tls: true,
        jwtAlg: 'HS256',
        jidField: 'jid',
        bosh: false,
        boshInactivity: 60,
        extraConfig: '',
        logLevel: 'info',
        startTimeoutMs: 20_000,
        ...opts,
    };
    const erlLibs = ejabberdLibDir(); // fails before anything is made when ejabberd is missing
    o.dir = makeTempDir('ejabberd');
    o.c2sPort = o.c2sPort ?? (await freePort());
    if (o.bosh) o.httpPort = o.httpPort ?? (await freePort());
    const logDir = path.join(o.dir, 'log');
    const dbDir = path.join(o.dir, 'db');
    fs.mkdirSync(logDir, { mode: 0o700 });
    fs.mkdirSync(dbDir, { mode: 0o700 });
    o.logFile = path.join(logDir, 'ejabberd.log');
    if (o.tls) Object.assign(o, await makeCert(path.join(o.dir, 'certs'), [o.domain]));
    o.jwt = makeJwtKey(o.dir, o.jwtAlg);

    const configFile = path.join(o.dir, 'ejabberd.yml');
    fs.writeFileSync(configFile, renderConfig(o));

    const env = {
        PATH: process.env.PATH,
        HOME: o.dir,
        ERL_LIBS: erlLibs,
        EJABBERD_CONFIG_PATH: configFile,
        EJABBERD_LOG_PATH: o.logFile,
        ERL_CRASH_DUMP: path.join(logDir, 'erl_crash.dump'),
        ERL_CRASH_DUMP_BYTES: '0',
        ERL_MAX_PORTS: '4096',
    };
    // The Erlang string "<dir>" (no shell: the quotes reach erl as they are).
    const args = ['-noinput', '+K', 'true', '-mnesia', 'dir', `"${dbDir}"`, '-s', 'ejabberd'];
    const proc = spawnManaged(ERL, args, { cwd: o.dir, env, name: 'ejabberd' });
    // The console repeats the log file; its tail adds what the VM printed before logging began.
    const log = () => `${readIfExists(o.logFile)}\n--- console tail ---\n${proc.output().slice(-2000)}`;
    const stop = stopAndRemove(proc, o.dir, 3000);
    await waitForServer('ejabberd', proc, [o.c2sPort, o.bosh && o.httpPort], { timeoutMs: o.startTimeoutMs, stop, log });

    return {
        domain: o.domain,
        c2sPort: o.c2sPort,
        httpPort: o.httpPort,
        boshUrl: o.bosh ? `http://127.0.0.1:${o.httpPort}/http-bind` : undefined,
        caFile: o.certFile,
        certFile: o.certFile,
        jwt: o.jwt,
        jidField: o.jidField,
        /** A JWT for `jid` (bare) signed with this server's key; opts: lifetime, claims. */
        mintJwt: (jid, mintOpts = {}) => signEjabberdJwt(o.jwt, jid, { jidField: o.jidField, ...mintOpts }),
        configFile,
        dir: o.dir,
        pid: proc.pid,
        isAlive: proc.isAlive,
        stop,
        log,
    };
}
