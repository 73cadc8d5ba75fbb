#!/usr/bin/env node
// A minimal web-app back end that logs its users in to XMPP through Bosun's
// prebind API, for Converse.js's `authentication: 'prebind'`.
// node:http only, no framework. See README.md beside this file.
//
//   GET  /                   login form, or the Converse.js page once logged in
//   POST /login              username + password against this app's own users
//   GET  /logout             ends the web session and the user's Bosun sessions
//   GET  /api/xmpp/prebind   Converse's prebind_url: {jid, sid, rid} from Bosun
//   GET  /dist/...           Converse.js files (node_modules/converse.js/dist)
//   *    /http-bind          proxied to Bosun's BOSH endpoint when BOSH_PROXY_URL
//                            is set (else a reverse proxy in front routes it)
//
// The XMPP passwords live in the users file and in this process only: the
// browser gets a ready BOSH session (jid, sid, rid), never a credential.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const COOKIE = 'webapp_session';
const SESSION_TTL_MS = 8 * 3600 * 1000;
const BOSUN_TIMEOUT_MS = 20_000; // the prebind call logs in upstream: a few round trips
const MAX_FORM_BYTES = 4096;

const MIME = {
    '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json',
    '.map': 'application/json',
    '.wasm': 'application/wasm',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.ico': 'image/x-icon',
    '.woff': 'font/woff',
    '.woff2': 'font/woff2',
    '.ttf': 'font/ttf',
    '.mp3': 'audio/mpeg',
    '.ogg': 'audio/ogg',
};

/** Reads the API key from `key`, else the first line of `keyFile`. */
export function loadApiKey({ key, keyFile }) {
    if (key) return key.trim();
    if (keyFile) return fs.readFileSync(keyFile, 'utf8').split('\n')[0].trim();
    return '';
}

/**
 * The X-Bosun-* headers of a signed request (docs/prebind.md, Request signing):
 * HMAC-SHA256 over METHOD, the request target, a Unix timestamp, a fresh
 * 128-bit nonce and the body's SHA-256. `signing` is { keyId, secret }.
 */
export function signRequest(signing, method, url, body) {
    const { pathname, search } = new URL(url);
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = crypto.randomBytes(16).toString('hex');
    const bodyHash = crypto.createHash('sha256').update(body).digest('hex');
    const mac = crypto.createHmac('sha256', signing.secret)
        .update(`${method}\n${pathname}${search}\n${ts}\n${nonce}\n${bodyHash}`).digest('hex');
    return {
        'x-bosun-key-id': signing.keyId,
        'x-bosun-timestamp': ts,
        'x-bosun-nonce': nonce,
        'x-bosun-signature': `v1=${mac}`,
    };
}

/** { keyId, secret } from BOSUN_SIGNING_KEY_ID and BOSUN_SIGNING_SECRET_FILE, or undefined. */
export function loadSigning({ keyId, secretFile }) {
    if (!keyId && !secretFile) return undefined;
    if (!keyId || !secretFile) throw new Error('BOSUN_SIGNING_KEY_ID and BOSUN_SIGNING_SECRET_FILE go together');
    const secret = fs.readFileSync(secretFile).toString('utf8').replace(/[\r\n]+$/, '');
    return { keyId, secret };
}

/**
 * Users file (JSON): { "users": { "<web login>": { "password": "<web password>",
 *   "xmpp": { "jid": "alice@localhost", "password": "<XMPP password>" } } } }
 */
export function loadUsers(file) {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    const users = new Map();
    for (const [name, u] of Object.entries(parsed.users ?? {})) {
        if (typeof u?.password !== 'string' || typeof u?.xmpp?.jid !== 'string' || typeof u?.xmpp?.password !== 'string') {
            throw new Error(`${file}: user ${name} needs password, xmpp.jid and xmpp.password`);
        }
        users.set(name, u);
    }
    return users;
}

const sha256 = (s) => crypto.createHash('sha256').update(String(s)).digest();
// Equal-length digests, so the comparison time says nothing about the password.
const samePassword = (a, b) => crypto.timingSafeEqual(sha256(a), sha256(b));
const escapeHtml = (s) =>
    String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
// JSON inside a <script>: no "</script>" or "<!--" can close or confuse it.
const scriptJson = (v) => JSON.stringify(v).replace(/</g, '\\u003c');

function parseCookies(header = '') {
    const out = {};
    for (const part of header.split(';')) {
        const i = part.indexOf('=');
        if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
    return out;
}

function readBody(req, limit) {
    return new Promise((resolve, reject) => {
        let size = 0;
        const chunks = [];
        req.on('data', (c) => {
            size += c.length;
            if (size > limit) {
                reject(Object.assign(new Error('body too large'), { status: 413 }));
                req.destroy();
            } else chunks.push(c);
        });
        req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        req.on('error', reject);
    });
}

function send(res, status, body, headers = {}) {
    res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
}

const sendJson = (res, status, value, headers = {}) =>
    send(res, status, JSON.stringify(value), { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });

const PAGE_HEADERS = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    // Images only from here (Converse links logos on its website): the page
    // makes no request off this server.
    'content-security-policy': "img-src 'self' data: blob:; frame-ancestors 'none'",
};

function loginPage(error = '') {
    return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Web app: sign in</title>
<style>body{font-family:sans-serif;max-width:22rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.3rem 0}.error{color:#b00}</style>
</head>
<body>
<h1>Sign in</h1>
<p>Sign in to the web app; it signs you in to chat (XMPP) through Bosun's prebind API.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login">
<label>User name <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`;
}

// The Converse.js 14 page: dist/converse.min.js is an ES module.
function chatPage(user, bareJid) {
    const settings = {
        authentication: 'prebind',
        prebind_url: '/api/xmpp/prebind',
        jid: bareJid,
        auto_login: true,
        discover_connection_methods: false,
        bosh_service_url: '/http-bind',
        view_mode: 'fullscreen',
        allow_logout: false, // the web app's own "Sign out" ends the XMPP session too
        show_controlbox_by_default: true,
        i18n: 'en',
        whitelisted_plugins: ['webapp-status'],
    };
    return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Web app: chat</title>
<link rel="stylesheet" href="/dist/converse.min.css">
<link rel="icon" href="/dist/images/favicon.ico">
<style>#webapp-bar{position:fixed;bottom:0;left:0;z-index:10000;background:#fff;padding:.2rem .6rem;font:13px sans-serif;border-top-right-radius:4px}</style>
</head>
<body class="converse-fullscreen">
<div id="webapp-bar">Web app: <b>${escapeHtml(user)}</b> · <a href="/logout">Sign out</a></div>
<noscript>The chat needs JavaScript: Converse.js runs in the browser.</noscript>
<script type="module">
import converse from '/dist/converse.min.js';

const settings = ${scriptJson(settings)};
settings.loglevel = new URLSearchParams(location.search).get('loglevel') ?? 'info';

// The connection state for people (title) and tests (window.webapp).
window.webapp = { status: 'connecting', jid: null, contacts: [], messages: [], connects: 0 };
function setStatus(status, jid) {
    Object.assign(window.webapp, { status, jid: jid ?? window.webapp.jid });
    document.body.dataset.xmppStatus = status;
    document.title = \`Web app: \${status}\`;
}
converse.plugins.add('webapp-status', {
    initialize() {
        const { api } = this._converse;
        const connected = () => {
            window.webapp.connects++;
            setStatus('connected', api.connection.get()?.jid ?? null);
        };
        api.listen.on('connected', connected);
        api.listen.on('reconnected', connected);
        api.listen.on('will-reconnect', () => setStatus('reconnecting'));
        api.listen.on('disconnected', () => setStatus('disconnected'));
        api.listen.on('noResumeableBOSHSession', () => setStatus('prebind-failed'));
        api.listen.on('rosterContactsFetched', async () => {
            const contacts = await api.contacts.get();
            window.webapp.contacts = contacts.map((c) => c.get('jid'));
        });
        api.listen.on('message', ({ attrs }) => {
            if (attrs?.body) window.webapp.messages.push({ from: attrs.contact_jid, body: attrs.body });
        });
    },
});
converse.initialize(settings);
</script>
</body>
</html>
`;
}

/**
 * Starts the back end. Options:
 *   listen     { host, port } (port 0: a free one)
 *   users      Map from loadUsers()
 *   apiUrl     Bosun's prebind API base, e.g. http://127.0.0.1:5281
 *   apiKey     the API key (bsk_<client>_<secret>)
 *   boshProxy  optional Bosun BOSH URL to proxy /http-bind to
 *   distDir    Converse.js dist folder
 *   secureCookies  add Secure to the cookie (behind HTTPS)
 *   trustProxy believe X-Forwarded-For for the end user's address
 *   log        (line) => void
 * Resolves { url, port, server, stats: { prebinds, prebindFailures }, close() }.
 */
export async function startWebApp(opts) {
    const o = {
        listen: { host: '127.0.0.1', port: 8081 },
        secureCookies: false,
        trustProxy: false,
        log: (line) => process.stdout.write(`webapp: ${line}\n`),
        ...opts,
    };
    if (!o.apiKey) throw new Error('no Bosun API key (BOSUN_API_KEY or BOSUN_API_KEY_FILE)');
    const apiBase = o.apiUrl.replace(/\/+$/, '');
    const distDir = path.resolve(o.distDir ?? path.join(REPO, 'node_modules', 'converse.js', 'dist'));
    const sessions = new Map(); // cookie id -> { user, expires }
    const stats = { prebinds: 0, prebindFailures: 0 };

    const sessionOf = (req) => {
        const id = parseCookies(req.headers.cookie)[COOKIE];
        const s = id && sessions.get(id);
        if (!s) return null;
        if (s.expires < Date.now()) {
            sessions.delete(id);
            return null;
        }
        return { id, ...s };
    };
    const cookie = (value, maxAge) =>
        `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${o.secureCookies ? '; Secure' : ''}`;
    const clientIp = (req) =>
        (o.trustProxy && req.headers['x-forwarded-for']?.split(',').pop().trim()) || req.socket.remoteAddress;

    /** Calls Bosun's API; resolves { status, json }. */
    async function bosun(method, apiPath, body) {
        const payload = body ? JSON.stringify(body) : '';
        const res = await fetch(apiBase + apiPath, {
            method,
            headers: {
                authorization: `Bearer ${o.apiKey}`,
                ...(body ? { 'content-type': 'application/json' } : {}),
                ...(o.signing ? signRequest(o.signing, method, apiBase + apiPath, payload) : {}),
            },
            body: body ? payload : undefined,
            signal: AbortSignal.timeout(BOSUN_TIMEOUT_MS),
        });
        const text = await res.text();
        let json = null;
        try {
            json = text ? JSON.parse(text) : null;
        } catch {
            json = null;
        }
        return { status: res.status, json };
    }

    async function login(req, res) {
        // A form posted from another site is refused (login CSRF).
        const origin = req.headers.origin;
        if (origin && origin !== 'null' && new URL(origin).host !== req.headers.host) {
            return send(res, 403, 'cross-site form', { 'content-type': 'text/plain' });
        }
        const form = new URLSearchParams(await readBody(req, MAX_FORM_BYTES));
        const name = form.get('username') ?? '';
        const user = o.users.get(name);
        // Compare even for an unknown name, so timing does not tell which names exist.
        const ok = samePassword(form.get('password') ?? '', user?.password ?? crypto.randomUUID()) && user;
        if (!ok) {
            o.log(`login failed for ${JSON.stringify(name.slice(0, 64))}`);
            return send(res, 401, loginPage('Wrong user name or password.'), PAGE_HEADERS);
        }
        const id = crypto.randomBytes(32).toString('base64url');
        for (const [k, v] of sessions) if (v.expires < Date.now()) sessions.delete(k);
        sessions.set(id, { user: name, expires: Date.now() + SESSION_TTL_MS });
        o.log(`login ${name}`);
        res.writeHead(303, { location: '/', 'set-cookie': cookie(id, SESSION_TTL_MS / 1000), 'cache-control': 'no-store' });
        res.end();
    }

    async function logout(req, res) {
        const s = sessionOf(req);
        if (s) {
            sessions.delete(s.id);
            const jid = o.users.get(s.user).xmpp.jid.replace(/\/.*$/, '');
            try {
                const r = await bosun('DELETE', `/v1/users/${encodeURIComponent(jid)}/sessions`);
                o.log(`logout ${s.user}: Bosun ended ${r.json?.ended ?? '?'} session(s) (HTTP ${r.status})`);
            } catch (err) {
                o.log(`logout ${s.user}: Bosun not reached (${err.name})`);
            }
        }
        res.writeHead(303, { location: '/', 'set-cookie': cookie('', 0), 'cache-control': 'no-store' });
        res.end();
    }

    // Converse's prebind_url: a fresh Bosun session for the logged-in user.
    async function prebind(req, res) {
        const s = sessionOf(req);
        if (!s) return sendJson(res, 401, { error: 'not_logged_in' });
        stats.prebinds++;
        const { xmpp } = o.users.get(s.user);
        let r;
        try {
            r = await bosun('POST', '/v1/prebind', {
                auth: { method: 'password', jid: xmpp.jid, password: xmpp.password },
                client: { ip: clientIp(req) },
            });
        } catch (err) {
            stats.prebindFailures++;
            o.log(`prebind ${s.user}: Bosun not reached (${err.name}: ${err.cause?.code ?? err.message})`);
            return sendJson(res, 502, { error: 'bosun_unreachable' });
        }
        if (r.status !== 201 || !r.json?.sid) {
            stats.prebindFailures++;
            // Bosun's problem details never carry the password; pass on the type only.
            o.log(`prebind ${s.user}: Bosun answered ${r.status} ${r.json?.error ?? ''}`);
            const status = r.status === 429 ? 429 : 502;
            return sendJson(res, status, { error: r.json?.error ?? 'prebind_failed' });
        }
        const { jid, sid, rid } = r.json;
        o.log(`prebind ${s.user}: ${jid}`);
        return sendJson(res, 200, { jid, sid, rid });
    }

    function serveDist(req, res, urlPath) {
        let rel;
        try {
            rel = decodeURIComponent(urlPath.slice('/dist/'.length));
        } catch {
            return send(res, 400, 'bad path');
        }
        const file = path.resolve(distDir, rel);
        if (!file.startsWith(distDir + path.sep)) return send(res, 404, 'not found');
        fs.stat(file, (err, st) => {
            if (err || !st.isFile()) return send(res, 404, 'not found', { 'content-type': 'text/plain' });
            res.writeHead(200, {
                'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
                'content-length': st.size,
                'cache-control': 'public, max-age=3600',
            });
            if (req.method === 'HEAD') return res.end();
            fs.createReadStream(file).pipe(res);
        });
    }

    // Streams /http-bind to Bosun as it is: one held long poll per request.
    function proxyBosh(req, res) {
        const target = new URL(o.boshProxy);
        const headers = { ...req.headers, host: target.host, 'x-forwarded-for': req.socket.remoteAddress };
        for (const h of ['connection', 'keep-alive', 'upgrade', 'cookie', 'te', 'trailer', 'proxy-connection']) delete headers[h];
        const up = http.request(
            { host: target.hostname, port: target.port, method: req.method, path: target.pathname, headers },
            (upRes) => {
                res.writeHead(upRes.statusCode, upRes.headers);
                upRes.pipe(res);
            },
        );
        up.on('error', () => {
            if (!res.headersSent) send(res, 502, 'BOSH upstream unavailable', { 'content-type': 'text/plain' });
            else res.destroy();
        });
        res.on('close', () => up.destroy());
        req.pipe(up);
    }

    async function route(req, res) {
        const url = new URL(req.url, 'http://x');
        const p = url.pathname;
        if (p === '/http-bind' && o.boshProxy) return proxyBosh(req, res);
        if (p.startsWith('/dist/') && (req.method === 'GET' || req.method === 'HEAD')) return serveDist(req, res, p);
        // libomemo fetches its WebAssembly relative to the page.
        if (p === '/curve25519_compiled.wasm') return serveDist(req, res, '/dist/curve25519_compiled.wasm');
        if (p === '/' && req.method === 'GET') {
            const s = sessionOf(req);
            if (!s) return send(res, 200, loginPage(), PAGE_HEADERS);
            const bare = o.users.get(s.user).xmpp.jid.replace(/\/.*$/, '');
            return send(res, 200, chatPage(s.user, bare), PAGE_HEADERS);
        }
        if (p === '/login' && req.method === 'POST') return login(req, res);
        if (p === '/logout' && req.method === 'GET') return logout(req, res);
        if (p === '/api/xmpp/prebind' && req.method === 'GET') return prebind(req, res);
        return send(res, 404, 'not found', { 'content-type': 'text/plain' });
    }

    const server = http.createServer((req, res) => {
        route(req, res).catch((err) => {
            if (!res.headersSent) send(res, err.status ?? 500, err.status ? err.message : 'internal error');
            if (!err.status) o.log(`error: ${err.stack}`);
        });
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.listen.port, o.listen.host, resolve);
    });
    const { port } = server.address();
    const url = `http://${o.listen.host}:${port}/`;
    return {
        url,
        port,
        server,
        stats,
        close: () =>
            new Promise((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
}

function parseListen(s) {
    const m = /^(.*):(\d+)$/.exec(s);
    if (!m) throw new Error(`WEBAPP_LISTEN must be host:port, not ${s}`);
    return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

async function main() {
    const env = process.env;
    const app = await startWebApp({
        listen: parseListen(env.WEBAPP_LISTEN ?? '127.0.0.1:8081'),
        users: loadUsers(env.WEBAPP_USERS_FILE ?? path.join(HERE, 'users.example.json')),
        apiUrl: env.BOSUN_API_URL ?? 'http://127.0.0.1:5281',
        apiKey: loadApiKey({ key: env.BOSUN_API_KEY, keyFile: env.BOSUN_API_KEY_FILE }),
        signing: loadSigning({ keyId: env.BOSUN_SIGNING_KEY_ID, secretFile: env.BOSUN_SIGNING_SECRET_FILE }),
        boshProxy: env.BOSH_PROXY_URL || undefined,
        distDir: env.CONVERSE_DIST,
        secureCookies: env.COOKIE_SECURE === '1',
        trustProxy: env.TRUST_PROXY === '1',
    });
    console.log(`webapp: listening on ${app.url}${env.BOSH_PROXY_URL ? ` (/http-bind -> ${env.BOSH_PROXY_URL})` : ''}`);
    const stop = () => app.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
    main().catch((err) => {
        console.error(`webapp: ${err.message}`);
        process.exit(1);
    });
}
