// Child processes that never outlive the test process.
//
// Every launcher starts its server through spawnManaged(). The children are
// registered here and killed (SIGKILL) when the Node process exits for any
// reason, including an uncaught exception or SIGINT/SIGTERM from the test
// runner, so a failed test never leaves a Prosody, nginx or bosun behind.
// Temporary directories made with makeTempDir() are removed the same way
// unless BOSUN_KEEP_TMP=1 (then their paths are printed for post-mortems).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitForPort } from './ports.mjs';

const SETPRIV = '/usr/bin/setpriv';
const live = new Set();
const tempDirs = new Set();
let hooksInstalled = false;

export const keepTemp = () => process.env.BOSUN_KEEP_TMP === '1';

function installExitHooks() {
    if (hooksInstalled) return;
    hooksInstalled = true;
    process.on('exit', () => {
        for (const child of live) killQuietly(child, child.deathSignal ?? 'SIGKILL');
        for (const dir of tempDirs) removeDir(dir);
    });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
        process.once(signal, () => {
            for (const child of live) killQuietly(child, child.deathSignal ?? 'SIGKILL');
            process.exit(128 + (os.constants.signals[signal] ?? 0));
        });
    }
}

function killQuietly(child, signal) {
    try {
        child.kill(signal);
    } catch {
        // already gone
    }
}

function removeDir(dir) {
    if (keepTemp()) {
        process.stderr.write(`[harness] kept ${dir}\n`);
        return;
    }
    try {
        fs.rmSync(dir, { recursive: true, force: true });
    } catch {
        // best effort
    }
}

/** A private directory under the OS temp dir, removed at exit (or by the caller). */
export function makeTempDir(prefix) {
    installExitHooks();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bosun-${prefix}-`));
    tempDirs.add(dir);
    return dir;
}

export function removeTempDir(dir) {
    if (!tempDirs.delete(dir)) return;
    removeDir(dir);
}

/**
 * Spawns `command args` with stdout/stderr captured (last `maxBytes` kept).
 * Returns { child, pid, output(), exited (Promise<{code, signal}>), isAlive(), stop(timeoutMs) }.
 * stop() sends SIGTERM, then SIGKILL after timeoutMs, and resolves once the child is gone.
 */
export function spawnManaged(
    command,
    args,
    { cwd, env, maxBytes = 4 << 20, name = path.basename(command), deathSignal = 'SIGKILL' } = {},
) {
    installExitHooks();
    // Even a SIGKILLed test process must not leak servers: where util-linux's
    // setpriv exists, the kernel sends deathSignal to the child when we die
    // (PR_SET_PDEATHSIG). setpriv execs the command, so the pid stays the
    // server's own. A server with worker processes (nginx) needs SIGTERM, so
    // its master takes the workers down with it; SIGKILL would orphan them.
    const [cmd, argv] = fs.existsSync(SETPRIV)
        ? [SETPRIV, ['--pdeathsig', deathSignal.replace(/^SIG/, ''), '--', command, ...args]]
        : [command, args];
    const child = spawn(cmd, argv, {
        cwd,
        env: env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.deathSignal = deathSignal;
    live.add(child);
    let captured = '';
    const append = (chunk) => {
        captured += chunk.toString('utf8');
        if (captured.length > maxBytes) captured = captured.slice(captured.length - maxBytes);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    if (process.env.BOSUN_TEST_VERBOSE === '1') {
        child.stdout.on('data', (c) => process.stderr.write(`[${name}] ${c}`));
        child.stderr.on('data', (c) => process.stderr.write(`[${name}] ${c}`));
    }
    let alive = true;
    const exited = new Promise((resolve) => {
        child.once('error', (err) => {
            alive = false;
            live.delete(child);
            append(`\n[harness] cannot start ${command}: ${err.message}\n`);
            resolve({ code: null, signal: null, error: err });
        });
        child.once('exit', (code, signal) => {
            alive = false;
            live.delete(child);
            resolve({ code, signal });
        });
    });

    async function stop(timeoutMs = 5000) {
        if (!alive) return exited;
        killQuietly(child, 'SIGTERM');
        const timer = setTimeout(() => killQuietly(child, 'SIGKILL'), timeoutMs);
        try {
            return await exited;
        } finally {
            clearTimeout(timer);
        }
    }

    return { child, pid: child.pid, output: () => captured, exited, isAlive: () => alive, stop };
}

/** Runs a command to completion: { code, signal, stdout, stderr }. Rejects only if it cannot start or times out. */
export function run(command, args, { cwd, env, timeoutMs = 15_000, input } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, {
            cwd,
            env: env ?? process.env,
            stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        });
        live.add(child);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        const timer = setTimeout(() => {
            killQuietly(child, 'SIGKILL');
            reject(new Error(`${command} ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}${stderr}`));
        }, timeoutMs);
        child.once('error', (err) => {
            clearTimeout(timer);
            live.delete(child);
            reject(err);
        });
        child.once('exit', (code, signal) => {
            clearTimeout(timer);
            live.delete(child);
            resolve({ code, signal, stdout, stderr });
        });
        if (child.stdin) {
            child.stdin.on('error', () => {}); // EPIPE when the command does not read its input
            child.stdin.end(input);
        }
    });
}

/** A stop() for a server: stops `proc` (SIGKILL after timeoutMs), then removes its temp `dir`. */
export function stopAndRemove(proc, dir, timeoutMs) {
    return async () => {
        await proc.stop(timeoutMs);
        removeTempDir(dir);
    };
}

/** The text of `file`, or '' when it cannot be read (a log not written yet). */
export function readIfExists(file) {
    try {
        return fs.readFileSync(file, 'utf8');
    } catch {
        return '';
    }
}

/**
 * Waits until a server started with spawnManaged() accepts connections on
 * each of `ports` (falsy entries are skipped). If it exits or times out
 * first, `stop()` is awaited and the error names `name` and ends with the
 * last 8000 characters of `log()`.
 */
export async function waitForServer(name, proc, ports, { timeoutMs, stop, log }) {
    try {
        for (const port of ports.filter(Boolean)) await waitForPort(port, { timeoutMs, isAlive: proc.isAlive });
    } catch (err) {
        const output = log();
        await stop();
        throw new Error(`${name} did not start: ${err.message}\n--- ${name.toLowerCase()} output ---\n${output.slice(-8000)}`);
    }
}
