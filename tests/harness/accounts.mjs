// Many XMPP accounts for load tests, without `prosodyctl register` (about a
// second per account). Test-only: the Prosody must run with
// authentication = "internal_plain", whose account store is one Lua file per
// user, <data_path>/<host>/accounts/<user>.dat, read on each login (Prosody
// 0.12 util.datamanager; no cache), so the files may be written while it runs.

import fs from 'node:fs';
import path from 'node:path';

// util.datamanager's encode(): every non-alphanumeric byte becomes %xx.
const encode = (s) => s.replace(/[^A-Za-z0-9]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));
const lua = (s) => JSON.stringify(String(s));

/**
 * Writes accounts format(n)@domain for n in [first, first + count) with one password.
 * @param {{dir: string, domain: string}} prosody  a startProsody() result
 * @param {object} opts { count, first = 1, format = (n) => `user${n}`, password }
 * @returns {string[]} the localparts written
 */
export function writePlainAccounts(prosody, { count, first = 1, format = (n) => `user${n}`, password }) {
    const dir = path.join(prosody.dir, 'data', encode(prosody.domain), 'accounts');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const names = [];
    for (let n = first; n < first + count; n++) {
        const user = format(n);
        fs.writeFileSync(path.join(dir, `${encode(user)}.dat`), `return {\n\t["password"] = ${lua(password)};\n};\n`, {
            mode: 0o600,
        });
        names.push(user);
    }
    return names;
}
