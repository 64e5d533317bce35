/**
 * DNS (issue 17 "Exhaustion: DNS"): an upstream name with several addresses falls over to the next when one refuses
 * the connection, and a resolver that does not answer is bounded by the connect timeout. Names are resolved by the
 * proxy's `resolve` option (no /etc/hosts, no DNS server): `multi.test` → 127.0.0.2 (nothing listens) then
 * 127.0.0.3 (the origin). Seeded random bodies, SHA-256 checked.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { LookupAddress } from 'node:dns';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { connectTunnel } from '../fixtures/raw-client.ts';
import { startProxy, type RunningProxy } from '../fixtures/proxy.ts';
import { startRandomOrigin, type RandomOrigin } from '../fixtures/random-origin.ts';
import { hashStream, seededSha256 } from '../helpers/seeded-body.ts';

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const CONNECT_TIMEOUT_MS = 1_000;

describe('upstream names with several addresses, and slow resolvers', () => {
  let origin: RandomOrigin;
  const proxies: RunningProxy[] = [];
  before(async () => { origin = await startRandomOrigin({ host: '127.0.0.3' }); });
  after(async () => {
    for (const p of proxies) await p.close();
    await origin?.close();
  });
  async function proxyResolving(resolve: (host: string) => Promise<LookupAddress[]>): Promise<RunningProxy> {
    const p = await startProxy({ upstream: `http://multi.test:${origin.port}`, resolve, connectTimeoutMs: CONNECT_TIMEOUT_MS }, {});
    proxies.push(p);
    return p;
  }
  async function get(p: RunningProxy, seed: number, size = 100_000): Promise<{ status: number; ok: boolean; ms: number }> {
    const t0 = performance.now();
    const r = await request(`${p.url}/random/${seed}/${size}`, { headersTimeout: 30_000 });
    const { bytes, sha256 } = await hashStream(r.body);
    return { status: r.statusCode, ok: bytes === size && sha256 === seededSha256(seed, size), ms: performance.now() - t0 };
  }

  test('the first address refuses: every request reaches the second, byte-exact', async () => {
    const asked: string[] = [];
    const p = await proxyResolving(async (host) => { asked.push(host); return [v4('127.0.0.2'), v4('127.0.0.3')]; });
    for (let i = 0; i < 10; i++) {
      const r = await get(p, 10 + i);
      assert.equal(r.status, 200, `request ${i}`);
      assert.ok(r.ok, `request ${i}: byte-exact`);
    }
    assert.ok(asked.length > 0 && asked.every((h) => h === 'multi.test'), 'the proxy resolved the name through the option');
    assert.ok(origin.counts.connections >= 1);
  });

  test('every address refuses: a clear 502, and the proxy still serves', async () => {
    const p = await proxyResolving(async () => [v4('127.0.0.2'), v4('127.0.0.4')]);
    const r = await get(p, 1, 0);
    assert.equal(r.status, 502);
    const p2 = await proxyResolving(async () => [v4('127.0.0.3')]);
    assert.ok((await get(p2, 2)).ok);
  });

  test('a resolver that does not answer is cut at the connect timeout; a request after it is served', async (t) => {
    let slow = true;
    const p = await proxyResolving((host) => new Promise((resolve) => {
      if (!slow) { resolve([v4('127.0.0.3')]); return; }
      setTimeout(() => resolve([v4('127.0.0.3')]), 20_000).unref(); // far beyond the connect timeout
      void host;
    }));
    const r = await get(p, 3, 0);
    t.diagnostic(`stalled resolver answered in ${r.ms.toFixed(0)} ms (connect timeout ${CONNECT_TIMEOUT_MS} ms)`);
    assert.ok(r.status === 502 || r.status === 504, `a gateway error, got ${r.status}`);
    assert.ok(r.ms < CONNECT_TIMEOUT_MS + 4_000, `bounded by the connect timeout: ${r.ms.toFixed(0)} ms`);
    slow = false;
    const after = await get(p, 4);
    assert.equal(after.status, 200);
    assert.ok(after.ok);
  });
});

describe('CONNECT tunnels to a name with several addresses', () => {
  test('with and without --deny (checked addresses pinned): the refused first address falls over to the next', async () => {
    const origin = await startRandomOrigin({ host: '127.0.0.3' });
    const resolve = async (): Promise<LookupAddress[]> => [v4('127.0.0.2'), v4('127.0.0.3')];
    try {
      for (const deny of [[], ['10.0.0.0/8']]) {
        const p = await startProxy({ resolve, forward: { connectPorts: [origin.port], credentials: [], deny, allowOpen: true } });
        try {
          const s = await connectTunnel(p.port, `multi.test:${origin.port}`);
          s.resume();
          s.write(`GET /random/7/50000 HTTP/1.1\r\nHost: multi.test\r\nConnection: close\r\n\r\n`);
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          await once(s, 'close');
          const raw = Buffer.concat(chunks);
          const body = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
          assert.match(raw.toString('latin1', 0, 15), /^HTTP\/1\.1 200/, `deny ${JSON.stringify(deny)}`);
          assert.equal(createHash('sha256').update(body).digest('hex'), seededSha256(7, 50_000), `deny ${JSON.stringify(deny)}: byte-exact`);
        } finally { await p.close(); }
      }
    } finally { await origin.close(); }
  });
});

describe('forward proxy with --deny, a plain-http name with several addresses', () => {
  test('the refused first address falls over to the next; a denied address among them is still refused', async () => {
    const origin = await startRandomOrigin({ host: '127.0.0.3' });
    let answer: LookupAddress[] = [v4('127.0.0.2'), v4('127.0.0.3')];
    const p = await startProxy({ forward: { connectPorts: [origin.port], credentials: [], deny: ['10.0.0.0/8'], allowOpen: true, resolve: async () => answer } });
    const via = (path: string): Promise<{ status: number; body: Buffer }> => new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: p.port, path: `http://multi.test:${origin.port}${path}`, headers: { host: `multi.test:${origin.port}` }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      }).on('error', reject);
    });
    try {
      const r = await via('/random/8/50000');
      assert.equal(r.status, 200);
      assert.equal(createHash('sha256').update(r.body).digest('hex'), seededSha256(8, 50_000), 'byte-exact through the second address');
      answer = [v4('127.0.0.3'), v4('10.1.2.3')];
      assert.equal((await via('/random/9/10')).status, 403, 'every address is checked');
    } finally { await p.close(); await origin.close(); }
  });
});
