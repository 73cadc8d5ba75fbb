// End-to-end: tools/demo (Prosody + Bosun with its prebind API + the example
// web app + nginx) and Converse.js 14 in headless Chromium: alice and bob sign
// in to the web app with their web passwords, Converse is logged in through
// prebind (nginx -> web app -> Bosun's API; then nginx -> Bosun -> Prosody),
// and alice's message, typed in the chat box, reaches bob's page.
// Then Ctrl-C (SIGINT) to the demo must stop everything and free its ports.
// BOSH_TARGET=prosody (as in tests/harness/stack.mjs) runs the demo with
// DEMO_BOSH=prosody: Prosody's own mod_bosh in Bosun's place, so no prebind;
// the test then logs in on the demo's password page (/password.html).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = path.join(repo, 'tests/.tmp');
const chromiumPath = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ports = {
    xmpp: Number(process.env.DEMO_XMPP_PORT ?? 5222),
    bosun: Number(process.env.DEMO_BOSUN_PORT ?? 5280),
    prebind: Number(process.env.DEMO_PREBIND_PORT ?? 5281),
    webapp: Number(process.env.DEMO_WEBAPP_PORT ?? 8081),
    http: Number(process.env.DEMO_HTTP_PORT ?? 8080),
};
const prebind = process.env.BOSH_TARGET !== 'prosody';
// The demo's printed credentials (tools/demo: web_password_of, password_of).
const webPassword = (user) => `${user}-web-password`;
// Each wait is bounded; the test as a whole has 90 s.
const READY_MS = 45_000;     // includes a no-op build
const LOGIN_MS = 20_000;
const STOP_MS = 15_000;

function portOpen(port) {
    return new Promise((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port });
        socket.once('connect', () => { socket.destroy(); resolve(true); });
        socket.once('error', () => resolve(false));
        socket.setTimeout(1000, () => { socket.destroy(); resolve(false); });
    });
}

async function busyPorts() {
    const busy = [];
    for (const port of Object.values(ports)) if (await portOpen(port)) busy.push(port);
    return busy;
}

function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Starts tools/demo in its own process group; resolves with the printed URL.
function startDemo() {
    // With BOSUN_BIN set (tools/test-all does) the caller has built Bosun.
    const args = ['--no-setup', ...(process.env.BOSUN_BIN ? ['--no-build'] : [])];
    const child = spawn(path.join(repo, 'tools/demo'), args, {
        cwd: repo,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
            ...process.env,
            ...(process.env.BOSH_TARGET === 'prosody' ? { DEMO_BOSH: 'prosody' } : {}),
        },
    });
    let output = '';
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const ready = new Promise((resolve, reject) => {
        const onData = (chunk) => {
            output += chunk;
            const match = output.match(/^Demo ready: (http:\/\/\S+)$/m);
            if (match) resolve(match[1]);
        };
        child.stdout.setEncoding('utf8').on('data', onData);
        child.stderr.setEncoding('utf8').on('data', onData);
        exited.then(({ code, signal }) =>
            reject(new Error(`tools/demo exited (${code ?? signal}) before it was ready:\n${output}`)));
    });
    ready.catch(() => {});
    return { child, ready, exited, output: () => output };
}

// Last resort if the demo does not stop: SIGTERM to its process group (a
// ninja there stops its compilers, which run in their own groups), then
// SIGKILL whatever is left of the group.
async function killGroup(child, exited) {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
    await withTimeout(exited, 5000, 'demo group exit').catch(() => {});
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
}

test('demo: web login, Converse.js prebound through the web app and Bosun, chats; Ctrl-C stops it all',
    { timeout: 90_000 }, async (t) => {
        const busy = await busyPorts();
        if (busy.length) {
            t.skip(`demo ports in use on 127.0.0.1: ${busy.join(', ')} (stop whatever holds them)`);
            return;
        }
        mkdirSync(tmp, { recursive: true });

        const demo = startDemo();
        // If the runner gives up on this file, the demo must not outlive it.
        const onExit = () => { try { process.kill(-demo.child.pid, 'SIGKILL'); } catch { /* gone */ } };
        process.once('exit', onExit);
        demo.exited.then(() => process.off('exit', onExit));
        let browser;
        let stopped = false;
        const consoleLines = [];
        try {
            const url = await withTimeout(demo.ready, READY_MS, 'tools/demo ready');

            browser = await chromium.launch({
                executablePath: chromiumPath,
                args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                    '--no-first-run', '--disable-background-networking',
                    '--disable-component-update', '--disable-sync'],
                timeout: 20_000,
            });
            // Separate contexts: separate storage, as two people's browsers.
            const openAs = async (user) => {
                const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
                const page = await context.newPage();
                page.on('console', (msg) => consoleLines.push(`${user} ${msg.type()}: ${msg.text()}`));
                page.on('pageerror', (err) => consoleLines.push(`${user} pageerror: ${err.message}`));
                page.on('requestfailed', (req) => consoleLines.push(
                    `${user} requestfailed: ${req.url()} ${req.failure()?.errorText}`));
                // Nothing leaves this machine (Converse links images on the internet).
                await page.route('**/*', (route) => (/^(data:|blob:|https?:\/\/(127\.0\.0\.1|localhost)[:/])/
                    .test(route.request().url()) ? route.continue() : route.abort()));
                if (prebind) {
                    await page.goto(url, { timeout: 15_000 });
                    await page.fill('input[name=username]', user);
                    await page.fill('input[name=password]', webPassword(user));
                    await page.click('button[type=submit]');
                } else {
                    await page.goto(`${url}password.html?autologin=${user}`, { timeout: 15_000 });
                }
                await page.waitForFunction(() => (window.webapp ?? window.bosunDemo)?.status === 'connected',
                    null, { timeout: LOGIN_MS });
                return page;
            };
            const stateOf = (page) => page.evaluate(() => window.webapp ?? window.bosunDemo);
            const alice = await openAs('alice');
            const bob = await openAs('bob');
            const text = `hello bob, via Bosun ${Date.now()}`;
            try {
                // The controlbox shows the logged-in user and the roster from Prosody.
                await alice.locator('converse-user-profile .xmpp-status').waitFor({ timeout: 10_000 });
                const bobEntry = alice.locator('converse-roster-contact', { hasText: 'Bob' }).first();
                await bobEntry.waitFor({ timeout: 10_000 });
                await assert.doesNotReject(
                    alice.locator('converse-login-form').waitFor({ state: 'detached', timeout: 1000 }),
                    'the login form is gone once logged in');

                // alice -> Bosun -> Prosody -> Bosun -> bob's held long poll.
                await bobEntry.locator('a.open-chat').click();
                const textarea = alice.locator('textarea.chat-textarea');
                await textarea.fill(text);
                await textarea.press('Enter');
                await bob.waitForFunction((body) => (window.webapp ?? window.bosunDemo).messages.some((m) => m.body === body),
                    text, { timeout: 15_000 });
            } finally {
                await alice.screenshot({ path: path.join(tmp, 'demo.png') }).catch(() => {});
            }
            const state = await stateOf(alice);
            assert.match(state.jid, /^alice@localhost\//);
            assert.ok(state.contacts.includes('bob@localhost'), `contacts: ${state.contacts}`);
            if (prebind) {
                // Logged in by the back end: the page never had the XMPP password.
                assert.ok(!(await alice.content()).includes('alice-demo-password'));
                assert.equal(await alice.evaluate(() => 'bosunDemo' in window), false, 'the prebind page');
            }
            const got = (await stateOf(bob)).messages;
            assert.ok(got.some((m) => m.from === 'alice@localhost' && m.body === text),
                `bob's messages: ${JSON.stringify(got)}`);

            await browser.close();
            browser = undefined;

            // Ctrl-C: the demo stops Prosody, Bosun and nginx, then exits.
            process.kill(demo.child.pid, 'SIGINT');
            const { code, signal } = await withTimeout(demo.exited, STOP_MS, 'tools/demo exit after SIGINT');
            stopped = true;
            assert.ok(code !== null || signal === 'SIGINT', `demo exit: ${code ?? signal}`);
            assert.deepEqual(await busyPorts(), [], 'ports 5222, 5280, 5281, 8081 and 8080 are free again');
        } catch (err) {
            err.message += `\n--- tools/demo output ---\n${demo.output()}` +
                `\n--- browser console (last 30) ---\n${consoleLines.slice(-30).join('\n')}`;
            throw err;
        } finally {
            if (browser) await browser.close().catch(() => {});
            if (!stopped) {
                try { process.kill(demo.child.pid, 'SIGINT'); } catch { /* gone */ }
                await withTimeout(demo.exited, STOP_MS, 'demo exit')
                    .catch(() => killGroup(demo.child, demo.exited));
            }
        }
    });
