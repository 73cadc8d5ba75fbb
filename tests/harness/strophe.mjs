// Strophe.js 5 under Node, over BOSH.
//
// Strophe 5's own Node entry (strophe.node.esm.js) imports the `ws` and
// `saxes` packages, which are not installed here and which BOSH does not
// need. So we load the browser ES module build (dist/strophe.esm.js, which has
// no imports) after installing what a browser would provide:
//   - DOMParser / XMLSerializer / document from @xmldom/xmldom, with the two
//     polyfills Strophe's own Node shim adds (firstElementChild, and a
//     DOMParser that returns a <parsererror> document instead of throwing);
//   - XMLHttpRequest from ./xhr.mjs (over node:http), whose responseXML works
//     (Strophe ignores responses without it).
// Set STROPHE_LOG=debug|info|warn|error to see Strophe's own log (default: error).

import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DOMImplementation, DOMParser as XmlDomParser, XMLSerializer } from '@xmldom/xmldom';
import { XMLHttpRequest } from './xhr.mjs';

const PARSE_ERROR_NS = 'http://www.w3.org/1999/xhtml';

const domImplementation = new DOMImplementation();

class DOMParser {
    parseFromString(source, mimeType) {
        try {
            const parser = new XmlDomParser({
                onError: (level, message) => {
                    if (level === 'fatalError' || level === 'error') throw new Error(String(message));
                },
            });
            return parser.parseFromString(source, mimeType);
        } catch (e) {
            const doc = domImplementation.createDocument(PARSE_ERROR_NS, 'parsererror', null);
            doc.documentElement.appendChild(doc.createTextNode(e.message));
            return doc;
        }
    }
}

function installDomGlobals() {
    globalThis.DOMParser = DOMParser;
    globalThis.XMLSerializer = XMLSerializer;
    globalThis.XMLHttpRequest = XMLHttpRequest;
    globalThis.document ??= domImplementation.createDocument(null, null, null);
    const sample = domImplementation.createDocument(null, 'sample', null);
    for (const proto of [Object.getPrototypeOf(sample.documentElement), Object.getPrototypeOf(sample)]) {
        if (!('firstElementChild' in proto)) {
            Object.defineProperty(proto, 'firstElementChild', {
                configurable: true,
                get() {
                    let node = this.firstChild;
                    while (node && node.nodeType !== 1) node = node.nextSibling;
                    return node ?? null;
                },
            });
        }
    }
}

installDomGlobals();

const require = createRequire(import.meta.url);
const stropheDir = path.dirname(require.resolve('strophe.js/package.json'));
const mod = await import(pathToFileURL(path.join(stropheDir, 'dist', 'strophe.esm.js')).href);

export const { Strophe, $msg, $pres, $iq, $build } = mod;
export { XMLHttpRequest };

const LOG_LEVELS = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };
Strophe.setLogLevel(LOG_LEVELS[process.env.STROPHE_LOG ?? 'error'] ?? 3);

export function statusName(status) {
    return Object.keys(Strophe.Status).find((k) => Strophe.Status[k] === status) ?? String(status);
}

/**
 * Logs in over BOSH. Resolves the Strophe.Connection on CONNECTED; rejects with
 * an Error whose message is the status name (AUTHFAIL, CONNFAIL, …) and the condition.
 * conn.statusLog records every status change.
 */
export function connect(url, jid, password, { timeoutMs = 15_000, wait = 60, hold = 1, options = {} } = {}) {
    const conn = new Strophe.Connection(url, { ...options });
    conn.statusLog = [];
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            reject(new Error(`connect ${jid}: no CONNECTED within ${timeoutMs} ms (${conn.statusLog.join(', ')})`));
            forceClose(conn);
        }, timeoutMs);
        conn.connect(
            jid,
            password,
            (status, condition) => {
                const name = statusName(status);
                conn.statusLog.push(condition ? `${name}(${condition})` : name);
                conn.lastCondition = condition;
                if (status === Strophe.Status.CONNECTED) {
                    clearTimeout(timer);
                    resolve(conn);
                } else if (
                    status === Strophe.Status.AUTHFAIL ||
                    status === Strophe.Status.CONNFAIL ||
                    status === Strophe.Status.ERROR ||
                    status === Strophe.Status.CONNTIMEOUT ||
                    status === Strophe.Status.SASLFAIL ||
                    status === Strophe.Status.BINDREQUIRED
                ) {
                    clearTimeout(timer);
                    const err = new Error(condition ? `${name}: ${condition}` : name);
                    err.status = name;
                    err.condition = condition;
                    reject(err);
                }
            },
            wait,
            hold,
        );
    });
}

/**
 * Continues a prebound session as a browser does with the prebind API's
 * {jid, sid, rid}: Strophe's attach(). Resolves the connection on ATTACHED;
 * rejects on CONNFAIL/ERROR or after timeoutMs.
 */
export function attach(url, { jid, sid, rid }, { timeoutMs = 10_000 } = {}) {
    const conn = new Strophe.Connection(url);
    conn.statusLog = [];
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ATTACHED (${conn.statusLog})`)), timeoutMs);
        conn.attach(jid, sid, rid, (status, condition) => {
            conn.statusLog.push(condition ? `${statusName(status)}(${condition})` : statusName(status));
            if (status === Strophe.Status.ATTACHED) {
                clearTimeout(timer);
                resolve(conn);
            } else if (status === Strophe.Status.CONNFAIL || status === Strophe.Status.ERROR) {
                clearTimeout(timer);
                reject(new Error(conn.statusLog.join(', ')));
            }
        });
    });
}

/** Resolves the first incoming stanza (<message/> by default) that satisfies predicate. */
export function waitForMessage(conn, predicate = () => true, timeoutMs = 10_000, { name = 'message' } = {}) {
    return new Promise((resolve, reject) => {
        let ref = null;
        const timer = setTimeout(() => {
            conn.deleteHandler(ref);
            reject(new Error(`no matching <${name}/> within ${timeoutMs} ms`));
        }, timeoutMs);
        ref = conn.addHandler(
            (stanza) => {
                let ok = false;
                try {
                    ok = predicate(stanza);
                } catch {
                    ok = false;
                }
                if (!ok) return true; // keep the handler
                clearTimeout(timer);
                resolve(stanza);
                return false;
            },
            null,
            name,
        );
    });
}

/** Text of the first <body/> child of a message stanza. */
export function bodyText(stanza) {
    const b = stanza.getElementsByTagName('body')[0];
    return b ? b.textContent : null;
}

/** Disconnects (sends type='terminate'); resolves on DISCONNECTED, or after timeoutMs with a forced close. */
export function disconnect(conn, reason = 'test done', { timeoutMs = 5000 } = {}) {
    return new Promise((resolve) => {
        if (!conn || (!conn.connected && !conn.connecting)) {
            forceClose(conn);
            return resolve(false);
        }
        const timer = setTimeout(() => {
            forceClose(conn);
            resolve(false);
        }, timeoutMs);
        const previous = conn.connect_callback;
        conn.connect_callback = (status, condition, elem) => {
            conn.statusLog?.push(statusName(status));
            previous?.(status, condition, elem);
            if (status === Strophe.Status.DISCONNECTED) {
                clearTimeout(timer);
                forceClose(conn);
                resolve(true);
            }
        };
        conn.disconnect(reason);
    });
}

/** Drops every timer and pending request of a connection so the Node process can exit. */
export function forceClose(conn) {
    if (!conn) return;
    clearTimeout(conn._idleTimeout);
    conn._idleTimeout = null;
    for (const req of conn._proto?._requests ?? []) {
        req.abort = true;
        try {
            req.xhr.abort();
        } catch {
            // ignore
        }
    }
    if (conn._proto?._requests) conn._proto._requests = [];
}

/**
 * The e2e scenario shared by the Strophe suites (and usable by demos): log two
 * users in through `url`, send a chat message each way, disconnect both.
 * Returns what happened, for the caller's assertions:
 *   { jids: [a, b], toB, toA (the received stanzas), disconnected: [bool, bool],
 *     statusLogs, timings: { loginMs, roundTripMs } }
 * Connections are always closed, also on failure.
 */
export async function chatRoundTrip(url, [userA, userB], { domain = 'localhost', resource = 'strophe', timeoutMs = 10_000 } = {}) {
    const started = Date.now();
    let a = null;
    let b = null;
    try {
        [a, b] = await Promise.all([
            connect(url, `${userA.user}@${domain}/${resource}-a`, userA.password, { timeoutMs }),
            connect(url, `${userB.user}@${domain}/${resource}-b`, userB.password, { timeoutMs }),
        ]);
        const loginMs = Date.now() - started;
        const textToB = `hello ${userB.user} ${Math.random().toString(36).slice(2)}`;
        const textToA = `hello ${userA.user} ${Math.random().toString(36).slice(2)}`;

        const gotB = waitForMessage(b, (s) => bodyText(s) === textToB, timeoutMs);
        a.send($msg({ to: b.jid, type: 'chat', id: 'to-b' }).c('body').t(textToB));
        const toB = await gotB;

        const gotA = waitForMessage(a, (s) => bodyText(s) === textToA, timeoutMs);
        b.send($msg({ to: a.jid, type: 'chat', id: 'to-a' }).c('body').t(textToA));
        const toA = await gotA;
        const roundTripMs = Date.now() - started - loginMs;

        const jids = [a.jid, b.jid];
        const disconnected = await Promise.all([disconnect(a), disconnect(b)]);
        return {
            jids,
            toB,
            toA,
            textToB,
            textToA,
            disconnected,
            statusLogs: [a.statusLog, b.statusLog],
            timings: { loginMs, roundTripMs },
        };
    } finally {
        forceClose(a);
        forceClose(b);
    }
}
