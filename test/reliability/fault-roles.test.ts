/**
 * The fault matrix on every role (RELIABILITY T6, S10, L6): latency, bandwidth, slicing, slow close, timeout (stall),
 * reset and limit_data, on the client side and the upstream side of the forward proxy, CONNECT tunnels, cache fills
 * and revalidations, and the three hops of the relay (client→gateway, gateway→relay-server, relay-server→target).
 * Each faulted transfer (a seeded body up and one down, checked by SHA-256) ends complete and byte-exact, or loudly
 * (502/504, or a cut connection: docs/proxy.md, docs/relay.md) — never a 200 with wrong or missing bytes, never a
 * hang past the timeouts. Then the link is healed and a follow-up on a fresh connection must succeed: the role still
 * works, it did not merely fail loudly. Harmless toxics must not fail anything. (The reverse proxy's own matrix is
 * test/proxy/fault-matrix.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy } from '../fixtures/proxy.ts';
import { connectTunnel } from '../fixtures/raw-client.ts';
import { startRandomOrigin, type RandomOrigin } from '../fixtures/random-origin.ts';
import { startToxicProxy, type Direction, type Toxic, type ToxicProxy } from '../fixtures/toxic-proxy.ts';
import { startGateway } from '../fixtures/gateway.ts';
import { startRole } from '../helpers/cli.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { transferSeeded, type Outcome, type TransferSpec } from '../helpers/transfer.ts';
import { SECRET } from '../relay/harness.ts';

interface Case { name: string; toxics: Partial<Record<Direction, Toxic>>; harmless: boolean }

function cases(seed: number, size: number): Case[] {
  const random = seededRandom(seed);
  const offset = () => 1 + Math.floor(random() * (size + 300));
  const both = (t: Toxic) => ({ up: t, down: t });
  return [
    { name: 'latency 5 ms', toxics: both({ kind: 'latency', ms: 5 }), harmless: true },
    { name: 'bandwidth 4 MiB/s', toxics: both({ kind: 'bandwidth', bytesPerSecond: 4 << 20 }), harmless: true },
    { name: 'slicer ≤ 2 KiB', toxics: both({ kind: 'slicer', maxBytes: 2000 }), harmless: true },
    { name: 'slow close 200 ms', toxics: both({ kind: 'slow_close', ms: 200 }), harmless: true },
    { name: 'timeout down', toxics: { down: { kind: 'timeout', bytes: offset(), ms: 1500 } }, harmless: false },
    { name: 'reset_peer up', toxics: { up: { kind: 'reset_peer', bytes: offset() } }, harmless: false },
    { name: 'reset_peer down', toxics: { down: { kind: 'reset_peer', bytes: offset() } }, harmless: false },
    { name: 'limit_data up', toxics: { up: { kind: 'limit_data', bytes: offset() } }, harmless: false },
    { name: 'limit_data down', toxics: { down: { kind: 'limit_data', bytes: offset() } }, harmless: false },
  ];
}

/** What the docs promise for a failed transfer: a gateway error status, or a cut connection — nothing else. */
function documented(o: Outcome): boolean {
  if (o.kind !== 'loud') return true;
  const status = /^status (\d+)$/.exec(o.why);
  return status === null || ['502', '503', '504'].includes(status[1]!);
}

export const figures = { faults: 0, transfers: 0, bytes: 0 };

/**
 * Runs every case through `toxic`, one after another: a download and an upload under the toxic, then (healed) a
 * download and an upload on fresh connections that must succeed. `prime`: fetch the URL once, healed, before the
 * faulted download (so the faulted one is a cache revalidation).
 */
async function matrix(label: string, toxic: ToxicProxy, base: Omit<TransferSpec, 'kind' | 'seed' | 'size'>, size: number, seedBase: number, prime = false, closeOpen = false, faultWithin = size): Promise<string[]> {
  const seen: string[] = [];
  let seed = seedBase;
  for (const c of cases(seedBase, faultWithin)) {
    const s = seed;
    seed += 10;
    if (prime) {
      toxic.set({}, { closeOpen });
      const p = await transferSeeded({ ...base, kind: 'download', seed: s, size });
      assert.equal(p.kind, 'ok', `${label} ${c.name}: priming fetch: ${p.kind === 'ok' ? '' : p.why}`);
    }
    toxic.set(c.toxics, { closeOpen });
    if (!c.harmless) figures.faults++;
    const faulted = await Promise.all([
      transferSeeded({ ...base, kind: 'download', seed: s, size, guardMs: 30_000 }),
      transferSeeded({ ...base, kind: 'upload', seed: s + 1, size, guardMs: 30_000 }),
    ]);
    toxic.set({}, { closeOpen });
    for (const [i, o] of faulted.entries()) {
      const what = `${label}, ${c.name}, ${i === 0 ? 'download' : 'upload'}`;
      seen.push(`${what}: ${o.kind}${o.kind === 'ok' ? '' : ` (${o.why})`}`);
      assert.notEqual(o.kind, 'bad', `${what}: ${o.kind === 'bad' ? o.why : ''} ${JSON.stringify(c.toxics)}`);
      assert.ok(documented(o), `${what}: undocumented result ${o.kind === 'loud' ? o.why : ''}`);
      if (c.harmless) assert.equal(o.kind, 'ok', `${what} must not fail: ${o.kind === 'ok' ? '' : o.why}`);
      // a revalidation that cannot reach the origin serves the stored response (docs/cache.md, stale when
      // disconnected, RFC 9111 §4.2.4): the download must complete
      if (prime && i === 0) assert.equal(o.kind, 'ok', `${what}: the stale response stands in: ${o.kind === 'ok' ? '' : o.why}`);
      if (o.kind === 'ok') { figures.bytes += o.bytes; figures.transfers++; }
    }
    const next = await Promise.all([
      transferSeeded({ ...base, kind: 'download', seed: prime ? s : s + 2, size }),
      transferSeeded({ ...base, kind: 'upload', seed: s + 3, size }),
    ]);
    for (const o of next) {
      assert.equal(o.kind, 'ok', `${label}, after ${c.name}, healed, a fresh request must succeed: ${o.kind === 'ok' ? '' : o.why}`);
      figures.bytes += o.bytes;
      figures.transfers++;
    }
  }
  return seen;
}


const SIZE = 384 * 1024;
const sides = ['client side', 'upstream side'] as const;

describe('fault matrix on every role: loud or byte-exact, and a working role afterwards', () => {
  let origin: RandomOrigin;
  before(async () => { origin = await startRandomOrigin(); });
  after(async (t) => {
    await origin.close();
    t.diagnostic(`faults injected ${figures.faults}, transfers checked ${figures.transfers}, bytes checked ${figures.bytes}`);
  });

  for (const where of sides) {
    test(`forward proxy (absolute form), ${where}`, async (t) => {
      const up = where === 'upstream side' ? await startToxicProxy({ host: '127.0.0.1', port: origin.port }, {}) : null;
      const proxy = await startProxy({ forward: { connectPorts: [origin.port, up?.port ?? origin.port], credentials: [], deny: [], allowOpen: true }, upstreamTimeoutMs: 3000, idleTimeoutMs: 3000 });
      const down = where === 'client side' ? await startToxicProxy({ host: '127.0.0.1', port: proxy.port }, {}) : null;
      try {
        const seen = await matrix(`forward ${where}`, (up ?? down)!, { port: down?.port ?? proxy.port, origin: up ? `127.0.0.1:${up.port}` : origin.host, absolute: true, query: '?close' }, SIZE, 100);
        t.diagnostic(seen.filter((s) => !s.endsWith(': ok')).join('; '));
      } finally { await down?.close(); await proxy.close(); await up?.close(); }
    });

    test(`CONNECT tunnel, ${where}`, async (t) => {
      const up = where === 'upstream side' ? await startToxicProxy({ host: '127.0.0.1', port: origin.port }, {}) : null;
      const proxy = await startProxy({ forward: { connectPorts: [up?.port ?? origin.port], credentials: [], deny: [], allowOpen: true }, upstreamTimeoutMs: 3000, idleTimeoutMs: 3000 });
      const down = where === 'client side' ? await startToxicProxy({ host: '127.0.0.1', port: proxy.port }, {}) : null;
      try {
        const target = up ? `127.0.0.1:${up.port}` : origin.host;
        const seen = await matrix(`CONNECT ${where}`, (up ?? down)!, { origin: origin.host, socket: () => connectTunnel(down?.port ?? proxy.port, target), query: '?close' }, SIZE, 200);
        t.diagnostic(seen.filter((s) => !s.endsWith(': ok')).join('; '));
      } finally { await down?.close(); await proxy.close(); await up?.close(); }
    });
  }

  for (const kind of ['fill', 'revalidation'] as const) {
    test(`cache ${kind}, upstream side`, async (t) => {
      const up = await startToxicProxy({ host: '127.0.0.1', port: origin.port }, {});
      const proxy = await startProxy({ upstream: up.url, cache: 'memory:64MiB', upstreamTimeoutMs: 3000, idleTimeoutMs: 3000 });
      try {
        // revalidation: max-age=0 with an ETag, so the faulted request is a conditional one answered by a 304 of
        // ~200 bytes: the cuts fall within its first 200 bytes each way
        const seen = await matrix(`cache ${kind}`, up, { port: proxy.port, origin: origin.host, query: kind === 'fill' ? '?cache=60&close' : '?cache=0&close' }, SIZE, kind === 'fill' ? 300 : 400, kind === 'revalidation', false, kind === 'fill' ? SIZE : 200);
        t.diagnostic(seen.filter((s) => !s.endsWith(': ok')).join('; '));
      } finally { await proxy.close(); await up.close(); }
    });
  }

  test('relay: client→gateway, gateway→relay-server and relay-server→target hops', async (t) => {
    const args = ['--max-message', '65536', '--log-level', 'warn', '--retries', '3'];
    const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', ...args.slice(0, 4)], { env: { FERRY_RELAY_SECRET: SECRET } });
    const toServer = await startToxicProxy({ host: '127.0.0.1', port: server.port }, {});
    const gateway = await startGateway({ targets: [toServer.url], maxMessage: 65536, timeoutMs: 5000 });
    const toGateway = await startToxicProxy({ host: '127.0.0.1', port: Number(new URL(gateway.url).port) }, {});
    const client = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', toGateway.url, ...args], { env: { FERRY_RELAY_SECRET: SECRET } });
    const toTarget = await startToxicProxy({ host: '127.0.0.1', port: origin.port }, {});
    try {
      const seen = [
        ...await matrix('relay client→gateway', toGateway, { port: client.port, origin: origin.host, absolute: true, query: '?close' }, 200_000, 500, false, true),
        ...await matrix('relay gateway→server', toServer, { port: client.port, origin: origin.host, absolute: true, query: '?close' }, 200_000, 600, false, true),
        ...await matrix('relay server→target', toTarget, { port: client.port, origin: `127.0.0.1:${toTarget.port}`, absolute: true, query: '?close' }, 200_000, 700, false, true),
      ];
      t.diagnostic(seen.filter((s) => !s.endsWith(': ok')).join('; '));
    } finally {
      await client.stop(); await toGateway.close(); await gateway.close(); await toServer.close(); await server.stop(); await toTarget.close();
    }
  });
});
