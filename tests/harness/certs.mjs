// Self-signed test certificates through the openssl CLI.
//
// makeCert(dir, names) writes an EC P-256 key and a self-signed certificate
// whose subjectAltName lists every name as DNS:<name>. The certificate is its
// own trust anchor (CA:TRUE), so the same PEM serves as Prosody's server
// certificate and as Bosun's `ca_file`.

import fs from 'node:fs';
import path from 'node:path';
import { run } from './proc.mjs';

export async function makeCert(dir, names = ['localhost'], { days = 7, basename = names[0] } = {}) {
    fs.mkdirSync(dir, { recursive: true });
    const certFile = path.join(dir, `${basename}.crt`);
    const keyFile = path.join(dir, `${basename}.key`);
    const san = names.map((n) => `DNS:${n}`).join(',');
    const result = await run('openssl', [
        'req', '-x509', '-new',
        '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-nodes', '-sha256', '-days', String(days),
        '-subj', `/CN=${names[0]}`,
        '-addext', `subjectAltName=${san}`,
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
        '-addext', 'extendedKeyUsage=serverAuth',
        '-keyout', keyFile, '-out', certFile,
    ]);
    if (result.code !== 0) throw new Error(`openssl req failed (${result.code}):\n${result.stderr}`);
    fs.chmodSync(keyFile, 0o600);
    return { certFile, keyFile };
}
