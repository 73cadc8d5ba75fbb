// Checklist section N: security (XEP-0124 §19), items 103–104.

import {
    NS,
    WAIT,
    assert,
    assertBody,
    checkSids,
    describeResponse,
    isTerminate,
    item,
    newSession,
    post,
    uniq,
    useStack,
} from './lib.mjs';

useStack({});

item(103, { level: 'S', section: 'XEP-0124 §19.2', title: 'the CM→server link is encrypted (STARTTLS)', timeout: 30_000 }, async (ctx) => {
    if (!ctx.isBosun) ctx.na("Prosody's mod_bosh runs inside the server: there is no CM→server link to encrypt");
    const { url, tap } = await ctx.tappedBosun();
    const s = ctx.session({ url });
    const { user, password } = ctx.users[0];
    await s.login(user, password, uniq('tls'), { wait: WAIT });
    await s.settle();
    const wire = tap.clientBytes();
    assert.match(wire, /<starttls xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]/, 'no STARTTLS on the upstream link');
    assert.ok(!wire.includes(Buffer.from(`\0${user}\0${password}`).toString('base64')), 'the SASL credentials crossed the link in clear');
    assert.ok(!wire.includes('<auth '), 'SASL <auth/> in clear');
    ctx.record(`upstream: stream header and <starttls/> in clear (${wire.indexOf('<starttls')} bytes in), then TLS; no SASL in clear (config tls = "required", certificate verified)`);
});

item(104, { level: 'M', section: 'XEP-0124 §19.3, §7.2', title: 'sids unpredictable and non-repeating; random client rids accepted', timeout: 60_000 }, async (ctx) => {
    const sids = [];
    for (let i = 0; i < 60; i++) {
        // random initial rids across the whole 53-bit range (§14.1, §19.3)
        const rid = 1 + Math.floor(Math.random() * (2 ** 53 - 1e7));
        const res = await post(ctx.url, newSession({ to: ctx.domain, rid, wait: WAIT }));
        assertBody(res);
        assert.ok(!isTerminate(res), `rid ${rid}: ${describeResponse(res)}`);
        const sid = res.body.getAttribute('sid');
        sids.push(sid);
        await post(ctx.url, `<body rid='${rid + 1}' sid='${sid}' type='terminate' xmlns='${NS.HTTPBIND}'/>`);
    }
    ctx.record(`${checkSids(sids)}; random initial rids up to 2^53 accepted`);
});
