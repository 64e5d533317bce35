/**
 * @module Cache benchmark (issue 6): requests/s through `ferry proxy --cache STORE` for hits vs misses (1 KiB bodies,
 * autocannon over loopback), per store, next to the proxy without a cache; then the hit ratio on a replayed
 * Zipf-like workload (deterministic). Bounded: fixed durations and request counts.
 * Run alone: `node bench/cache.bench.ts`; bench/run.ts calls `run()`.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startRole, type RunningRole } from '../test/helpers/cli.ts';
import { redisUnavailable, startRedis } from '../test/helpers/redis.ts';

import type { BenchContext, BenchResult } from './run.ts';

const LOAD_SECONDS = 5;
const CONNECTIONS = 32;
const BODY = Buffer.alloc(1024, 'x');
const ORIGIN_DELAY_MS = 20;

/** Origin: /hit/* cacheable for an hour, /miss/* no-store (forwarded every time), /slow-* the same after 20 ms, /zipf/N sized by N. */
async function startBenchOrigin(): Promise<{ url: string; count: () => number; close: () => void }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    const url = req.url ?? '/';
    if (url.startsWith('/zipf/')) {
      const id = Number(url.slice(6)) || 0;
      res.writeHead(200, { 'cache-control': 'max-age=3600', 'content-length': String(512 + (id % 16) * 1024) });
      res.end(Buffer.alloc(512 + (id % 16) * 1024, 'z'));
      return;
    }
    const answer = (): void => {
      res.writeHead(200, { 'cache-control': url.includes('hit') ? 'max-age=3600' : 'no-store', 'content-type': 'text/plain', 'content-length': String(BODY.length) });
      res.end(BODY);
    };
    // /slow-*: an origin that takes ORIGIN_DELAY_MS per answer, like a real application.
    if (url.startsWith('/slow')) setTimeout(answer, ORIGIN_DELAY_MS); else answer();
  });
  server.keepAliveTimeout = 10_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n, close: () => { server.closeAllConnections(); server.close(); } };
}

async function rps(url: string): Promise<{ rps: number; p99: number; errors: number }> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: LOAD_SECONDS });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/** xorshift32: the same workload on every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
}

/** `count` requests over `keys` URLs with Zipf(s≈1) popularity, like a web log. */
export function zipfWorkload(keys: number, count: number, seed = 42): number[] {
  const weights = Array.from({ length: keys }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) { acc += w / total; cdf.push(acc); }
  const rand = prng(seed);
  return Array.from({ length: count }, () => {
    const u = rand();
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid]! < u) lo = mid + 1; else hi = mid; }
    return lo;
  });
}

async function replay(proxyUrl: string, ids: number[], inFlight = 16): Promise<{ hits: number; total: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  let hits = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const status = await new Promise<string>((resolve, reject) => {
        http.get(`${proxyUrl}/zipf/${id}`, { agent }, (res) => { res.resume(); res.on('end', () => resolve(String(res.headers['cache-status']))); }).on('error', reject);
      });
      if (/^ferry; hit/.test(status)) hits++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  agent.destroy();
  return { hits, total: ids.length };
}

export async function run(ctx: BenchContext = { log: (m) => console.log(m) }): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const origin = await startBenchOrigin();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cache-bench-'));
  const redis = redisUnavailable() === null ? await startRedis() : null;
  const roles: RunningRole[] = [];
  const proxy = async (extra: string[]): Promise<RunningRole> => {
    const r = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, ...extra]);
    roles.push(r);
    return r;
  };
  try {
    const plain = await proxy([]);
    const p = await rps(`${plain.url}/hit/a`);
    results.push({ name: `no cache: GET 1 KiB, ${CONNECTIONS} connections`, value: Math.round(p.rps), unit: 'req/s', notes: `p99 ${p.p99} ms, ${p.errors} errors` });
    const stores: Array<[string, string]> = [['memory', 'memory:64MiB'], ['disk', `disk:${join(dir, 'd')}:256MiB`]];
    if (redis) stores.push(['redis', redis.url]);
    for (const [name, spec] of stores) {
      ctx.log(`${name} store: hits, then misses (${LOAD_SECONDS} s each)`);
      const role = await proxy(['--cache', spec]);
      const hit = await rps(`${role.url}/hit/${name}`);
      results.push({ name: `cache ${name} hit: GET 1 KiB, ${CONNECTIONS} connections`, value: Math.round(hit.rps), unit: 'req/s', notes: `p99 ${hit.p99} ms, ${hit.errors} errors` });
      const miss = await rps(`${role.url}/miss/${name}`);
      results.push({ name: `cache ${name} miss (no-store, forwarded): GET 1 KiB`, value: Math.round(miss.rps), unit: 'req/s', notes: `p99 ${miss.p99} ms, ${miss.errors} errors` });
    }
    const mem = await proxy(['--cache', 'memory:64MiB']);
    for (const kind of ['hit', 'miss']) {
      const r = await rps(`${mem.url}/slow-${kind}`);
      results.push({ name: `cache memory ${kind}, origin answering in ${ORIGIN_DELAY_MS} ms: GET 1 KiB`, value: Math.round(r.rps), unit: 'req/s', notes: `p99 ${r.p99} ms, ${r.errors} errors` });
    }
    const ids = zipfWorkload(2000, 10_000);
    ctx.log('hit ratio: Zipf replay');
    for (const spec of ['memory:64MiB', 'memory:2MiB']) {
      const role = await proxy(['--cache', spec]);
      const before = origin.count();
      const r = await replay(role.url, ids);
      results.push({ name: `hit ratio, Zipf replay of 10 000 requests over 2 000 URLs, --cache ${spec}`, value: Math.round((r.hits / r.total) * 1000) / 10, unit: '%', notes: `${origin.count() - before} origin requests` });
    }
  } finally {
    await Promise.all(roles.map((r) => r.stop()));
    origin.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run({ log: (m) => console.log(m) })) console.log(`${r.name.padEnd(80)} ${String(r.value).padStart(9)} ${r.unit}${r.notes ? `  (${r.notes})` : ''}`);
}
