// A minimal XMPP c2s client for benchmarks: TCP, STARTTLS (certificate
// verified against the given CA), SASL PLAIN, stream restart, resource bind,
// then </stream:stream>. It is the physical floor a connection manager's
// login is measured against. Not a general XMPP library: it waits for the
// few elements a login needs by substring, which is enough for Prosody's and
// ejabberd's replies on loopback.

import net from 'node:net';
import tls from 'node:tls';

function reader(socket) {
    let buf = '';
    let waiter = null;
    const check = () => {
        if (!waiter) return;
        const i = buf.search(waiter.re);
        if (i >= 0) {
            const w = waiter;
            waiter = null;
            const m = buf.match(w.re);
            buf = buf.slice(i + m[0].length);
            w.resolve(m[0]);
        }
    };
    socket.on('data', (d) => {
        buf += d.toString('utf8');
        check();
    });
    return {
        until(re, what, ms = 10_000) {
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`xmpp-login: no ${what} within ${ms} ms`)), ms);
                waiter = { re, resolve: (v) => { clearTimeout(timer); resolve(v); } };
                check();
            });
        },
        reset() { buf = ''; },
    };
}

const header = (domain) =>
    `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xml:lang='en' ` +
    `xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

/** Logs in over plain c2s and returns the bound JID; closes the stream. */
export async function xmppLogin({ host = '127.0.0.1', port, domain, user, password, resource, ca }) {
    const tcp = net.connect({ host, port });
    await new Promise((resolve, reject) => tcp.once('connect', resolve).once('error', reject));
    let r = reader(tcp);
    tcp.write(header(domain));
    await r.until(/<\/stream:features>/, 'features');
    tcp.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await r.until(/<proceed[^>]*\/>/, 'proceed');
    tcp.removeAllListeners('data');
    const s = tls.connect({ socket: tcp, servername: domain, ca });
    await new Promise((resolve, reject) => s.once('secureConnect', resolve).once('error', reject));
    r = reader(s);
    s.write(header(domain));
    await r.until(/<\/stream:features>/, 'features after TLS');
    const plain = Buffer.from(`\0${user}\0${password}`).toString('base64');
    s.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
    const outcome = await r.until(/<success[^>]*(\/>|<\/success>)|<failure[\s\S]*?<\/failure>/, 'SASL outcome');
    if (outcome.startsWith('<failure')) throw new Error('xmpp-login: SASL failure');
    s.write(header(domain));
    await r.until(/<\/stream:features>/, 'features after restart');
    s.write(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
        `${resource ? `<resource>${resource}</resource>` : ''}</bind></iq>`);
    const bound = await r.until(/<jid>[^<]*<\/jid>/, 'bind result');
    s.end('</stream:stream>');
    return bound.slice(5, -6);
}
