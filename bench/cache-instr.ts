/**
 * @module Instructions per request of the cache's paths, counted under callgrind (issue 18): repeatable whatever else
 * runs on the machine, unlike CPU time. `ferry proxy --log-level warn` (access log off), with `--cache memory` or
 * without, runs under `valgrind --tool=callgrind`; this process is the origin and the client (8 keep-alive
 * connections). After a warm-up it asks callgrind to dump (which zeroes the counters), sends N requests, dumps again:
 * the second dump's total ÷ N is the instructions per request, every thread of the proxy included (GC helpers too).
 * Scenarios on a 1 KiB `public, max-age=3600` object: uncached, hit, miss that stores (a new URL per request),
 * revalidation (client `Cache-Control: no-cache`, the origin answers 304).
 *   node bench/cache-instr.ts [REV]     # with REV: that git revision's build too; CI_N (1500), CI_WARM (1500), CI_ONLY (scenario list),
 *                                       # CI_DIST (build folder name), CI_BUILT (an existing dist/ to measure instead)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startCacheOrigin } from './peers/cache-origin.ts';
import { buildBaseline, buildFerry, VALGRIND_ENV } from './transfer.ts';

const N = Number(process.env.CI_N ?? 1500);
const WARM = Number(process.env.CI_WARM ?? 1500);
const BODY = Buffer.alloc(1024, 'x');
type Scenario = 'uncached' | 'hit' | 'miss' | 'revalidate';
const SCENARIOS: Scenario[] = (process.env.CI_ONLY?.split(',') as Scenario[] | undefined) ?? ['uncached', 'hit', 'miss', 'revalidate'];

const origin = await startCacheOrigin(BODY);
const upstream = origin.url;

let unique = 0;
/** Answers other than 200 (a 502 when the loaded machine starves the origin): reported, since they cost differently. */
let failed = 0;

/** `count` requests over 8 connections. */
async function drive(pool: Pool, s: Scenario, count: number): Promise<void> {
  let left = count;
  const headers = s === 'revalidate' ? { 'cache-control': 'no-cache' } : {};
  const one = async (): Promise<void> => {
    while (left-- > 0) {
      const path = s === 'miss' ? `/u/${process.pid}-${++unique}` : '/obj';
      const r = await pool.request({ method: 'GET', path, headers });
      await r.body.dump();
      if (r.statusCode !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
}

async function dump(pid: number, file: string): Promise<number> {
  execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (existsSync(file)) {
      const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
      if (m) { rmSync(file); return Number(m[1]); }
    }
    if (Date.now() > deadline) throw new Error('callgrind dump did not appear');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function measure(dist: string, s: Scenario): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cache-instr-'));
  const args = ['--tool=callgrind', `--callgrind-out-file=${dir}/cg.%p`, process.execPath, `${dist}/cli/main.js`, 'proxy',
    '--listen', '127.0.0.1:0', '--upstream', upstream, '--log-level', 'warn', ...(s === 'uncached' ? [] : ['--cache', 'memory'])];
  const proc = spawn('valgrind', args, { stdio: ['ignore', 'pipe', 'pipe'], env: VALGRIND_ENV });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('proxy did not start')), 600_000);
      proc.stdout!.on('data', (c: Buffer) => { out += c; const m = /"url":"(http:\/\/[^"]+)"/.exec(out); if (m) { clearTimeout(timer); resolve(m[1]!); } });
      proc.once('exit', (code) => reject(new Error(`proxy exited ${code}`)));
    });
    proc.stdout!.resume(); proc.stderr!.resume();
    const pool = new Pool(url, { connections: 8, pipelining: 1 });
    await drive(pool, s, WARM);
    const file = `${dir}/cg.${proc.pid}`;
    await dump(proc.pid!, `${file}.1`);
    failed = 0;
    await drive(pool, s, N);
    const total = await dump(proc.pid!, `${file}.2`);
    if (failed > 0) console.log(`  ${s}: ${failed} of ${N} measured answers were not 200`);
    await pool.close();
    return total / N;
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(label: string, dist: string): Promise<void> {
  const r: Partial<Record<Scenario, number>> = {};
  for (const s of SCENARIOS) {
    r[s] = await measure(dist, s);
    const base = r.uncached;
    console.log(`${label} ${s}: ${(r[s]! / 1000).toFixed(0)} k instructions/request${base === undefined || s === 'uncached' ? '' : ` (${(r[s]! / base).toFixed(2)}× uncached)`}`);
  }
}

try {
  const rev = process.argv[2];
  if (rev) await run(rev, buildBaseline(rev));
  // CI_BUILT: an existing build's dist/ to measure instead of building this tree.
  await run('this tree', process.env.CI_BUILT ?? buildFerry(process.env.CI_DIST ?? 'ferry-cache-instr/dist'));
} finally {
  origin.close();
}
