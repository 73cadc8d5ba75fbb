// A raw BOSH client for black-box tests (XEP-0124 / XEP-0206).
//
// post() sends one HTTP POST and returns what came back, parsed
// namespace-aware with @xmldom/xmldom. The body builders follow the notation
// of the checklist (/work/shared/reference/bosh-checklist.md §0): new(R),
// poll(n), poll(n, X), term(C). BoshSession keeps sid and rid for a whole
// session and provides the login sequence (SASL PLAIN, restart, bind).

import http from 'node:http';
import https from 'node:https';
import { DOMParser } from '@xmldom/xmldom';

export const NS = Object.freeze({
    HTTPBIND: 'http://jabber.org/protocol/httpbind',
    XBOSH: 'urn:xmpp:xbosh',
    STREAM: 'http://etherx.jabber.org/streams',
    STREAMS_ERR: 'urn:ietf:params:xml:ns:xmpp-streams',
    SASL: 'urn:ietf:params:xml:ns:xmpp-sasl',
    BIND: 'urn:ietf:params:xml:ns:xmpp-bind',
    SESSION: 'urn:ietf:params:xml:ns:xmpp-session',
    TLS: 'urn:ietf:params:xml:ns:xmpp-tls',
    CLIENT: 'jabber:client',
    STANZAS: 'urn:ietf:params:xml:ns:xmpp-stanzas',
    PING: 'urn:xmpp:ping',
});

// ---------------------------------------------------------------- escaping

export function escapeXml(value) {
    return String(value)
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;')
        .replace(/'/g, '&apos;');
}

function attrString(attrs) {
    return Object.entries(attrs)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => ` ${k}='${escapeXml(v)}'`)
        .join('');
}

/** `<body …attrs>payload</body>` in the httpbind namespace. */
export function body(attrs = {}, payload = '') {
    const all = { ...attrs, xmlns: NS.HTTPBIND };
    return payload ? `<body${attrString(all)}>${payload}</body>` : `<body${attrString(all)}/>`;
}

// ---------------------------------------------------------------- body builders (checklist §0 notation)

/** new(R): the session creation request. Any attribute can be overridden or dropped (set to undefined). */
export function newSession({
    to = 'localhost',
    rid,
    wait = 60,
    hold = 1,
    ver = '1.6',
    lang = 'en',
    xmppVersion = '1.0',
    ...extra
} = {}) {
    if (rid === undefined) throw new Error('newSession: rid is required');
    return body({
        rid,
        to,
        wait,
        hold,
        ver,
        'xml:lang': lang,
        'xmpp:version': xmppVersion,
        'xmlns:xmpp': NS.XBOSH,
        ...extra,
    });
}

/** poll(n) / poll(n, X). */
export function poll(sid, rid, payload = '', extra = {}) {
    return body({ rid, sid, ...extra }, payload);
}

/** XEP-0206 §5 restart request. */
export function restart(sid, rid, { to = 'localhost', lang = 'en', ...extra } = {}) {
    return body({ rid, sid, to, 'xml:lang': lang, 'xmpp:restart': 'true', 'xmlns:xmpp': NS.XBOSH, ...extra });
}

/** XEP-0124 §13 terminate request, optionally carrying payloads and a condition. */
export function terminate(sid, rid, payload = '', { condition, ...extra } = {}) {
    return body({ rid, sid, type: 'terminate', condition, ...extra }, payload);
}

// ---------------------------------------------------------------- XMPP payload builders

/** base64("authzid\0user\0password") for SASL PLAIN (RFC 4616). */
export function saslPlain(user, password, authzid = '') {
    return Buffer.from(`${authzid}\0${user}\0${password}`, 'utf8').toString('base64');
}

export function authPlain(user, password, authzid = '') {
    return `<auth xmlns='${NS.SASL}' mechanism='PLAIN'>${saslPlain(user, password, authzid)}</auth>`;
}

export function bindIq(resource, id = 'bind_1') {
    const res = resource ? `<resource>${escapeXml(resource)}</resource>` : '';
    return `<iq xmlns='${NS.CLIENT}' type='set' id='${escapeXml(id)}'><bind xmlns='${NS.BIND}'>${res}</bind></iq>`;
}

export function message(to, text, { id, type = 'chat' } = {}) {
    return `<message xmlns='${NS.CLIENT}'${attrString({ to, type, id })}><body>${escapeXml(text)}</body></message>`;
}

export function presence({ to, type, status } = {}) {
    const inner = status ? `<status>${escapeXml(status)}</status>` : '';
    return inner
        ? `<presence xmlns='${NS.CLIENT}'${attrString({ to, type })}>${inner}</presence>`
        : `<presence xmlns='${NS.CLIENT}'${attrString({ to, type })}/>`;
}

// ---------------------------------------------------------------- HTTP

const defaultAgents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
};

/**
 * POSTs `xml` to `url`. Resolves { status, headers, text, doc, body, parseError, elapsedMs }.
 * `body` is the document element (null if the response is not XML); `doc` its document.
 * Rejects on network errors and after timeoutMs (default 30 s; a long poll needs wait + margin).
 */
export function post(url, xml, { headers = {}, timeoutMs = 30_000, agent, method = 'POST' } = {}) {
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : http;
    const data = Buffer.from(xml, 'utf8');
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const req = lib.request(
            target,
            {
                method,
                agent: agent ?? defaultAgents[target.protocol],
                headers: {
                    'Content-Type': 'text/xml; charset=utf-8',
                    'Content-Length': data.length,
                    ...headers,
                },
            },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('error', reject);
                res.on('end', () => {
                    clearTimeout(timer);
                    const text = Buffer.concat(chunks).toString('utf8');
                    const { doc, error } = parseXml(text);
                    resolve({
                        status: res.statusCode,
                        headers: res.headers,
                        text,
                        doc,
                        body: doc?.documentElement ?? null,
                        parseError: error,
                        elapsedMs: Date.now() - started,
                    });
                });
            },
        );
        const timer = setTimeout(() => {
            req.destroy(new Error(`POST ${url} got no response within ${timeoutMs} ms`));
        }, timeoutMs);
        req.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
        });
        req.end(data);
    });
}

/** Parses XML; returns { doc } or { doc: null, error }. */
export function parseXml(text) {
    if (!text) return { doc: null, error: 'empty' };
    let error = null;
    try {
        const doc = new DOMParser({
            onError: (level, msg) => {
                if (level !== 'warning') error ??= String(msg);
            },
        }).parseFromString(text, 'text/xml');
        if (error) return { doc: null, error };
        return { doc };
    } catch (e) {
        return { doc: null, error: e.message };
    }
}

// ---------------------------------------------------------------- DOM helpers

export function elementChildren(node) {
    const out = [];
    for (let n = node?.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n);
    return out;
}

/** First descendant element (depth-first) with this local name and, if given, namespace URI. */
export function findElement(node, localName, ns) {
    for (const child of elementChildren(node)) {
        if (child.localName === localName && (ns === undefined || child.namespaceURI === ns)) return child;
        const deeper = findElement(child, localName, ns);
        if (deeper) return deeper;
    }
    return null;
}

export function textOf(node) {
    return node ? node.textContent : null;
}

export function serialize(node) {
    return node ? node.toString() : String(node);
}

/** Attribute of <body/> in the xbosh namespace, whatever prefix the server chose. */
export function xboshAttr(bodyEl, localName) {
    return bodyEl.getAttributeNS(NS.XBOSH, localName) || null;
}

export function isTerminate(res, condition) {
    const b = res.body;
    if (!b || b.getAttribute('type') !== 'terminate') return false;
    return condition === undefined || b.getAttribute('condition') === condition;
}

/** Throws unless `res` is HTTP 200 with one <body/> in the httpbind namespace (checklist #13, #44). */
export function assertBody(res, what = 'response') {
    if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status}: ${res.text.slice(0, 500)}`);
    if (!res.body) throw new Error(`${what}: not XML (${res.parseError}): ${res.text.slice(0, 500)}`);
    if (res.body.localName !== 'body' || res.body.namespaceURI !== NS.HTTPBIND) {
        throw new Error(`${what}: root is {${res.body.namespaceURI}}${res.body.localName}, not an httpbind <body/>`);
    }
    return res.body;
}

// ---------------------------------------------------------------- a whole session

/**
 * One BOSH session with its own rid sequence.
 *
 * rids are taken when a request is *sent*, so concurrent requests carry
 * consecutive rids (a held poll and a message post, checklist #46). Every
 * response is checked (one httpbind <body/>, HTTP 200) and absorbed: stream
 * features are kept in `features`, other children go to `inbox`.
 *
 * In BOSH any request, one carrying a payload included, may be held for up
 * to `wait` when nothing is queued for the client (XEP-0124 §8); the next
 * request releases it. So the waiting helpers never block on their own
 * request: they wake whenever *any* request of the session is answered.
 */
export class BoshSession {
    #wakers = [];

    constructor(url, { domain = 'localhost', startRid, headers = {}, agent } = {}) {
        this.url = url;
        this.domain = domain;
        this.rid = startRid ?? 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
        this.sid = null;
        this.wait = 60;
        this.headers = headers;
        this.agent = agent;
        this.creation = null; // the creation response
        this.features = null; // last <stream:features/>
        this.featuresResponse = null; // the response that carried it
        this.jid = null;
        this.inbox = []; // stanzas received and not yet consumed by waitFor()
        this.responses = []; // every response, in arrival order
        this.terminated = null; // the first terminate response seen
        this.inFlight = 0; // requests sent and not yet answered
        this.background = new Set(); // requests not awaited by their sender
        this.backgroundErrors = [];
    }

    /** POSTs one body, checks and absorbs the response. */
    async request(xml, what, timeoutMs = (this.wait + 10) * 1000) {
        this.inFlight++;
        try {
            const res = await post(this.url, xml, { headers: this.headers, agent: this.agent, timeoutMs });
            assertBody(res, what);
            this.absorb(res);
            return res;
        } finally {
            this.inFlight--;
            this.#wake();
        }
    }

    absorb(res) {
        this.responses.push(res);
        if (isTerminate(res)) this.terminated ??= res;
        for (const el of elementChildren(res.body)) {
            if (el.localName === 'features' && el.namespaceURI === NS.STREAM) {
                this.features = el;
                this.featuresResponse = res;
            } else {
                this.inbox.push(el);
            }
        }
    }

    /** new(R). Records sid and wait; refuses a terminate answer. */
    async create(attrs = {}) {
        const rid = this.rid++;
        const res = await this.request(newSession({ to: this.domain, rid, ...attrs }), 'session creation', 15_000);
        if (isTerminate(res)) throw new Error(`session creation refused: ${res.text}`);
        this.creation = res;
        this.sid = res.body.getAttribute('sid');
        this.wait = Number(res.body.getAttribute('wait')) || 60;
        return res;
    }

    /** poll(n) / poll(n, payload) with the next rid; resolves with its response. */
    send(payload = '', extra = {}, timeoutMs) {
        const rid = this.rid++;
        return this.request(poll(this.sid, rid, payload, extra), `rid ${rid}`, timeoutMs);
    }

    /** XEP-0206 §5 restart request with the next rid. */
    restart(extra = {}) {
        const rid = this.rid++;
        return this.request(restart(this.sid, rid, { to: this.domain, ...extra }), `restart rid ${rid}`);
    }

    /** XEP-0124 §13 terminate request with the next rid. */
    terminate(payload = '', opts = {}) {
        const rid = this.rid++;
        return this.request(terminate(this.sid, rid, payload, opts), `terminate rid ${rid}`);
    }

    /**
     * Lets a request run without awaiting it (it may be held for `wait`); its response
     * is still absorbed. Failures land in `backgroundErrors` and fail the next wait.
     */
    inBackground(promise) {
        const p = promise.catch((err) => {
            this.backgroundErrors.push(err);
        });
        this.background.add(p);
        p.finally(() => this.background.delete(p));
        return p;
    }

    sendInBackground(payload = '', extra = {}) {
        return this.inBackground(this.send(payload, extra));
    }

    /** Awaits every background request; throws the first background failure. */
    async settle() {
        await Promise.allSettled([...this.background]);
        if (this.backgroundErrors.length) throw this.backgroundErrors[0];
    }

    #wake() {
        const wakers = this.#wakers;
        this.#wakers = [];
        for (const w of wakers) w();
    }

    /** Resolves when any request of this session completes, or after ms. */
    #changed(ms) {
        return new Promise((resolve) => {
            const timer = setTimeout(resolve, Math.max(0, ms));
            this.#wakers.push(() => {
                clearTimeout(timer);
                resolve();
            });
        });
    }

    /** Waits until check() returns a value, keeping one poll in flight. */
    async #until(check, timeoutMs, what) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const value = check();
            if (value !== undefined) return value;
            if (this.terminated) throw new Error(`session terminated while waiting for ${what}: ${this.terminated.text}`);
            if (this.backgroundErrors.length) throw this.backgroundErrors[0];
            const left = deadline - Date.now();
            if (left <= 0) {
                throw new Error(`no ${what} within ${timeoutMs} ms; inbox: ${this.inbox.map(serialize).join(' ')}`);
            }
            if (this.inFlight === 0) this.sendInBackground();
            await this.#changed(left);
        }
    }

    /** Waits for stream features (XEP-0206 §4: in the creation response or a later one). */
    waitForFeatures(timeoutMs = 10_000, predicate = () => true) {
        return this.#until(
            () => (this.features && predicate(this.features) ? this.features : undefined),
            timeoutMs,
            '<stream:features/>',
        );
    }

    /** The first inbox stanza matching predicate (removed from the inbox); polls until one arrives. */
    waitFor(predicate, timeoutMs = 10_000) {
        return this.#until(
            () => {
                const i = this.inbox.findIndex(predicate);
                return i >= 0 ? this.inbox.splice(i, 1)[0] : undefined;
            },
            timeoutMs,
            'matching stanza',
        );
    }

    /** SASL PLAIN → <success/> (throws with the <failure/>). */
    async authPlain(user, password) {
        await this.waitForFeatures();
        this.features = null;
        this.sendInBackground(authPlain(user, password));
        const outcome = await this.waitFor(
            (el) => el.namespaceURI === NS.SASL && (el.localName === 'success' || el.localName === 'failure'),
        );
        if (outcome.localName !== 'success') throw new Error(`SASL failed: ${serialize(outcome)}`);
        return outcome;
    }

    /** XEP-0206 §5 restart; resolves the new features, which must offer <bind/>. */
    async restartForBind() {
        this.features = null;
        this.inBackground(this.restart());
        return this.waitForFeatures(10_000, (f) => !!findElement(f, 'bind', NS.BIND));
    }

    /** RFC 6120 §7 resource binding; returns the full JID. */
    async bind(resource, id = `bind_${Math.random().toString(36).slice(2)}`) {
        this.sendInBackground(bindIq(resource, id));
        const iq = await this.waitFor((el) => el.localName === 'iq' && el.getAttribute('id') === id);
        if (iq.getAttribute('type') !== 'result') throw new Error(`bind failed: ${serialize(iq)}`);
        this.jid = textOf(findElement(iq, 'jid', NS.BIND));
        return this.jid;
    }

    /** create → PLAIN → restart → bind. Returns the full JID. */
    async login(user, password, resource = 'raw', createAttrs = {}) {
        if (!this.sid) await this.create(createAttrs);
        await this.authPlain(user, password);
        await this.restartForBind();
        return this.bind(resource);
    }

    /** Terminates (if still alive) and waits for every request; never throws. */
    async close(payload = '') {
        if (this.sid && !this.terminated) await this.terminate(payload).catch(() => {});
        await Promise.allSettled([...this.background]);
    }
}
