#!/usr/bin/env node
// W1, idle capacity: memory and CPU of the BOSH server per idle session,
// against a real Prosody (docs/benchmarks.md, "W1 idle capacity").
//
//   node tools/bench/idle-memory.mjs [SESSIONS=1000] [CONCURRENCY=50]
//        [--procs=N] [--cpu=SECONDS] [--target=bosun|prosody] [--plain] [--sigkill]
//
// Starts a private Prosody (STARTTLS, generated CA) and the built bosun
// (BOSUN_BIN or BUILD_DIR as in tests/harness/bosun.mjs), reads the server's
// RSS when it has no session, then logs SESSIONS sessions in, each as its own
// user (create, SASL PLAIN, restart, bind), fetches the roster, sends initial
// presence, and keeps one request held as Strophe does (a new poll as soon as
// the last one is answered). It waits for the process to settle and reads
// RSS again: (RSS_N - RSS_0) / N is the memory per idle session.
//
// --cpu=SECONDS  then reads utime+stime of the server (and of Prosody) from
//                /proc/<pid>/stat over that window (default 0: skipped) and
//                prints CPU-seconds per 1,000 sessions per minute. With
//                wait=60 every session completes about one long poll a minute.
// --procs=N      splits the load generator over N node processes (default:
//                one per 4,000 sessions; each holds one socket per session,
//                and a process may have at most 20,000 open files).
// --target=prosody measures Prosody's own mod_bosh instead (its RSS).
// --plain        c2s without TLS (Bosun's upstream tls = "none"), as when
//                Bosun runs on the XMPP server's host; default: STARTTLS with
//                certificate verification.
// --sigkill      kills the server with SIGKILL at the idle point instead of
//                closing the sessions (for heaptrack: what is still allocated
//                then shows as "leaked"). Run under heaptrack with a wrapper in
//                BOSUN_BIN: `exec heaptrack -o OUT /path/to/bosun "$@"`.
//
// The users' accounts are copies of one registered account (Prosody's
// internal_hashed store), so 8,000 of them cost no prosodyctl runs. This is a
// measurement, not a test: it asserts nothing.

import { fork } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { BoshSession, NS } from '../../tests/harness/bosh.mjs';
import { sleep } from '../../tests/harness/ports.mjs';
import { BENCH_BOSH } from './settings.mjs';

const PASSWORD = 'bench-secret';
const userName = (i) => `bench${i}`; // alphanumeric: Prosody stores it unescaped

function parseArgs(argv) {
    const opts = { sessions: 1000, concurrency: 50, procs: 0, cpu: 0, target: 'bosun', sigkill: false, plain: false };
    const positional = [];
    for (const arg of argv) {
        const m = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
        if (!m) positional.push(arg);
        else if (m[1] === 'sigkill') opts.sigkill = true;
        else if (m[1] === 'plain') opts.plain = true;
        else if (m[1] === 'target') opts.target = m[2];
        else if (m[1] === 'procs' || m[1] === 'cpu') opts[m[1]] = Number(m[2]);
        else throw new Error(`unknown option ${arg}`);
    }
    if (positional[0] !== undefined) opts.sessions = Number(positional[0]);
    if (positional[1] !== undefined) opts.concurrency = Number(positional[1]);
    if (!opts.procs) opts.procs = Math.max(1, Math.ceil(opts.sessions / 4000));
    return opts;
}

// ---------------------------------------------------------------- /proc

function rssKiB(pid) {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime of pid, in seconds (fields 14 and 15 of /proc/pid/stat). */
function cpuSeconds(pid) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function comm(pid) {
    try {
        return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
        return '';
    }
}

function children(pid) {
    try {
        return fs
            .readdirSync(`/proc/${pid}/task`)
            .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/))
            .filter(Boolean)
            .map(Number);
    } catch {
        return [];
    }
}

/** The process whose name starts with `name` at or below pid, else 0. */
function findBelow(pid, name) {
    if (comm(pid).startsWith(name)) return pid;
    for (const child of children(pid)) {
        const found = findBelow(child, name);
        if (found) return found;
    }
    return 0;
}

/** BOSUN_BIN may be a wrapper (heaptrack): the real server below it. */
const findProcess = (pid, name) => findBelow(pid, name) || pid;

// ---------------------------------------------------------------- load generator (child process)

async function loginOne(url, domain, agent, i) {
    const s = new BoshSession(url, { domain, agent });
    await s.login(userName(i), PASSWORD, `idle-${i}`);
    // RFC 6121 §2.2 roster get and initial presence (§4.2), in one request as Strophe may batch them.
    s.sendInBackground(
        `<iq xmlns='${NS.CLIENT}' type='get' id='roster_1'><query xmlns='jabber:iq:roster'/></iq>` +
            `<presence xmlns='${NS.CLIENT}'/>`,
    );
    await s.waitFor((el) => el.localName === 'iq' && el.getAttribute('id') === 'roster_1', 20_000);
    return s;
}

async function runChild({ url, domain, first, count, concurrency }) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    const sessions = [];
    const errors = [];
    let next = 0;
    let polls = 0;
    let stopping = false;
    async function worker() {
        while (next < count) {
            const i = first + next++;
            try {
                const s = await loginOne(url, domain, agent, i);
                sessions.push(s);
                // At once: a session left without a request ends after 'inactivity'.
                keepPolling(s);
            } catch (err) {
                errors.push(String(err.message ?? err).slice(0, 200));
            }
        }
    }
    // Strophe keeps one request in the server's hands: a new poll as soon as one returns.
    async function keepPolling(s) {
        while (!stopping && !s.terminated) {
            try {
                await s.send('');
                polls++;
            } catch (err) {
                if (!stopping) errors.push(`poll: ${String(err.message ?? err).slice(0, 200)}`);
                return;
            }
        }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    const live = () => sessions.filter((s) => !s.terminated).length;
    process.send({ type: 'ready', sessions: live(), errors });
    process.on('message', (msg) => {
        if (msg.type === 'polls') process.send({ type: 'polls', polls, live: live(), errors: errors.length });
        if (msg.type === 'stop') {
            stopping = true;
            agent.destroy();
            process.exit(0);
        }
    });
}

// ---------------------------------------------------------------- main

function startLoaders(opts, url, domain) {
    const self = fileURLToPath(import.meta.url);
    const per = Math.ceil(opts.sessions / opts.procs);
    const perConcurrency = Math.max(1, Math.ceil(opts.concurrency / opts.procs));
    const loaders = [];
    for (let first = 0; first < opts.sessions; first += per) {
        const child = fork(self, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const count = Math.min(per, opts.sessions - first);
        child.send({ url, domain, first, count, concurrency: perConcurrency });
        loaders.push(child);
    }
    return loaders;
}

function nextMessage(child, type) {
    return new Promise((resolve, reject) => {
        const onMessage = (msg) => {
            if (msg.type !== type) return;
            child.off('message', onMessage);
            child.off('exit', onExit);
            resolve(msg);
        };
        const onExit = (code) => reject(new Error(`load generator exited (${code})`));
        child.on('message', onMessage);
        child.once('exit', onExit);
    });
}

async function pollCount(loaders) {
    const all = await Promise.all(
        loaders.map((c) => {
            const p = nextMessage(c, 'polls');
            c.send({ type: 'polls' });
            return p;
        }),
    );
    return { polls: all.reduce((n, m) => n + m.polls, 0), live: all.reduce((n, m) => n + m.live, 0) };
}

/** One account per session: copies of one registered account file. */
function makeAccounts(prosody, sessions) {
    const dir = path.join(prosody.dir, 'data', encodeURIComponent(prosody.domain), 'accounts');
    const template = fs.readFileSync(path.join(dir, `${userName(0)}.dat`));
    for (let i = 1; i < sessions; i++) fs.writeFileSync(path.join(dir, `${userName(i)}.dat`), template);
}

async function main(opts) {
    const { startStack } = await import('../../tests/harness/stack.mjs');
    const capacity = opts.sessions + 1000;
    const stack = await startStack({
        target: opts.target,
        users: [{ user: userName(0), password: PASSWORD }],
        prosody: { logLevel: 'warn', extraConfig: 'network_backend = "epoll"', tls: !opts.plain },
        bosun: {
            logLevel: 'warn',
            ...(opts.plain ? { tls: 'none' } : {}),
            http: { max_connections: 2 * capacity },
            bosh: { max_sessions: capacity, ...BENCH_BOSH },
        },
    });
    let loaders = [];
    try {
        makeAccounts(stack.prosody, opts.sessions);
        await sleep(500);
        const serverPid = opts.target === 'bosun' ? findProcess(stack.bosun.pid, 'bosun') : stack.prosody.pid;
        const prosodyPid = stack.prosody.pid;
        const empty = rssKiB(serverPid);
        const started = Date.now();
        loaders = startLoaders(opts, stack.url, stack.domain);
        const ready = await Promise.all(loaders.map((c) => nextMessage(c, 'ready')));
        const loginSeconds = (Date.now() - started) / 1000;
        const loggedIn = ready.reduce((n, r) => n + r.sessions, 0);
        const errors = ready.flatMap((r) => r.errors);
        await sleep(3000);
        const loaded = rssKiB(serverPid);
        const perSession = (loaded - empty) / loggedIn;
        console.log(`target=${opts.target} upstream=${opts.plain ? 'plain' : 'starttls'} sessions=${loggedIn}/${opts.sessions} load_procs=${loaders.length} login_time=${loginSeconds.toFixed(1)}s errors=${errors.length}`);
        for (const e of errors.slice(0, 5)) console.log(`  error: ${e}`);
        console.log(`${opts.target} RSS empty=${empty} KiB with_sessions=${loaded} KiB`);
        console.log(`${opts.target} memory per idle session: ${perSession.toFixed(1)} KiB`);
        if (opts.cpu > 0) {
            const before = await pollCount(loaders);
            const cpu0 = cpuSeconds(serverPid);
            const prosody0 = cpuSeconds(prosodyPid);
            const t0 = Date.now();
            await sleep(opts.cpu * 1000);
            const minutes = (Date.now() - t0) / 60_000;
            const cpu = cpuSeconds(serverPid) - cpu0;
            const prosodyCpu = cpuSeconds(prosodyPid) - prosody0;
            const after = await pollCount(loaders);
            const polls = after.polls - before.polls;
            const per1k = cpu / (loggedIn / 1000) / minutes;
            console.log(`${opts.target} idle CPU over ${(minutes * 60).toFixed(0)}s: ${cpu.toFixed(2)} s (${polls} long polls answered) = ${per1k.toFixed(3)} CPU-s per 1,000 sessions per minute`);
            if (opts.target === 'bosun') console.log(`prosody (c2s behind bosun) CPU over the same window: ${prosodyCpu.toFixed(2)} s`);
            console.log(`${opts.target} RSS after the CPU window: ${rssKiB(serverPid)} KiB, sessions still live: ${after.live}`);
        }
        if (opts.sigkill) {
            process.kill(serverPid, 'SIGKILL');
            await sleep(5000); // heaptrack's wrapper writes its file
            process.kill(stack.prosody.pid, 'SIGKILL');
            process.exit(0); // the harness's exit hooks stop the rest
        }
    } finally {
        for (const c of loaders) {
            c.send({ type: 'stop' });
        }
        await sleep(200);
        for (const c of loaders) c.kill('SIGKILL');
        await stack.stop();
    }
}

if (process.argv.includes('--child')) {
    process.once('message', (msg) => runChild(msg));
} else {
    await main(parseArgs(process.argv.slice(2)));
}
