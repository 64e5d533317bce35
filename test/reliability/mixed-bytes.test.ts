/**
 * Never mixed bytes (RELIABILITY T6, L6): many concurrent uploads and downloads of *distinct* seeded bodies over
 * keep-alive connections, through every role, each checked by SHA-256 against its own source. With the old
 * `i mod 251` bodies two streams swapped at the same offset still hashed right; here any byte crossing from one
 * transfer to another changes the hash.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startProxy, type RunningProxy } from '../fixtures/proxy.ts';
import { connectTunnel } from '../fixtures/raw-client.ts';
import { startRandomOrigin, type RandomOrigin } from '../fixtures/random-origin.ts';
import { transferSeeded, type Outcome, type TransferSpec } from '../helpers/transfer.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { seededBuffer } from '../helpers/seeded-body.ts';
import { startRelayPair, type RelayPair } from '../relay/harness.ts';

const CONCURRENT = 32;
const SIZES = [0, 1, 1000, 65_537, 300_000, 1_048_583, 3 * 1024 * 1024 + 11];

/** 32 downloads and 32 uploads at once, distinct seeds, mixed sizes; returns bytes checked. */
async function storm(label: string, seedBase: number, base: Omit<TransferSpec, 'kind' | 'seed' | 'size'>, sizes = SIZES, n = CONCURRENT): Promise<number> {
  const random = seededRandom(seedBase);
  const jobs: Array<Promise<Outcome>> = [];
  const specs: string[] = [];
  for (let i = 0; i < n; i++) {
    for (const kind of ['download', 'upload'] as const) {
      const seed = seedBase + jobs.length;
      const size = sizes[Math.floor(random() * sizes.length)]!;
      specs.push(`${kind} ${seed}/${size}`);
      jobs.push(transferSeeded({ ...base, kind, seed, size }));
    }
  }
  const outcomes = await Promise.all(jobs);
  const failures = outcomes.map((o, i) => (o.kind === 'ok' ? null : `${specs[i]}: ${o.kind} ${o.why}`)).filter((x) => x !== null);
  assert.deepEqual(failures, [], `${label}: every transfer complete and byte-exact`);
  return outcomes.reduce((n, o) => n + (o.kind === 'ok' ? o.bytes : 0), 0);
}


describe('never mixed bytes: 64 concurrent seeded transfers per role, each SHA-256-checked', () => {
  let origin: RandomOrigin;
  let agent: http.Agent;
  before(async () => { origin = await startRandomOrigin(); });
  after(async () => { await origin.close(); });
  // a small pool, so the 64 transfers share keep-alive connections one after another
  const newAgent = () => { agent = new http.Agent({ keepAlive: true, maxSockets: 8 }); return agent; };

  test('reverse proxy', async (t) => {
    const proxy = await startProxy({ upstream: origin.url });
    try {
      const bytes = await storm('reverse', 1000, { port: proxy.port, origin: origin.host, agent: newAgent() });
      t.diagnostic(`bytes checked ${bytes}`);
    } finally { agent.destroy(); await proxy.close(); }
  });

  test('proxy with --cache memory: fills, hits and uploads at once', async (t) => {
    const proxy = await startProxy({ upstream: origin.url, cache: 'memory:128MiB' });
    try {
      const a = newAgent();
      // the same seeds twice: the second round is served from the cache (while other fills run)
      const base = { port: proxy.port, origin: origin.host, agent: a, query: '?cache=60' };
      const first = await storm('cache fill', 2000, base);
      const before = origin.counts.requests;
      const second = await storm('cache hit', 2000, base);
      assert.ok(origin.counts.requests - before < CONCURRENT * 2, 'the second round was served (at least partly) from the cache');
      t.diagnostic(`bytes checked ${first + second}`);
    } finally { agent.destroy(); await proxy.close(); }
  });

  test('forward proxy (absolute form) and CONNECT tunnels', async (t) => {
    const proxy: RunningProxy = await startProxy({ forward: { connectPorts: [origin.port], credentials: [], deny: [], allowOpen: true } });
    try {
      const plain = await storm('forward', 3000, { port: proxy.port, origin: origin.host, absolute: true, agent: newAgent() });
      agent.destroy();
      // each transfer over its own CONNECT tunnel
      const tunnelled = await storm('CONNECT', 4000, { origin: origin.host, socket: () => connectTunnel(proxy.port, origin.host) });
      t.diagnostic(`bytes checked ${plain + tunnelled}`);
    } finally { await proxy.close(); }
  });

  test('control: two same-sized bodies swapped between transfers are caught (the old i mod 251 bodies were not)', async () => {
    // an origin that answers seed N with the body of seed N xor 1, same size, same framing
    const swapper = http.createServer((req, res) => {
      const m = /^\/random\/(\d+)\/(\d+)/.exec(req.url ?? '')!;
      const body = seededBuffer(Number(m[1]) ^ 1, Number(m[2]));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => swapper.listen(0, '127.0.0.1', r));
    try {
      const port = (swapper.address() as net.AddressInfo).port;
      const o = await transferSeeded({ kind: 'download', seed: 8, size: 65_536, port, origin: `127.0.0.1:${port}` });
      assert.equal(o.kind, 'bad');
    } finally { swapper.close(); }
  });

  test('relay pair (relay-client → gateway → relay-server → origin)', async (t) => {
    const pair: RelayPair = await startRelayPair({ maxMessage: 256 * 1024 });
    try {
      const port = Number(new URL(pair.client.url).port);
      // smaller and fewer: every byte crosses the gateway in 256 KiB messages
      const bytes = await storm('relay', 5000, { port, origin: origin.host, absolute: true, agent: newAgent() }, [0, 1, 1000, 65_537, 300_000, 1_048_583], 16);
      t.diagnostic(`bytes checked ${bytes}`);
    } finally { agent.destroy(); await pair.close(); }
  });
});
