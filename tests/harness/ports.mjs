// Free loopback TCP ports for the processes a test starts.
//
// freePort() binds 127.0.0.1:0, reads the port the kernel chose and closes the
// socket. Another process could take the port before ours binds it; on a test
// machine with only our own children listening that window is harmless, and
// the launchers fail loudly (they wait for their own readiness) if it happens.

import net from 'node:net';

export function freePort(host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on('error', reject);
        server.listen({ host, port: 0, exclusive: true }, () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

/** Resolves once a TCP connect to host:port succeeds; rejects after timeoutMs. */
export async function waitForPort(port, { host = '127.0.0.1', timeoutMs = 10_000, isAlive } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await canConnect(host, port)) return;
        if (isAlive && !isAlive()) throw new Error(`process exited before ${host}:${port} accepted connections`);
        if (Date.now() > deadline) throw new Error(`${host}:${port} did not accept connections within ${timeoutMs} ms`);
        await sleep(50);
    }
}

function canConnect(host, port) {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (ok) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(1000, () => done(false));
        socket.once('connect', () => done(true));
        socket.once('error', () => done(false));
    });
}

export function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
