/**
 * @module `npm run soak` (RELIABILITY T6, T9; issue 17): mixed traffic through the proxy with a Redis cache and
 * through the relay pair (relay-client → chaotic gateway → relay-server with a Redis store), with faults injected:
 * client connections cut (reset, FIN, stall) by toxic proxies, origin bodies that stop half-way, and gateway drops,
 * 504s and bit flips on the relay hop. Loopback only, bounded: `--seconds N` (default 120), concurrency 8.
 *
 * Asserts, after a warm-up of a third of the run: RSS, open descriptors, sockets, Redis keys and pending timers stay
 * within the bounds below (growth is read on the floor of the last 3 one-second samples, since descriptors and sockets
 * swing by ~50 with the requests in flight at that instant, and a leak raises the floor); once the load stops and the
 * relay-client is stopped, this process's descriptors drain back to near their count before it started; 0 wrong bytes (every seeded body checked by SHA-256); and every failed request was one a
 * fault was injected into (requests without an injected fault must all succeed, the relay's gateway faults included,
 * which its retries must absorb). Prints progress every 5 s and the figures at the end. A 20-second run is part of
 * `npm test` (test/reliability/soak.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startProxy } from '../test/fixtures/proxy.ts';
import { startRandomOrigin } from '../test/fixtures/random-origin.ts';
import { startToxicProxy, type ToxicProxy } from '../test/fixtures/toxic-proxy.ts';
import { startGateway } from '../test/fixtures/gateway.ts';
import { startRole, rssOf } from '../test/helpers/cli.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { seededRandom } from '../test/helpers/seeded-random.ts';
import { transferSeeded, type Outcome } from '../test/helpers/transfer.ts';
import { SECRET } from '../test/relay/harness.ts';

const CONCURRENCY = 8;
/** The stated bounds, after warm-up, relative to the first sample after it (growth) or absolute (keys). */
export const BOUNDS = {
  rssGrowthMiB: 96, // in-process proxy + origin + clients; and each relay process
  childRssGrowthMiB: 128, // V8 grows a busy relay's heap for a while before it collects: bounded, not flat
  fdGrowth: 4 * CONCURRENCY + 16,
  socketGrowth: 4 * CONCURRENCY + 16,
  /** Keys other than relay nonces (cache entries, sessions); nonces are bounded by their TTL instead (below). */
  redisKeys: 3000,
  /** Every relay nonce key expires within 2 × 300 s (RELIABILITY L3): rate-bounded, checked by its TTL. */
  nonceTtlMs: 600_000,
  timerGrowth: 4 * CONCURRENCY + 16,
  /** After the load stops and keep-alive connections idle out: descriptors above the count before any traffic. */
  drainedFdExcess: 16,
  drainWaitMs: 12_000,
};
const FLOOR_SAMPLES = 3;

export interface SoakReport {
  seconds: number;
  requests: number;
  bytesChecked: number;
  faultsInjected: number;
  failedInjected: number;
  wrongBytes: number;
  unexpected: string[];
  longestStallMs: number;
  violations: string[];
  peaks: Record<string, number>;
}

const fdsOf = (pid: number | 'self') => readdirSync(`/proc/${pid}/fd`);
const socketsOf = (pid: number | 'self') => fdsOf(pid).filter((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:'); } catch { return false; } }).length;
/** Redis keys by kind: nonces (with the longest TTL among a sample), the rest, and keys that never expire. */
function redisKeys(port: number): { redisKeys: number; nonces: number; nonceTtlMs: number; keysWithoutTtl: number } {
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
  const keys = cli('--scan').split('\n').filter((k) => k !== '');
  const nonces = keys.filter((k) => k.includes('nonce:'));
  const sample = [...nonces.slice(0, 3), ...keys.filter((k) => !k.includes('nonce:')).slice(0, 20)];
  let nonceTtlMs = 0;
  let withoutTtl = 0;
  for (const k of sample) {
    const ttl = Number(cli('pttl', k));
    if (k.includes('nonce:')) nonceTtlMs = Math.max(nonceTtlMs, ttl < 0 ? Infinity : ttl);
    else if (ttl === -1) withoutTtl++;
  }
  return { redisKeys: keys.length - nonces.length, nonces: nonces.length, nonceTtlMs, keysWithoutTtl: withoutTtl };
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

export async function runSoak(seconds: number, log: (line: string) => void = console.log): Promise<SoakReport> {
  const redis = await startRedis();
  const origin = await startRandomOrigin();
  // Client, proxy and origin share this process: when the machine is loaded and its event loop stalls for a second,
  // Node runs the expired idle timers before it reads the bytes that arrived meanwhile, and a 1 s idle timeout cut a
  // healthy request ("socket hang up (no fault injected; proxy, 1043 ms)", seen in npm test runs on a loaded machine,
  // on this tree and on older ones). 2 s keeps the stall case below quick and leaves that margin.
  const proxy = await startProxy({ upstream: origin.url, cache: redis.url, idleTimeoutMs: 2000, upstreamTimeoutMs: 3000 });
  const toxics: ToxicProxy[] = [
    await startToxicProxy({ host: '127.0.0.1', port: proxy.port }, { down: { kind: 'reset_peer', bytes: 50_000 } }, 1),
    await startToxicProxy({ host: '127.0.0.1', port: proxy.port }, { up: { kind: 'limit_data', bytes: 30_000 } }, 2),
    await startToxicProxy({ host: '127.0.0.1', port: proxy.port }, { down: { kind: 'timeout', bytes: 40_000, ms: 500 } }, 3),
    await startToxicProxy({ host: '127.0.0.1', port: proxy.port }, { up: { kind: 'slicer', maxBytes: 700 }, down: { kind: 'latency', ms: 2 } }, 4),
  ];
  const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--store', redis.url, '--max-message', '65536', '--log-level', 'warn'], { env: { FERRY_RELAY_SECRET: SECRET } });
  const gateway = await startGateway({ targets: [server.url], maxMessage: 65536, chaos: { seed: 17, dropBefore: 0.03, dropAfter: 0.03, flip: 0.01 } });
  const client = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', gateway.url, '--max-message', '65536', '--log-level', 'warn'], { env: { FERRY_RELAY_SECRET: SECRET } });

  const report: SoakReport = { seconds, requests: 0, bytesChecked: 0, faultsInjected: 0, failedInjected: 0, wrongBytes: 0, unexpected: [], longestStallMs: 0, violations: [], peaks: {} };
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const warmUntil = started + (seconds * 1000) / 3;
  let seedCounter = 1_000_000;
  const random = seededRandom(20261207);
  const sizes = [1000, 65_537, 300_000, 1_048_583];

  const one = async (): Promise<void> => {
    const r = random();
    const size = sizes[Math.floor(random() * sizes.length)]!;
    const seed = seedCounter++;
    const base = { port: proxy.port, origin: origin.host };
    let injected = false;
    let path = 'proxy';
    let p: Promise<Outcome>;
    const t0 = Date.now();
    if (r < 0.25) p = transferSeeded({ ...base, kind: 'download', seed: 1 + Math.floor(random() * 40), size, query: '?cache=30' }); // hits and fills
    else if (r < 0.35) p = transferSeeded({ ...base, kind: 'download', seed: 100 + Math.floor(random() * 20), size, query: '?cache=0' }); // revalidations
    else if (r < 0.5) p = transferSeeded({ ...base, kind: 'download', seed, size });
    else if (r < 0.62) p = transferSeeded({ ...base, kind: 'upload', seed, size });
    else if (r < 0.78) {
      path = 'relay';
      p = transferSeeded({ kind: random() < 0.5 ? 'download' : 'upload', seed, size: Math.min(size, 300_000), port: client.port, origin: origin.host, absolute: true });
    }
    else if (r < 0.93) {
      const t = Math.floor(random() * toxics.length);
      injected = t < 3; // the slicer/latency one is harmless: its requests must succeed
      path = `toxic ${t}`;
      p = transferSeeded({ kind: random() < 0.5 ? 'download' : 'upload', seed, size: 100_000 + size, port: toxics[t]!.port, origin: origin.host });
    } else {
      injected = true; // the origin stops half-way: the proxy's idle timeout (2 s) cuts it
      p = transferSeeded({ ...base, kind: 'download', seed, size: 300_000, query: '?stall=100000' });
    }
    const o = await p;
    const ms = Date.now() - t0;
    report.requests++;
    if (injected) { report.faultsInjected++; if (o.kind !== 'ok') { report.failedInjected++; report.longestStallMs = Math.max(report.longestStallMs, ms); } }
    if (o.kind === 'ok') report.bytesChecked += o.bytes;
    else if (o.kind === 'bad') { report.wrongBytes++; report.unexpected.push(`wrong bytes: ${o.why}`); }
    else if (!injected) report.unexpected.push(`${o.why} (no fault injected; ${path}, ${ms} ms)`);
  };

  const base: Record<string, number> = {};
  const recent: Record<string, number>[] = [];
  /** Each figure's least value over the last FLOOR_SAMPLES samples: what is held whatever is in flight. */
  const floor = (): Record<string, number> => Object.fromEntries(Object.keys(recent[0]!).map((k) => [k, Math.min(...recent.map((r) => r[k]!))]));
  const fdsBeforeLoad = fdsOf('self').length;
  const sample = (): Record<string, number> => ({
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    fds: fdsOf('self').length,
    sockets: socketsOf('self'),
    timers: timers(),
    clientRssMiB: rssOf(client.proc.pid!) / 2 ** 20,
    serverRssMiB: rssOf(server.proc.pid!) / 2 ** 20,
    clientFds: fdsOf(client.proc.pid!).length,
    serverFds: fdsOf(server.proc.pid!).length,
    ...redisKeys(redis.port),
  });
  const check = (s: Record<string, number>) => {
    const grow = (k: string, bound: number) => { if (s[k]! - base[k]! > bound) report.violations.push(`${k} grew ${Math.round(s[k]! - base[k]!)} (bound ${bound}) at ${Math.round((Date.now() - started) / 1000)} s`); };
    grow('rssMiB', BOUNDS.rssGrowthMiB);
    grow('clientRssMiB', BOUNDS.childRssGrowthMiB);
    grow('serverRssMiB', BOUNDS.childRssGrowthMiB);
    grow('fds', BOUNDS.fdGrowth);
    grow('clientFds', BOUNDS.fdGrowth);
    grow('serverFds', BOUNDS.fdGrowth);
    grow('sockets', BOUNDS.socketGrowth);
    grow('timers', BOUNDS.timerGrowth);
    if (s.redisKeys! > BOUNDS.redisKeys) report.violations.push(`redis keys (other than nonces) ${s.redisKeys} > ${BOUNDS.redisKeys}`);
    if (s.nonceTtlMs! > BOUNDS.nonceTtlMs || s.keysWithoutTtl! > BOUNDS.redisKeys) report.violations.push(`nonce TTL ${s.nonceTtlMs} ms, keys without TTL ${s.keysWithoutTtl}`);
  };
  let lastProgress = started;
  const monitor = setInterval(() => {
    const s = sample();
    recent.push(s);
    if (recent.length > FLOOR_SAMPLES) recent.shift();
    for (const [k, v] of Object.entries(s)) report.peaks[k] = Math.max(report.peaks[k] ?? 0, Math.round(v));
    if (Date.now() >= warmUntil) {
      if (Object.keys(base).length === 0) Object.assign(base, floor());
      else check({ ...floor(), redisKeys: s.redisKeys!, nonceTtlMs: s.nonceTtlMs!, keysWithoutTtl: s.keysWithoutTtl! });
    }
    if (Date.now() - lastProgress >= 5000) {
      lastProgress = Date.now();
      log(`soak ${Math.round((Date.now() - started) / 1000)}/${seconds} s: ${report.requests} requests, ${(report.bytesChecked / 2 ** 20).toFixed(0)} MiB checked, ${report.faultsInjected} faults, ${report.unexpected.length} unexpected; rss ${s.rssMiB!.toFixed(0)} MiB, fds ${s.fds}, sockets ${s.sockets}, timers ${s.timers}, redis keys ${s.redisKeys} + ${s.nonces} nonces`);
    }
  }, 1000);
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (Date.now() < deadline) await one(); }));
    // A leaked socket or file stays open after its request; an idle keep-alive one closes within its timeout. The
    // relay-client keeps its idle connections to the gateway for 30 s (gateway-transport.ts): stopping it closes them.
    clearInterval(monitor); // it samples the relay-client's /proc entries
    await client.stop();
    const drainDeadline = Date.now() + BOUNDS.drainWaitMs;
    while (fdsOf('self').length > fdsBeforeLoad + 8 && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 250));
    const left = fdsOf('self').length - fdsBeforeLoad;
    log(`soak drained in ${((Date.now() - drainDeadline + BOUNDS.drainWaitMs) / 1000).toFixed(1)} s: ${left} descriptors above the count before the load (bound ${BOUNDS.drainedFdExcess})`);
    if (left > BOUNDS.drainedFdExcess) report.violations.push(`${left} descriptors still open ${BOUNDS.drainWaitMs / 1000} s after the load stopped (bound ${BOUNDS.drainedFdExcess})`);
  } finally {
    clearInterval(monitor);
    report.faultsInjected += gateway.counts.droppedBefore + gateway.counts.droppedAfter + gateway.counts.flips;
    await client.stop();
    await gateway.close();
    await server.stop();
    for (const t of toxics) await t.close();
    await proxy.close(); // throws on an internal error logged by the proxy (the no-alerts rule)
    await origin.close();
    await redis.stop();
  }
  if (Object.keys(base).length === 0) report.violations.push('no sample after warm-up');
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--seconds');
  const seconds = i > 0 ? Number(process.argv[i + 1]) : 120;
  if (!Number.isFinite(seconds) || seconds < 10 || seconds > 3600) { console.error('soak: --seconds must be 10..3600'); process.exit(2); }
  const r = await runSoak(seconds);
  console.log(JSON.stringify({ ...r, bounds: BOUNDS }, null, 2));
  const ok = r.wrongBytes === 0 && r.unexpected.length === 0 && r.violations.length === 0;
  console.log(ok ? 'soak: PASS' : 'soak: FAIL');
  process.exit(ok ? 0 : 1);
}
