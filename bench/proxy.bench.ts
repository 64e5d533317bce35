/**
 * @module Reverse-proxy benchmark (issues 3, 18): ferry vs node-floor (a bare undici pass-through, peers/node-floor.mjs,
 * the floor every candidate is reported against) vs node-http-proxy vs @fastify/http-proxy, and the origin direct.
 * - small GET: autocannon (a separate process) req/s and p99, plus the proxy's CPU time per request from
 *   /proc/<pid>/stat (the figure least disturbed by noise);
 * - 1 GiB download and upload: throughput and the proxy's peak RSS (sampled every 50 ms), with curl as the client
 *   and a raw-socket origin (peers/lean-origin.mjs) so that the shared load core is not what bounds the figures
 *   (the node:http client alone costs ~1 s of CPU per GiB received, curl ~0.3 s); node:http client without curl.
 * The proxy under test is pinned to CPU 0, origin + load generator + this process to CPU 1 (taskset). Candidates are
 * interleaved and each figure is the median of REPS runs. ferry runs compiled (dist/, as `npm ci` installs it) with
 * the defaults a user runs (access log on, stdout to a file); a second row with --log-level warn (no access log,
 * like the peers which log nothing), a third runs createProxyServer without the CLI. The small-GET figures are also
 * drawn into docs/performance.svg (bench/plot.ts).
 * Env: FERRY_BENCH_SECONDS (default 5), FERRY_BENCH_BYTES (default 1 GiB), FERRY_BENCH_REPS (default 3),
 * FERRY_BENCH_TRANSFER_REPS (default 5: transfers swing more than small GETs on a shared machine),
 * FERRY_BENCH_BASELINE (a git revision: adds that revision's ferry rows, small GET only, for before/after).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { barChart } from './plot.ts';
import { buildBaseline, buildFerry, cpuMicros, curlDownload, curlUpload, download as nodeDownload, hasCurl, median, patternFile, rss, sampleRss, upload as nodeUpload, ROOT, startPinned, startPinnedLogToFile } from './transfer.ts';
import type { BenchContext, BenchReport, BenchResult } from './run.ts';
import { nativePeers } from './peers/native-proxies.ts';

const SECONDS = Number(process.env.FERRY_BENCH_SECONDS ?? 5);
const BYTES = Number(process.env.FERRY_BENCH_BYTES ?? 1024 ** 3);
const REPS = Number(process.env.FERRY_BENCH_REPS ?? 3);
const TRANSFER_REPS = Number(process.env.FERRY_BENCH_TRANSFER_REPS ?? 5);
const CONNECTIONS = 50;
const PROXY_CPU = '0';
const LOAD_CPU = '1';
const MIB = 1024 * 1024;

interface Running { name: string; url: string; proc: ChildProcess | null }
const FLOOR = 'node-floor';
const WARN = 'ferry, --log-level warn';


/** autocannon as its own process on the load CPU; returns its JSON summary. */
function autocannon(url: string, seconds: number): Promise<{ rps: number; p99: number; total: number; errors: number }> {
  const bin = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const p = spawn('taskset', ['-c', LOAD_CPU, process.execPath, bin, '-c', String(CONNECTIONS), '-d', String(seconds), '-j', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.on('exit', () => {
      try {
        const j = JSON.parse(out) as { requests: { average: number; total: number }; latency: { p99: number }; errors: number; non2xx: number; timeouts: number };
        resolve({ rps: j.requests.average, p99: j.latency.p99, total: j.requests.total, errors: j.errors + j.non2xx + j.timeouts });
      } catch (err) { reject(new Error(`autocannon output: ${out.slice(0, 300)} (${String(err)})`)); }
    });
  });
}

interface Figures { rps: number[]; p99: number[]; cpuUs: number[]; errors: number; down: number[]; up: number[]; peakDown: number[]; peakUp: number[]; cpuDown: number[]; cpuUp: number[]; idle: number }

export async function run(ctx: BenchContext): Promise<BenchReport> {
  try { execFileSync('taskset', ['-pc', LOAD_CPU, String(process.pid)], { stdio: 'ignore' }); } catch { ctx.log('taskset unavailable: running unpinned'); }
  ctx.log('building ferry (tsc → node_modules/.cache/<checkout>-ferry-bench/dist)');
  const dist = buildFerry('ferry-bench/dist');

  const procs: ChildProcess[] = [];
  try {
    const origin = await startPinned(LOAD_CPU, ['bench/peers/origin.mjs']);
    procs.push(origin.proc);
    const lean = await startPinned(LOAD_CPU, ['bench/peers/lean-origin.mjs']);
    procs.push(lean.proc);
    const viaCurl = hasCurl();
    const download = viaCurl ? curlDownload : nodeDownload;
    const upload = viaCurl ? curlUpload : nodeUpload;
    if (viaCurl) patternFile(BYTES);
    ctx.log(`transfers: ${viaCurl ? 'curl' : 'node:http client (no curl here)'} against the lean origin`);
    const up = origin.url;
    const candidates: Running[] = [{ name: 'direct (no proxy)', url: up, proc: null }];
    /** How to start each proxy against a given origin: the transfers restart them against the lean one. */
    const starters = new Map<string, (origin: string) => Promise<{ proc: ChildProcess; url: string }>>();
    const add = async (name: string, start: (origin: string) => Promise<{ proc: ChildProcess; url: string }>) => {
      const r = await start(up);
      procs.push(r.proc);
      candidates.push({ name, url: r.url, proc: r.proc });
      starters.set(name, start);
    };
    const node = (args: (origin: string) => string[]) => (origin: string) => startPinned(PROXY_CPU, args(origin));
    const logged = (args: (origin: string) => string[]) => (origin: string) => startPinnedLogToFile(PROXY_CPU, args(origin));
    await add('ferry', logged((o) => [`${dist}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', o]));
    await add(FLOOR, node((o) => ['bench/peers/node-floor.mjs', o]));
    await add('node-http-proxy', node((o) => ['bench/peers/node-http-proxy.mjs', o]));
    await add('@fastify/http-proxy', node((o) => ['bench/peers/fastify-http-proxy.mjs', o]));
    await add(WARN, node((o) => [`${dist}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', o, '--log-level', 'warn']));
    await add('ferry as a library', node((o) => ['bench/peers/ferry-lib.mjs', dist, o]));
    // FERRY_BENCH_BASELINE=<git rev>: the same two ferry rows built from that revision, for before/after in one run
    const baseline = process.env.FERRY_BENCH_BASELINE;
    if (baseline) {
      ctx.log(`building the baseline ferry at ${baseline}`);
      const base = buildBaseline(baseline);
      await add(`ferry @${baseline}`, logged((o) => [`${base}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', o]));
      await add(`ferry @${baseline}, --log-level warn`, node((o) => [`${base}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', o, '--log-level', 'warn']));
    }
    const natives = nativePeers();
    ctx.log(natives.length ? `native references: ${natives.map((n) => n.name).join(', ')}` : 'no nginx or haproxy here: native reference rows skipped');
    for (const n of natives) await add(n.name, (o) => n.start(o, PROXY_CPU));
    const transferNames = new Set(['direct (no proxy)', 'ferry', FLOOR, 'node-http-proxy', '@fastify/http-proxy', ...natives.map((n) => n.name)]);

    const figs = new Map<string, Figures>(candidates.map((c) => [c.name, { rps: [], p99: [], cpuUs: [], errors: 0, down: [], up: [], peakDown: [], peakUp: [], cpuDown: [], cpuUp: [], idle: NaN }]));
    for (const c of candidates) {
      ctx.log(`warm-up ${c.name}`);
      await autocannon(`${c.url}/small`, 2);
    }
    for (let rep = 0; rep < REPS; rep++) {
      // rotate the order each round so that no candidate always runs first or last
      const order = candidates.map((_, i) => candidates[(i + rep) % candidates.length]!);
      for (const c of order) {
        const f = figs.get(c.name)!;
        const cpu0 = c.proc ? cpuMicros(c.proc.pid!) : 0;
        const r = await autocannon(`${c.url}/small`, SECONDS);
        if (c.proc) f.cpuUs.push((cpuMicros(c.proc.pid!) - cpu0) / Math.max(1, r.total));
        f.rps.push(r.rps); f.p99.push(r.p99); f.errors += r.errors;
        ctx.log(`small GET  round ${rep + 1}  ${c.name.padEnd(22)} ${Math.round(r.rps)} req/s  p99 ${r.p99} ms${c.proc ? `  ${f.cpuUs.at(-1)!.toFixed(1)} µs CPU/req` : ''}`);
      }
    }
    // Transfers run on fresh processes: what the small-GET load left in the heap is not what streaming costs.
    ctx.log('restarting the proxies for the transfers');
    const fresh: Running[] = [];
    for (const c of candidates) {
      if (!transferNames.has(c.name)) continue;
      if (!c.proc) { fresh.push({ ...c, url: lean.url }); continue; }
      c.proc.kill('SIGKILL');
      const r = await starters.get(c.name)!(lean.url);
      procs.push(r.proc);
      fresh.push({ name: c.name, url: r.url, proc: r.proc });
      await (await fetch(`${r.url}/bytes/${16 * MIB}`)).arrayBuffer(); // warm the path once
      await new Promise((res) => setTimeout(res, 200));
      figs.get(c.name)!.idle = rss(r.proc.pid!);
    }
    // One unmeasured transfer each way per proxy before the rounds: every candidate's first GiB runs slower (JIT,
    // young-generation sizing: ferry ~25 %, node-http-proxy ~20 % below their steady rate), and a long-running proxy
    // is measured at its steady rate.
    ctx.log('warm-up transfers (not measured)');
    for (const c of fresh) {
      if (!c.proc) continue;
      await download(c.url, BYTES);
      await upload(c.url, BYTES);
    }
    for (let rep = 0; rep < TRANSFER_REPS; rep++) {
      const order = fresh.map((_, i, arr) => arr[(i + rep) % arr.length]!);
      for (const c of order) {
        const f = figs.get(c.name)!;
        // proxy CPU seconds per GiB: what the transfer cost the proxy, whatever else the machine was doing
        const perGiB = (micros: number) => micros / 1e6 / (BYTES / 1024 ** 3);
        let s = sampleRss(c.proc?.pid);
        let cpu = c.proc ? cpuMicros(c.proc.pid!) : NaN;
        f.down.push(await download(c.url, BYTES));
        f.peakDown.push(s.stop());
        if (c.proc) f.cpuDown.push(perGiB(cpuMicros(c.proc.pid!) - cpu));
        s = sampleRss(c.proc?.pid);
        cpu = c.proc ? cpuMicros(c.proc.pid!) : NaN;
        f.up.push(await upload(c.url, BYTES));
        f.peakUp.push(s.stop());
        if (c.proc) f.cpuUp.push(perGiB(cpuMicros(c.proc.pid!) - cpu));
        ctx.log(`1 GiB      round ${rep + 1}  ${c.name.padEnd(22)} down ${f.down.at(-1)!.toFixed(0)} MiB/s, up ${f.up.at(-1)!.toFixed(0)} MiB/s, peak RSS ${(f.peakDown.at(-1)! / MIB).toFixed(0)}/${(f.peakUp.at(-1)! / MIB).toFixed(0)} MiB`);
      }
    }
    return report(candidates.map((c) => c.name), figs, transferNames, viaCurl ? 'curl' : 'node:http client', natives.map((n) => n.name));
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

function report(names: string[], figs: Map<string, Figures>, transfer: Set<string>, client: string, natives: string[]): BenchReport {
  const m = (name: string, k: 'rps' | 'p99' | 'cpuUs' | 'down' | 'up' | 'peakDown' | 'peakUp' | 'cpuDown' | 'cpuUp') => median(figs.get(name)![k]);
  const fmt = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  const rows = names.map((n) => {
    const f = figs.get(n)!;
    const t = transfer.has(n);
    return `| ${n} | ${fmt(m(n, 'rps'))} | ${fmt(m(n, 'p99'))} | ${fmt(m(n, 'cpuUs'), 1)} | ${t ? fmt(m(n, 'down')) : ''} | ${t ? fmt(m(n, 'up')) : ''} | ${fmt(f.idle / MIB)} | ${t ? fmt(m(n, 'peakDown') / MIB) : ''} | ${t ? fmt(m(n, 'peakUp') / MIB) : ''} | ${t ? `${fmt(m(n, 'cpuDown'), 2)} / ${fmt(m(n, 'cpuUp'), 2)}` : ''} | ${f.errors} |`;
  });
  const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '–');
  const lines = [
    `Small GET: autocannon, ${CONNECTIONS} connections, ${SECONDS} s per run, median of ${REPS} interleaved runs (node:http origin). Transfers: ${(BYTES / MIB).toFixed(0)} MiB with ${client} against the raw-socket origin, fresh proxy processes, after one unmeasured warm-up transfer each way per proxy, median of ${TRANSFER_REPS} interleaved runs. Proxy on CPU ${PROXY_CPU}, origin + load on CPU ${LOAD_CPU}.`,
    '',
    '| candidate | small GET req/s | p99 ms | proxy CPU µs/req | download MiB/s | upload MiB/s | idle RSS MiB (fresh) | peak RSS download MiB | peak RSS upload MiB | proxy CPU s/GiB down / up | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `| candidate ÷ ${FLOOR} | small GET req/s | CPU per request (lower is better) | download | upload |`,
    '|---|---:|---:|---:|---:|',
    ...names.filter((n) => n !== FLOOR && n !== 'direct (no proxy)').map((n) => `| ${n} | ${ratio(m(n, 'rps'), m(FLOOR, 'rps'))} | ${ratio(m(n, 'cpuUs'), m(FLOOR, 'cpuUs'))} | ${transfer.has(n) ? ratio(m(n, 'down'), m(FLOOR, 'down')) : ''} | ${transfer.has(n) ? ratio(m(n, 'up'), m(FLOOR, 'up')) : ''} |`),
    '',
    `Targets (issue 18): ferry's CPU per request ≤ 1.25x ${FLOOR}; the access log ≤ 5 µs over --log-level warn (here ${fmt(m('ferry', 'cpuUs') - m(WARN, 'cpuUs'), 1)} µs).`,
    '',
    '| ratio (ferry ÷ peer) | node-http-proxy | @fastify/http-proxy | target |',
    '|---|---:|---:|---|',
    `| small GET req/s | ${ratio(m('ferry', 'rps'), m('node-http-proxy', 'rps'))} | ${ratio(m('ferry', 'rps'), m('@fastify/http-proxy', 'rps'))} | ≥ 1.6x / ≥ 1.3x |`,
    `| CPU per request (lower is better) | ${ratio(m('ferry', 'cpuUs'), m('node-http-proxy', 'cpuUs'))} | ${ratio(m('ferry', 'cpuUs'), m('@fastify/http-proxy', 'cpuUs'))} | |`,
    `| download throughput | ${ratio(m('ferry', 'down'), m('node-http-proxy', 'down'))} | ${ratio(m('ferry', 'down'), m('@fastify/http-proxy', 'down'))} | ≥ 1.2x node-http-proxy |`,
    `| upload throughput | ${ratio(m('ferry', 'up'), m('node-http-proxy', 'up'))} | ${ratio(m('ferry', 'up'), m('@fastify/http-proxy', 'up'))} | ≥ 1.2x node-http-proxy |`,
    `| proxy CPU per GiB downloaded (lower is better) | ${ratio(m('ferry', 'cpuDown'), m('node-http-proxy', 'cpuDown'))} | ${ratio(m('ferry', 'cpuDown'), m('@fastify/http-proxy', 'cpuDown'))} | |`,
    `| proxy CPU per GiB uploaded (lower is better) | ${ratio(m('ferry', 'cpuUp'), m('node-http-proxy', 'cpuUp'))} | ${ratio(m('ferry', 'cpuUp'), m('@fastify/http-proxy', 'cpuUp'))} | |`,
    `| peak RSS download | ${ratio(m('ferry', 'peakDown'), m('node-http-proxy', 'peakDown'))} | ${ratio(m('ferry', 'peakDown'), m('@fastify/http-proxy', 'peakDown'))} | < 1x both |`,
    `| peak RSS upload | ${ratio(m('ferry', 'peakUp'), m('node-http-proxy', 'peakUp'))} | ${ratio(m('ferry', 'peakUp'), m('@fastify/http-proxy', 'peakUp'))} | < 1x both |`,
    '',
    `Direct download ${fmt(m('direct (no proxy)', 'down'))} MiB/s: ferry reaches ${ratio(m('ferry', 'down'), m('direct (no proxy)', 'down'))} of it, node-http-proxy ${ratio(m('node-http-proxy', 'down'), m('direct (no proxy)', 'down'))}.`,
  ];
  if (natives.length) {
    lines.push(
      '',
      '| ferry ÷ native reference | small GET req/s | CPU per request | download | upload |',
      '|---|---:|---:|---:|---:|',
      ...natives.map((n) => `| ${n} | ${ratio(m('ferry', 'rps'), m(n, 'rps'))} | ${ratio(m('ferry', 'cpuUs'), m(n, 'cpuUs'))} | ${ratio(m('ferry', 'down'), m(n, 'down'))} | ${ratio(m('ferry', 'up'), m(n, 'up'))} |`),
    );
    if (figs.has('HAProxy') && figs.has('HAProxy, 64 KiB buffers')) {
      lines.push('', `Upload control: HAProxy with 64 KiB buffers (Node's read size) uploads at ${ratio(m('HAProxy, 64 KiB buffers', 'up'), m('HAProxy', 'up'))} of HAProxy with its default 16 KiB, using ${ratio(m('HAProxy, 64 KiB buffers', 'cpuUp'), m('HAProxy', 'cpuUp'))} of its proxy CPU per GiB: with curl and the origin on one core, the upload figure is bounded by that load core, and 64 KiB reads cost it more.`);
    }
  }
  const base = names.find((n) => n.startsWith('ferry @') && !n.endsWith('--log-level warn'));
  if (base) {
    lines.push(
      '',
      `| this tree ÷ ${base.slice('ferry '.length)} | small GET req/s | CPU per request (lower is better) |`,
      '|---|---:|---:|',
      `| defaults (access log to a file) | ${ratio(m('ferry', 'rps'), m(base, 'rps'))} | ${ratio(m('ferry', 'cpuUs'), m(base, 'cpuUs'))} |`,
      `| --log-level warn | ${ratio(m(WARN, 'rps'), m(`${base}, --log-level warn`, 'rps'))} | ${ratio(m(WARN, 'cpuUs'), m(`${base}, --log-level warn`, 'cpuUs'))} |`,
    );
  }
  // the plot: CPU per request and req/s per candidate (the proxies; 'direct' has no proxy CPU to show)
  const plotted = names.filter((n) => n !== 'direct (no proxy)');
  writeFileSync(`${ROOT}docs/performance.svg`, barChart(plotted, [
    { title: 'proxy CPU µs per small GET (lower is better)', values: plotted.map((n) => m(n, 'cpuUs')), digits: 1 },
    { title: 'small GET req/s (higher is better)', values: plotted.map((n) => m(n, 'rps')) },
  ], (n) => n.startsWith('ferry')));
  const results: BenchResult[] = [];
  for (const n of names) {
    results.push({ name: `${n}: small GET`, value: m(n, 'rps'), unit: 'req/s' });
    if (figs.get(n)!.cpuUs.length) results.push({ name: `${n}: CPU per request`, value: m(n, 'cpuUs'), unit: 'µs' });
    if (transfer.has(n)) {
      results.push({ name: `${n}: download`, value: m(n, 'down'), unit: 'MiB/s' }, { name: `${n}: upload`, value: m(n, 'up'), unit: 'MiB/s' });
    }
  }
  return { results, markdown: lines.join('\n') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run({ log: (s) => console.log(s) });
  console.log(r.markdown);
}
