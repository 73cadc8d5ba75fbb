#!/usr/bin/env node
// Runs bosun-bench against a private Prosody with Bosun in front, over BOSH
// (through Bosun) and then over direct TCP (Prosody's c2s), in one go.
//
//   node tools/bench/bench-stack.mjs [--sessions 500] [--idle 20] [--rate 200] [--duration 10]
//        [--arrival 200] [--modes bosh,tcp,prosody-bosh] [--json-dir DIR] [-- extra bosun-bench args]
//
// Accounts user1..userN (password "bench") are written as internal_plain
// files (tests/harness/accounts.mjs). Logs are at "info" so that logging does
// not dominate. Bosun is $BOSUN_BIN or $BUILD_DIR/src/app/bosun; bosun-bench
// is $BOSUN_BENCH_BIN or $BUILD_DIR/tools/bosun-bench/bosun-bench.
// "prosody-bosh" runs the BOSH workload against Prosody's own mod_bosh.

import { spawn } from 'node:child_process';
import path from 'node:path';

import { writePlainAccounts } from '../../tests/harness/accounts.mjs';
import { REPO_ROOT } from '../../tests/harness/bosun.mjs';
import { startStack } from '../../tests/harness/stack.mjs';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const extra = dash >= 0 ? args.slice(dash + 1) : [];
const own = dash >= 0 ? args.slice(0, dash) : args;
const opt = { sessions: 500, idle: 20, rate: 200, duration: 10, arrival: 200, modes: 'bosh,tcp', 'json-dir': '' };
for (let i = 0; i < own.length; i += 2) {
    const key = own[i].replace(/^--/, '');
    if (!(key in opt)) throw new Error(`unknown option ${own[i]}`);
    opt[key] = own[i + 1];
}
const buildDir = path.resolve(REPO_ROOT, process.env.BUILD_DIR || 'build');
process.env.BOSUN_BIN ||= path.join(buildDir, 'src', 'app', 'bosun');
const benchBin = process.env.BOSUN_BENCH_BIN || path.join(buildDir, 'tools', 'bosun-bench', 'bosun-bench');
const modes = opt.modes.split(',');

const stack = await startStack({
    target: 'bosun',
    users: [],
    prosody: { authentication: 'internal_plain', logLevel: 'info', bosh: modes.includes('prosody-bosh') },
    bosun: { logLevel: 'info' },
});
try {
    writePlainAccounts(stack.prosody, { count: Number(opt.sessions), password: 'bench' });
    const common = ['--sessions', opt.sessions, '--idle', opt.idle, '--rate', opt.rate, '--duration', opt.duration,
        '--arrival', opt.arrival, '--domain', stack.domain, '--password', 'bench'];
    for (const mode of modes) {
        const target = {
            bosh: ['--url', stack.url, '--pid', stack.bosun.pid, '--pid', stack.prosody.pid],
            'prosody-bosh': ['--url', stack.prosody.boshUrl, '--pid', stack.prosody.pid],
            tcp: ['--mode', 'tcp', '--server', `127.0.0.1:${stack.prosody.c2sPort}`, '--tls', 'on',
                '--pid', stack.prosody.pid],
        }[mode];
        if (!target) throw new Error(`unknown mode ${mode}`);
        const json = opt['json-dir'] ? ['--json', path.join(opt['json-dir'], `bench-${mode}.json`)] : [];
        const argv = [...common, ...target, ...json, ...extra].map(String);
        console.log(`\n$ bosun-bench ${argv.join(' ')}`);
        const code = await new Promise((resolve) => {
            spawn(benchBin, argv, { stdio: 'inherit' }).once('exit', (c) => resolve(c));
        });
        console.log(`(exit ${code})`);
        for (const [name, part] of [['prosody', stack.prosody], ['bosun', stack.bosun]]) {
            if (part.isAlive()) continue;
            const out = name === 'prosody' ? part.log() : part.logs();
            console.log(`${name} is gone; its last output:\n${out.slice(-3000)}`);
            process.exitCode = 1;
        }
        if (process.exitCode) break;
    }
} finally {
    await stack.stop();
}
