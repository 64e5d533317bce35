/**
 * Fault matrix (RELIABILITY T6, S10): toxics on either side of the proxy (client↔ferry, ferry↔origin), in either
 * direction, during 1 MiB downloads and uploads. Every transfer ends one of two ways: complete with the right bytes
 * (SHA-256), or loudly (connection error, cut body, 5xx/4xx status). Never a success with wrong or missing bytes,
 * never a crash, and the proxy serves normally afterwards with no file descriptors left behind. Harmless toxics
 * (latency, bandwidth, slicing, slow close) must not fail a transfer at all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../fixtures/proxy.ts';
import { startToxicProxy, type Direction, type Toxic } from '../fixtures/toxic-proxy.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { seededBuffer } from '../helpers/seeded-body.ts';

const SIZE = 1024 * 1024;
// a seeded random body, not the i mod 251 pattern: bytes shifted or swapped by a fault change the hash
const BODY = seededBuffer(20261207, SIZE);
const SHA = createHash('sha256').update(BODY).digest('hex');

type Outcome = { kind: 'ok' } | { kind: 'loud'; why: string } | { kind: 'bad'; why: string };

/** GET /bytes → the pattern; POST /sha → `<bytes> <sha256>` of what arrived. */
function startOrigin(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/sha') {
      const hash = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => { n += c.length; hash.update(c); });
      req.on('end', () => res.end(`${n} ${hash.digest('hex')}`));
      return;
    }
    res.writeHead(200, { 'content-length': SIZE });
    res.end(BODY);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as AddressInfo).port })));
}

function transfer(port: number, kind: 'download' | 'upload'): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => { if (!settled) { settled = true; clearTimeout(guard); resolve(o); } };
    // a stalled transfer must end by the proxy's own timeouts; this only stops the test from hanging on a bug
    const guard = setTimeout(() => { req.destroy(); settle({ kind: 'bad', why: 'hung for 20 s' }); }, 20_000);
    const req = http.request({ host: '127.0.0.1', port, agent: false, method: kind === 'download' ? 'GET' : 'POST', path: kind === 'download' ? '/bytes' : '/sha', headers: kind === 'upload' ? { 'content-length': SIZE } : {} }, (res) => {
      const hash = createHash('sha256');
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => { if (kind === 'download') hash.update(c); else parts.push(c); });
      res.on('error', (err) => settle({ kind: 'loud', why: `body cut: ${err.message}` }));
      res.on('aborted', () => settle({ kind: 'loud', why: 'body aborted' }));
      res.on('end', () => {
        if (res.statusCode !== 200) { settle({ kind: 'loud', why: `status ${res.statusCode}` }); return; }
        const got = kind === 'download' ? hash.digest('hex') : Buffer.concat(parts).toString();
        const want = kind === 'download' ? SHA : `${SIZE} ${SHA}`;
        settle(got === want ? { kind: 'ok' } : { kind: 'bad', why: `200 with ${kind === 'download' ? 'wrong bytes' : `origin saw ${got}`}` });
      });
    });
    req.on('error', (err) => settle({ kind: 'loud', why: `request failed: ${err.message}` }));
    req.end(kind === 'upload' ? BODY : undefined);
  });
}

interface Case { name: string; where: 'client side' | 'origin side'; toxics: Partial<Record<Direction, Toxic>>; harmless: boolean }

function cases(): Case[] {
  const random = seededRandom(20261122);
  const offset = () => 1 + Math.floor(random() * (SIZE + 400)); // anywhere in the head or the body
  const list: Case[] = [];
  for (const where of ['client side', 'origin side'] as const) {
    const harmless: Array<[string, Toxic]> = [
      ['latency 5 ms', { kind: 'latency', ms: 5 }],
      ['bandwidth 8 MiB/s', { kind: 'bandwidth', bytesPerSecond: 8 * SIZE }],
      ['slicer ≤ 3 KiB', { kind: 'slicer', maxBytes: 3000 }],
      ['slow close 200 ms', { kind: 'slow_close', ms: 200 }],
    ];
    for (const [name, toxic] of harmless) list.push({ name, where, toxics: { up: toxic, down: toxic }, harmless: true });
    for (const dir of ['up', 'down'] as const) {
      for (let i = 0; i < 2; i++) {
        list.push({ name: `limit_data ${dir}`, where, toxics: { [dir]: { kind: 'limit_data', bytes: offset() } }, harmless: false });
        list.push({ name: `reset_peer ${dir}`, where, toxics: { [dir]: { kind: 'reset_peer', bytes: offset() } }, harmless: false });
      }
      list.push({ name: `timeout ${dir}`, where, toxics: { [dir]: { kind: 'timeout', bytes: offset(), ms: 1500 } }, harmless: false });
    }
  }
  return list;
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('fault matrix: toxics around the proxy never yield a wrong or silently short transfer', () => {
  let origin: { server: http.Server; port: number };
  let fdsBefore: number;
  before(async () => { origin = await startOrigin(); fdsBefore = openFds(); });
  after(async () => { origin.server.closeAllConnections(); await new Promise<void>((r) => origin.server.close(() => r())); });

  const all = cases();
  for (const kind of ['download', 'upload'] as const) {
    test(`${kind}: ${all.length} toxic placements`, async (t) => {
      const seen: string[] = [];
      // a few cases at a time: each has its own proxies, and the stalls wait out real timeouts
      for (let i = 0; i < all.length; i += 4) {
        await Promise.all(all.slice(i, i + 4).map(async (c, j) => {
          const seed = i + j + 1;
          const upstreamSide = c.where === 'origin side' ? await startToxicProxy({ host: '127.0.0.1', port: origin.port }, c.toxics, seed) : null;
          const proxy: RunningProxy = await startProxy({ upstream: upstreamSide?.url ?? `http://127.0.0.1:${origin.port}`, upstreamTimeoutMs: 3000, idleTimeoutMs: 3000 });
          const clientSide = c.where === 'client side' ? await startToxicProxy({ host: '127.0.0.1', port: proxy.port }, c.toxics, seed) : null;
          try {
            const outcome = await transfer(clientSide?.port ?? proxy.port, kind);
            seen.push(`${c.where} ${c.name}: ${outcome.kind}${outcome.kind === 'ok' ? '' : ` (${outcome.why})`}`);
            assert.notEqual(outcome.kind, 'bad', `${c.where}, ${c.name}, ${JSON.stringify(c.toxics)}: ${outcome.kind === 'bad' ? outcome.why : ''}`);
            if (c.harmless) assert.equal(outcome.kind, 'ok', `${c.where}, ${c.name} must not fail a transfer: ${outcome.kind === 'loud' ? outcome.why : ''}`);
            // the proxy is still healthy: straight to it, a transfer succeeds (client-side toxics), or at worst
            // fails loudly again (origin-side toxics hit every new upstream connection too)
            const next = await transfer(proxy.port, kind);
            if (upstreamSide) assert.notEqual(next.kind, 'bad', next.kind === 'bad' ? next.why : '');
            else assert.equal(next.kind, 'ok', next.kind === 'ok' ? '' : next.why);
            const internal = proxy.logs.filter((l) => l.event === 'internal-error');
            assert.deepEqual(internal, [], 'no internal errors logged');
          } finally {
            await clientSide?.close();
            await proxy.close();
            await upstreamSide?.close();
          }
        }));
      }
      t.diagnostic(`${seen.filter((x) => x.endsWith(': ok')).length} complete, ${seen.filter((x) => x.includes(': loud')).length} failed loudly`);
      // both outcomes occur (the matrix really cuts transfers), and the log of what happened helps when it fails
      assert.ok(seen.some((s) => s.includes(': loud')), seen.join('\n'));
      assert.ok(seen.some((s) => s.includes(': ok')), seen.join('\n'));
    });
  }

  test('control: the classifier calls a 200 that ends early, or carries other bytes, "bad"', async () => {
    const liar = http.createServer((req, res) => {
      req.resume();
      // chunked framing ended properly after half the body: looks complete on the wire
      if (req.url === '/bytes') { res.writeHead(200); res.end(BODY.subarray(0, SIZE / 2)); } else res.end(`${SIZE} ${'0'.repeat(64)}`);
    });
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    try {
      const port = (liar.address() as AddressInfo).port;
      assert.equal((await transfer(port, 'download')).kind, 'bad');
      assert.equal((await transfer(port, 'upload')).kind, 'bad');
    } finally { liar.closeAllConnections(); liar.close(); }
  });

  test('no file descriptors left behind', async () => {
    for (let i = 0; i < 20 && openFds() > fdsBefore + 4; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(openFds() <= fdsBefore + 4, `fds before ${fdsBefore}, after ${openFds()}`);
  });
});
