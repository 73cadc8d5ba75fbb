// The whole chain a test talks to, chosen by one word.
//
//   target 'bosun'   : client → [nginx →] bosun → Prosody c2s (STARTTLS, generated CA)
//   target 'prosody' : client → [nginx →] Prosody's own mod_bosh (the reference)
//
// Tests pick the target with targetFromEnv('bosun'): BOSH_TARGET=prosody
// runs the same file against Prosody's BOSH, which validates the harness and
// the tests themselves before (or besides) Bosun.

import { startBosun } from './bosun.mjs';
import { startNginx } from './nginx.mjs';
import { DEFAULT_USERS, startProsody } from './prosody.mjs';

export const TARGETS = Object.freeze(['bosun', 'prosody']);

/** The BOSH server under test: $BOSH_TARGET, else `fallback`. */
export function targetFromEnv(fallback = 'bosun') {
    const target = process.env.BOSH_TARGET || fallback;
    if (!TARGETS.includes(target)) throw new Error(`BOSH_TARGET must be one of ${TARGETS.join(', ')}, not ${target}`);
    return target;
}

/**
 * @param {object} [opts]
 * @param {'bosun'|'prosody'} [opts.target]  default targetFromEnv()
 * @param {boolean} [opts.nginx=false]        put the repo's nginx snippet in front
 * @param {object[]} [opts.users]              default alice/bob
 * @param {object} [opts.prosody]             extra startProsody() options
 * @param {object} [opts.bosun]               extra startBosun() options (extraToml, tls, …)
 * @param {object} [opts.nginxOptions]        extra startNginx() options (staticRoot, …)
 * @returns {{ target, url, directUrl, domain, users, prosody, bosun, nginx, stop(), logs(), dumpLogs() }}
 */
export async function startStack(opts = {}) {
    const target = opts.target ?? targetFromEnv();
    const users = opts.users ?? DEFAULT_USERS;
    const stack = { target, users, prosody: null, bosun: null, nginx: null };

    stack.stop = async () => {
        // front to back, so no component sees its upstream vanish mid-request longer than needed
        for (const part of [stack.nginx, stack.bosun, stack.prosody]) {
            if (part) await part.stop().catch(() => {});
        }
    };
    stack.logs = () =>
        [
            stack.bosun && `--- bosun ---\n${stack.bosun.logs().slice(-12000)}`,
            stack.nginx && `--- nginx ---\n${stack.nginx.logs().slice(-4000)}`,
            stack.prosody && `--- prosody ---\n${stack.prosody.log().slice(-12000)}`,
        ]
            .filter(Boolean)
            .join('\n');
    stack.dumpLogs = () => process.stderr.write(`\n===== logs (${target}) =====\n${stack.logs()}\n`);

    try {
        stack.prosody = await startProsody({ users, tls: true, bosh: target === 'prosody', ...opts.prosody });
        stack.domain = stack.prosody.domain;
        if (target === 'bosun') {
            stack.bosun = await startBosun({
                upstreamPort: stack.prosody.c2sPort,
                domain: stack.domain,
                tls: 'required',
                caFile: stack.prosody.caFile,
                ...opts.bosun,
            });
            stack.directUrl = stack.bosun.url;
        } else {
            stack.directUrl = stack.prosody.boshUrl;
        }
        if (opts.nginx) {
            const backendPort = Number(new URL(stack.directUrl).port);
            stack.nginx = await startNginx({ bosunPort: backendPort, ...opts.nginxOptions });
        }
        stack.url = stack.nginx ? stack.nginx.url : stack.directUrl;
        return stack;
    } catch (err) {
        await stack.stop();
        throw err;
    }
}

/** Wraps a test body: on failure, the component logs go to stderr before the error propagates. */
export function withLogs(getStack, fn) {
    return async (t) => {
        try {
            await fn(t);
        } catch (err) {
            getStack()?.dumpLogs();
            throw err;
        }
    };
}

/** Rejects after ms with a labelled error (bounds any promise in a test). */
export function within(ms, promise, what = 'operation') {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}
