#!/usr/bin/env node
// Resident memory of Bosun per idle BOSH session against a real Prosody.
//
//   node tools/bench/idle-memory.mjs [SESSIONS=1000] [CONCURRENCY=50]
//
// Starts a private Prosody (STARTTLS, generated CA) and the built bosun,
// reads bosun's RSS from /proc when it has no session, then logs SESSIONS
// sessions in (create, SASL PLAIN, restart, bind: all as one user with
// distinct resources, no presence so Prosody does not broadcast N² presences),
// leaves each with one request held (as Strophe does), waits for the process
// to settle, and reads RSS again. Prints the figures and (RSS_N - RSS_0) / N.
// This is a measurement, not a test: it asserts nothing.

import fs from 'node:fs';
import http from 'node:http';

import { BoshSession } from '../../tests/harness/bosh.mjs';
import { sleep } from '../../tests/harness/ports.mjs';
import { startStack } from '../../tests/harness/stack.mjs';

const sessions = Number(process.argv[2] ?? 1000);
const concurrency = Number(process.argv[3] ?? 50);

function rssKiB(pid) {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
}

async function loginAll(stack, agent) {
    const { user, password } = stack.users[0];
    const all = [];
    let next = 0;
    async function worker() {
        while (next < sessions) {
            const i = next++;
            const s = new BoshSession(stack.url, { domain: stack.domain, agent });
            await s.login(user, password, `idle-${i}`);
            all.push(s);
        }
    }
    await Promise.all(Array.from({ length: concurrency }, worker));
    return all;
}

const stack = await startStack({ target: 'bosun', bosun: { extraToml: '' } });
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
try {
    await sleep(500);
    const pid = stack.bosun.pid;
    const empty = rssKiB(pid);
    const started = Date.now();
    const all = await loginAll(stack, agent);
    const loginSeconds = (Date.now() - started) / 1000;
    for (const s of all) s.sendInBackground('');
    await sleep(3000);
    const loaded = rssKiB(pid);
    const perSession = (loaded - empty) / sessions;
    console.log(`sessions=${sessions} login_time=${loginSeconds.toFixed(1)}s`);
    console.log(`bosun RSS empty=${empty} KiB with_sessions=${loaded} KiB`);
    console.log(`bosun memory per idle session: ${perSession.toFixed(1)} KiB`);
    await Promise.allSettled(all.map((s) => s.close()));
} finally {
    agent.destroy();
    await stack.stop();
}
