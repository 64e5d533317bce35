/**
 * @module Resource-exhaustion defences at benchmark scale (RELIABILITY R3, R5, R9), against the real CLI:
 * - R3: 100 keep-alive clients' p50/p99 latency without and during a 1 000-connection slowloris (one head byte every
 *   5 s, --headers-timeout 10 s), interleaved rounds, median; the cut times and 408 count of the slow connections;
 * - R5: --max-connections N for N = 1 000 and 5 000: N connections each carrying requests, N/10 more closed at once,
 *   the proxy's RSS growth and its slope per connection;
 * - R9: 10 downloads + 10 uploads at once, SHA-256 checked, at 128 MiB and 1 GiB per body: idle, peak, growth;
 * - T9: the R3 concurrency for 30 s: errors and the RSS per 10 s window.
 * The proxy is pinned to CPU 0 and this process (clients, attacker, origin) to CPU 1 when taskset exists. Every loop
 * is bounded by time or count. Run alone: `node bench/attacks.bench.ts`; bench/run.ts calls `run()`.
 */
import { execFileSync } from 'node:child_process';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { sampleRss, startRole, type RunningRole } from '../test/helpers/cli.ts';
import {
  checkedDownload, closedWithoutAnswer, keepAliveClients, openConnections, parallelTransfers, patternDigest, percentile,
  requestOnSocket, slowloris, startPatternOrigin, type PatternOrigin,
} from '../test/proxy/attack-load.ts';
import type { BenchContext, BenchReport, BenchResult } from './run.ts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const PROXY_CPU = '0';
const LOAD_CPU = '1';
const ROUNDS = 3;
const CLIENTS = 100;
const WINDOW_MS = 8_000;
const SLOW_CONNECTIONS = 1_000;
const HEADERS_TIMEOUT_MS = 10_000;
const DRIP_MS = 5_000;

const median = (xs: number[]): number => percentile(xs, 50);
const f1 = (x: number) => x.toFixed(1);
const mib = (bytes: number) => f1(bytes / MIB);

function pin(pid: number, cpu: string): boolean {
  try { execFileSync('taskset', ['-pc', cpu, String(pid)], { stdio: 'ignore' }); return true; } catch { return false; }
}

async function startProxy(origin: PatternOrigin, extra: string[]): Promise<RunningRole> {
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--log-level', 'warn', ...extra]);
  pin(p.proc.pid!, PROXY_CPU);
  return p;
}

/** Warm-up on connections that close (none may linger), then the idle RSS. */
async function idleRss(p: RunningRole): Promise<number> {
  for (let i = 0; i < 20; i++) await checkedDownload(p.url, 100_000);
  await new Promise((r) => setTimeout(r, 500));
  return p.rss();
}

interface LatencyRound { p50: number; p99: number; requests: number; errors: number }

async function normalLoad(p: RunningRole): Promise<LatencyRound> {
  const end = performance.now() + WINDOW_MS;
  const r = await keepAliveClients({ url: p.url, clients: CLIENTS, stop: () => performance.now() > end, maxRequests: 1_000_000 });
  return { p50: percentile(r.latenciesMs, 50), p99: percentile(r.latenciesMs, 99), requests: r.requests, errors: r.errors };
}

async function slowlorisSection(ctx: BenchContext, origin: PatternOrigin, results: BenchResult[], md: string[]): Promise<void> {
  const p = await startProxy(origin, ['--headers-timeout', `${HEADERS_TIMEOUT_MS}ms`]);
  const base: LatencyRound[] = [];
  const attacked: LatencyRound[] = [];
  const cuts: number[] = [];
  let answered = 0;
  let notCut = 0;
  let attackPeak = 0;
  let basePeak = 0;
  try {
    await idleRss(p);
    await normalLoad(p); // warm-up round, not counted
    for (let round = 0; round < ROUNDS; round++) {
      const baseRss = sampleRss(p.proc.pid!);
      base.push(await normalLoad(p));
      basePeak = Math.max(basePeak, baseRss.stop());
      // the swarm opens its 1 000 connections, then the clients measure while every one of them is held open
      const rss = sampleRss(p.proc.pid!);
      let opened!: () => void;
      const allOpen = new Promise<void>((r) => { opened = r; });
      const t0 = performance.now();
      const swarm = slowloris({ port: p.port, connections: SLOW_CONNECTIONS, dripEveryMs: DRIP_MS, giveUpMs: HEADERS_TIMEOUT_MS + 15_000, onAllOpen: () => opened() });
      await allOpen;
      const during = await normalLoad(p);
      const s = await swarm;
      attackPeak = Math.max(attackPeak, rss.stop());
      attacked.push(during);
      cuts.push(...s.cutMs);
      answered += s.answered408;
      notCut += s.notCut + s.connectFailures;
      ctx.log(`round ${round + 1}: baseline p99 ${f1(base.at(-1)!.p99)} ms, under attack p99 ${f1(during.p99)} ms, ` +
        `${s.cutMs.length} cut in ${f1(Math.min(...s.cutMs))}–${f1(Math.max(...s.cutMs))} ms (${s.answered408} × 408), attack lasted ${f1((performance.now() - t0) / 1000)} s`);
    }
  } finally { await p.stop(); }
  const bp99 = median(base.map((r) => r.p99));
  const ap99 = median(attacked.map((r) => r.p99));
  const bp50 = median(base.map((r) => r.p50));
  const ap50 = median(attacked.map((r) => r.p50));
  const errors = [...base, ...attacked].reduce((n, r) => n + r.errors, 0);
  results.push(
    { name: 'R3 normal clients p99, baseline', value: bp99, unit: 'ms' },
    { name: 'R3 normal clients p99, under slowloris', value: ap99, unit: 'ms' },
    { name: 'R3 p99 ratio attack/baseline', value: ap99 / bp99, unit: 'x', notes: 'target ≤ 2' },
    { name: 'R3 normal-client errors', value: errors, unit: 'requests' },
    { name: 'R3 slow connections cut (latest)', value: Math.max(...cuts), unit: 'ms', notes: `--headers-timeout ${HEADERS_TIMEOUT_MS} ms` },
  );
  md.push(
    `### R3 slowloris: ${SLOW_CONNECTIONS} connections, one head byte every ${DRIP_MS / 1000} s, --headers-timeout ${HEADERS_TIMEOUT_MS / 1000} s; ${CLIENTS} keep-alive clients, ${WINDOW_MS / 1000} s windows, median of ${ROUNDS}`,
    '',
    '| | p50 ms | p99 ms | requests/window | errors |',
    '|---|---:|---:|---:|---:|',
    `| baseline | ${f1(bp50)} | ${f1(bp99)} | ${Math.round(median(base.map((r) => r.requests)))} | ${base.reduce((n, r) => n + r.errors, 0)} |`,
    `| during the attack | ${f1(ap50)} | ${f1(ap99)} | ${Math.round(median(attacked.map((r) => r.requests)))} | ${attacked.reduce((n, r) => n + r.errors, 0)} |`,
    '',
    `p99 ratio attack/baseline **${(ap99 / bp99).toFixed(2)}x** (target ≤ 2). Slow connections: ${cuts.length} of ${SLOW_CONNECTIONS * ROUNDS} cut, ` +
    `${answered} answered 408, ${notCut} not cut; cut ${f1(Math.min(...cuts) / 1000)}–${f1(Math.max(...cuts) / 1000)} s after connect ` +
    `(bound: ${HEADERS_TIMEOUT_MS / 1000} s + 1 s check interval). Proxy peak RSS ${mib(basePeak)} MiB under the normal load alone, ${mib(attackPeak)} MiB during the attack.`,
  );
}

async function connectionsSection(ctx: BenchContext, origin: PatternOrigin, results: BenchResult[], md: string[]): Promise<void> {
  md.push('', '### R5 --max-connections N: N connections each carrying 2 requests, N/10 more over the limit', '',
    '| N | idle RSS MiB | peak RSS MiB | growth MiB | growth per connection KiB | over-limit closed at once | N served twice | bound 64 KiB × N + 100 MiB |',
    '|---:|---:|---:|---:|---:|---:|---:|---|');
  const growths: Array<[number, number]> = [];
  for (const n of [1_000, 5_000]) {
    const p = await startProxy(origin, ['--max-connections', String(n)]);
    const socks: net.Socket[] = [];
    try {
      const idle = await idleRss(p);
      const rss = sampleRss(p.proc.pid!);
      socks.push(...await openConnections(p.port, n));
      let served = (await Promise.all(socks.map((s) => requestOnSocket(s)))).filter((s) => s === 200).length;
      const extra = await openConnections(p.port, n / 10);
      socks.push(...extra);
      const closed = (await Promise.all(extra.map((s) => closedWithoutAnswer(s, 5_000)))).filter(Boolean).length;
      served = Math.min(served, (await Promise.all(socks.slice(0, n).map((s) => requestOnSocket(s)))).filter((s) => s === 200).length);
      const peak = rss.stop();
      const growth = peak - idle;
      growths.push([n, growth]);
      const bound = 64 * 1024 * n + 100 * MIB;
      ctx.log(`N=${n}: idle ${mib(idle)} MiB, peak ${mib(peak)} MiB, ${closed}/${n / 10} over-limit closed, ${served}/${n} served twice`);
      md.push(`| ${n} | ${mib(idle)} | ${mib(peak)} | ${mib(growth)} | ${f1(growth / n / 1024)} | ${closed}/${n / 10} | ${served}/${n} | ${growth < bound ? 'met' : 'MISSED'} (${mib(bound)} MiB) |`);
      results.push({ name: `R5 RSS growth with ${n} connections`, value: growth / MIB, unit: 'MiB' });
    } finally {
      for (const s of socks) s.destroy();
      await p.stop();
    }
  }
  const [[n1, g1], [n2, g2]] = growths as [[number, number], [number, number]];
  const slope = (g2 - g1) / (n2 - n1) / 1024;
  results.push({ name: 'R5 RSS per extra connection', value: slope, unit: 'KiB' });
  md.push('', `Slope between N=${n1} and N=${n2}: **${f1(slope)} KiB per connection** (each carries a client socket and its upstream connection).`);
}

async function transfersSection(ctx: BenchContext, origin: PatternOrigin, results: BenchResult[], md: string[]): Promise<void> {
  md.push('', '### R9 memory per request: 10 downloads + 10 uploads at once, SHA-256 checked', '',
    '| body size | transfers ok | aggregate MiB/s | idle RSS MiB | peak RSS MiB | growth MiB | target |',
    '|---:|---:|---:|---:|---:|---:|---|');
  const p = await startProxy(origin, []);
  try {
    const idle = await idleRss(p);
    for (const size of [128 * MIB, GIB]) {
      patternDigest(size);
      const rss = sampleRss(p.proc.pid!);
      const t0 = performance.now();
      const r = await parallelTransfers(p.url, { downloads: 10, uploads: 10, bytes: size });
      const seconds = (performance.now() - t0) / 1000;
      const peak = rss.stop();
      const ok = r.filter((x) => x.ok).length;
      const growth = peak - idle;
      const label = size >= GIB ? `${size / GIB} GiB` : `${size / MIB} MiB`;
      ctx.log(`20 × ${label}: ${ok}/20 ok, ${f1((20 * size) / MIB / seconds)} MiB/s, idle ${mib(idle)} MiB, peak ${mib(peak)} MiB`);
      md.push(`| ${label} | ${ok}/20 | ${Math.round((20 * size) / MIB / seconds)} | ${mib(idle)} | ${mib(peak)} | ${mib(growth)} | ${growth <= 100 * MIB && ok === 20 ? 'met' : 'MISSED'} (≤ 100) |`);
      results.push({ name: `R9 RSS growth, 20 × ${label}`, value: growth / MIB, unit: 'MiB' });
    }
  } finally { await p.stop(); }
}

/** T9 load sanity: the R3 concurrency (100 keep-alive clients) for 30 s; errors, and RSS every 10 s (stable?). */
async function loadSanitySection(ctx: BenchContext, origin: PatternOrigin, results: BenchResult[], md: string[]): Promise<void> {
  const SECONDS = 30;
  const p = await startProxy(origin, []);
  try {
    const idle = await idleRss(p);
    const marks: number[] = [];
    let window = sampleRss(p.proc.pid!);
    const tick = setInterval(() => { marks.push(window.stop()); window = sampleRss(p.proc.pid!); }, 10_000);
    const end = performance.now() + SECONDS * 1000;
    const r = await keepAliveClients({ url: p.url, clients: CLIENTS, stop: () => performance.now() > end, maxRequests: 10_000_000 });
    clearInterval(tick);
    marks.push(window.stop());
    ctx.log(`T9: ${r.requests} requests, ${r.errors} errors, RSS peaks per 10 s ${marks.map(mib).join(' / ')} MiB`);
    results.push({ name: `T9 ${SECONDS} s at ${CLIENTS} clients: errors`, value: r.errors, unit: 'requests' });
    md.push('', `### T9 load sanity: ${CLIENTS} keep-alive clients for ${SECONDS} s`, '',
      `${r.requests} requests (${Math.round(r.requests / SECONDS)}/s), **${r.errors} errors**, p99 ${f1(percentile(r.latenciesMs, 99))} ms. ` +
      `Proxy RSS: idle ${mib(idle)} MiB, peak per 10 s window ${marks.map(mib).join(' → ')} MiB.`);
  } finally { await p.stop(); }
}

export async function run(ctx: BenchContext): Promise<BenchReport> {
  const pinned = pin(process.pid, LOAD_CPU);
  if (!pinned) ctx.log('taskset unavailable: running unpinned');
  const origin = await startPatternOrigin();
  const results: BenchResult[] = [];
  const md: string[] = [`Proxy ${pinned ? 'pinned to CPU 0, clients/attacker/origin to CPU 1' : 'unpinned'}; loopback; one noisy shared machine.`, ''];
  try {
    await slowlorisSection(ctx, origin, results, md);
    await connectionsSection(ctx, origin, results, md);
    await transfersSection(ctx, origin, results, md);
    await loadSanitySection(ctx, origin, results, md);
  } finally { await origin.close(); }
  return { results, markdown: md.join('\n') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await run({ log: (m) => console.log(m) });
  console.log(r.markdown);
}
