// A small XMLHttpRequest over Node's http/https modules, enough for
// Strophe.js's BOSH transport (and for anything else that speaks BOSH
// through XHR under Node).
//
// Follows the WHATWG XHR state machine where Strophe depends on it:
// readyState 0→1 (open) →2 (headers) →3 (body) →4 (done) with
// onreadystatechange on every step; abort() of an in-flight request fires
// readyState 4 with status 0 and then resets to 0 without an event; a network
// error is readyState 4 with status 0. responseXML is parsed with the DOM
// parser installed on globalThis (see strophe.mjs) when the response (or
// overrideMimeType) is XML, and is null when it is not well-formed (browsers
// do the same), so Strophe falls back to responseText and reports bad-format.
//
// Exceptions thrown by event handlers, and send() in the wrong state, are
// logged and recorded in XMLHttpRequest.handlerErrors instead of crashing the
// test process, like a browser reports them without breaking the network
// stack. Tests assert that list is empty.

import http from 'node:http';
import https from 'node:https';

const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 16 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 16 }),
};

const FORBIDDEN_HEADERS = new Set(['content-length', 'host', 'connection', 'transfer-encoding']);

export class XMLHttpRequest {
    static UNSENT = 0;
    static OPENED = 1;
    static HEADERS_RECEIVED = 2;
    static LOADING = 3;
    static DONE = 4;

    /** Exceptions thrown by handlers, and misuse (send() in the wrong state). */
    static handlerErrors = [];
    /** Completed exchanges, for assertions: { method, url, status, requestBody, responseText, headers }. */
    static log = [];
    static keepLog = false;
    /** Set to an http.Agent to change connection reuse (default: keep-alive, 16 sockets per origin). */
    static agent = null;

    constructor() {
        this.readyState = 0;
        this.status = 0;
        this.statusText = '';
        this.responseText = '';
        this.responseURL = '';
        this.timeout = 0;
        this.withCredentials = false;
        this.onreadystatechange = null;
        this.onload = null;
        this.onerror = null;
        this.onabort = null;
        this.ontimeout = null;
        this.onloadend = null;
        this._headers = {};
        this._responseHeaders = {};
        this._mime = null;
        this._req = null;
        this._sendFlag = false;
        this._xml = undefined;
        this._generation = 0;
    }

    open(method, url, async = true) {
        if (async === false) throw new Error('XMLHttpRequest shim: synchronous requests are not supported');
        this._abortInFlight();
        this._method = String(method).toUpperCase();
        this._url = new URL(String(url));
        this._headers = {};
        this._responseHeaders = {};
        this.status = 0;
        this.statusText = '';
        this.responseText = '';
        this._xml = undefined;
        this._sendFlag = false;
        this._setState(1);
    }

    setRequestHeader(name, value) {
        if (this.readyState !== 1 || this._sendFlag) throw new Error('InvalidStateError: setRequestHeader');
        const key = String(name).toLowerCase();
        if (FORBIDDEN_HEADERS.has(key)) return;
        this._headers[key] = this._headers[key] ? `${this._headers[key]}, ${value}` : String(value);
    }

    overrideMimeType(mime) {
        this._mime = String(mime);
    }

    send(data = null) {
        if (this.readyState !== 1 || this._sendFlag) {
            // A browser throws InvalidStateError here; a library timer that does this
            // after a connection was torn down would then only log an uncaught error.
            // Under Node it would kill the test process, so record it instead.
            this._report(new Error(`InvalidStateError: send() in readyState ${this.readyState}`));
            return;
        }
        this._sendFlag = true;
        const generation = ++this._generation;
        const payload = data === null || data === undefined ? null : Buffer.from(String(data), 'utf8');
        const url = this._url;
        const lib = url.protocol === 'https:' ? https : http;
        const headers = { ...this._headers };
        if (payload) {
            headers['content-length'] = payload.length;
            headers['content-type'] ??= 'text/plain;charset=UTF-8';
        }
        const req = lib.request(url, {
            method: this._method,
            headers,
            agent: XMLHttpRequest.agent ?? agents[url.protocol],
        });
        this._req = req;
        if (this.timeout > 0) {
            req.setTimeout(this.timeout, () => {
                if (generation !== this._generation) return;
                this._fail('timeout');
                req.destroy();
            });
        }
        req.on('response', (res) => {
            if (generation !== this._generation) return res.resume();
            this.status = res.statusCode;
            this.statusText = res.statusMessage ?? '';
            this.responseURL = url.href;
            this._responseHeaders = res.headers;
            this._setState(2);
            const chunks = [];
            res.on('data', (chunk) => {
                if (generation !== this._generation) return;
                chunks.push(chunk);
                this.responseText = Buffer.concat(chunks).toString('utf8');
                this._setState(3);
            });
            res.on('end', () => {
                if (generation !== this._generation) return;
                this.responseText = Buffer.concat(chunks).toString('utf8');
                this._req = null;
                if (XMLHttpRequest.keepLog) {
                    XMLHttpRequest.log.push({
                        method: this._method,
                        url: url.href,
                        status: this.status,
                        requestBody: payload?.toString('utf8') ?? '',
                        responseText: this.responseText,
                        headers: res.headers,
                    });
                }
                this._setState(4);
                this._fire('load');
                this._fire('loadend');
            });
            res.on('error', () => {
                if (generation !== this._generation) return;
                this._fail('error');
            });
        });
        req.on('error', () => {
            if (generation !== this._generation) return;
            this._fail('error');
        });
        req.end(payload ?? undefined);
    }

    abort() {
        const inFlight = this._sendFlag && this.readyState >= 1 && this.readyState < 4;
        this._abortInFlight();
        if (inFlight) {
            this.status = 0;
            this.responseText = '';
            this._setState(4);
            this._fire('abort');
            this._fire('loadend');
        }
        this.readyState = 0; // no event (XHR spec: "set state to unsent")
        this._sendFlag = false;
    }

    getAllResponseHeaders() {
        if (this.readyState < 2) return '';
        return Object.entries(this._responseHeaders)
            .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}\r\n`)
            .join('');
    }

    getResponseHeader(name) {
        if (this.readyState < 2) return null;
        const v = this._responseHeaders[String(name).toLowerCase()];
        if (v === undefined) return null;
        return Array.isArray(v) ? v.join(', ') : String(v);
    }

    get response() {
        return this.responseText;
    }

    get responseXML() {
        if (this.readyState !== 4 || !this.responseText) return null;
        if (this._xml !== undefined) return this._xml;
        const mime = this._mime ?? this.getResponseHeader('content-type') ?? 'text/xml';
        if (!/xml/i.test(mime)) return (this._xml = null);
        const doc = new globalThis.DOMParser().parseFromString(this.responseText, 'text/xml');
        // Browsers give null for a response that is not well-formed.
        const root = doc?.documentElement;
        this._xml = !root || root.localName === 'parsererror' ? null : doc;
        return this._xml;
    }

    // ------------------------------------------------------------ internals

    _abortInFlight() {
        this._generation++;
        if (this._req) {
            this._req.destroy();
            this._req = null;
        }
    }

    _fail(kind) {
        this._req = null;
        this.status = 0;
        this.responseText = '';
        this._sendFlag = false;
        this._setState(4);
        this._fire(kind);
        this._fire('loadend');
    }

    _setState(state) {
        this.readyState = state;
        this._call(this.onreadystatechange);
    }

    _fire(type) {
        this._call(this[`on${type}`]);
    }

    _call(fn) {
        if (typeof fn !== 'function') return;
        try {
            fn.call(this, { type: 'event', target: this });
        } catch (err) {
            this._report(err);
        }
    }

    _report(err) {
        XMLHttpRequest.handlerErrors.push(err);
        console.error('[xhr]', err);
    }
}
