/**
 * @module Before/after CPU per small request, this tree against a git revision: the two ferry builds run side by
 * side (each pinned to CPU 0 in turn, load and origin on CPU 1), with the defaults a user runs (access log on, stdout
 * to a file), in alternating rounds; prints each round and the median of the per-round ratios, the figure least
 * disturbed by a noisy machine (one round's two runs see the same background load).
 *   node bench/ab.ts REV                      # AB_ROUNDS (16), AB_SECONDS (3), AB_ARGS (extra flags for both builds)
 *   AB_CONCURRENT=1 node bench/ab.ts REV      # both builds loaded at once (25 connections each), both on CPU 0
 *   AB_IDLE=25 node bench/ab.ts REV           # both idle 25 s before each round (what the bench's interleaving does)
 *   AB_ARGS_A='…' AB_ARGS_B='…' node bench/ab.ts .   # REV `.`: this tree against itself, A and B with their own
 *                                                     # flags (`AB_ARGS_B='--log-level warn'`: the access log's cost)
 *   AB_NODE_A='…' AB_NODE_B='…' node bench/ab.ts .   # node's own flags per side (a V8 setting's cost)
 * CPU is user + system time of the whole process tree (all threads; the workers of `--workers N` included).
 * Concurrent rounds see the very same background load, where alternating ones see the load of two moments: on a
 * shared machine (load average 3-7 on 2 cores) alternated per-round ratios spread over 0.7-1.4 while concurrent ones
 * stayed within 0.73-0.99 for the same pair of builds, every round on the same side.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBaseline, buildFerry, cpuMicros, median, ROOT, startPinned } from './transfer.ts';

const REV = process.argv[2];
const ROUNDS = Number(process.env.AB_ROUNDS ?? 16);
const SECONDS = Number(process.env.AB_SECONDS ?? 3);
const words = (v: string | undefined): string[] => (v ? v.split(' ').filter(Boolean) : []);
const EXTRA = words(process.env.AB_ARGS);
const EXTRA_A = words(process.env.AB_ARGS_A);
const EXTRA_B = words(process.env.AB_ARGS_B);
/** Node's own flags (before the script) for A and B: `AB_NODE_B='--max-semi-space-size=16'`, a V8 setting's cost. */
const NODE_A = words(process.env.AB_NODE_A);
const NODE_B = words(process.env.AB_NODE_B);
const CONCURRENT = process.env.AB_CONCURRENT === '1';
/** Seconds both builds sit idle before each round: traffic with pauses, as a real proxy sees (idle-time GC, heap shrinking). */
const IDLE = Number(process.env.AB_IDLE ?? 0);

/** utime + stime of `pid` and its descendants (the workers of `--workers N`). */
function treeCpuMicros(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + cpuMicros(p), 0);
}

function processTree(root: number): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${out[i]}/task`)) {
        const kids = readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(' ').map(Number));
      }
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** A ferry proxy pinned to CPU 0 whose stdout (the access log) goes to a file, as users run it. */
function startFerry(dist: string, origin: string, log: string, extra: string[], nodeFlags: string[]): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn('taskset', ['-c', '0', process.execPath, ...nodeFlags, `${dist}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', origin, ...EXTRA, ...extra],
    { cwd: ROOT, stdio: ['ignore', openSync(log, 'w'), 'inherit'] });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    const poll = setInterval(() => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(readFileSync(log, 'utf8'));
      if (m) { clearInterval(poll); resolve({ proc, url: m[1]! }); } else if (Date.now() > deadline) { clearInterval(poll); reject(new Error(`${dist} did not start`)); }
    }, 100);
  });
}

/** Requests completed by autocannon (50 connections, or `connections`) in `seconds`, run on the load CPU. */
function load(url: string, seconds: number, connections = 50): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn('taskset', ['-c', '1', process.execPath, `${ROOT}node_modules/autocannon/autocannon.js`, '-c', String(connections), '-d', String(seconds), '-j', url], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.on('exit', () => { try { resolve((JSON.parse(out) as { requests: { total: number } }).requests.total); } catch (err) { reject(err); } });
  });
}

async function main(): Promise<void> {
  if (!REV) { process.stderr.write('usage: node bench/ab.ts REV (a git revision to compare this tree with)\n'); process.exitCode = 2; return; }
  execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  console.log(`building this tree and ${REV}`);
  const current = buildFerry('ferry-ab/dist');
  const baseline = REV === '.' ? current : buildBaseline(REV);
  const procs: ChildProcess[] = [];
  try {
    const origin = await startPinned('1', ['bench/peers/origin.mjs']);
    procs.push(origin.proc);
    const cur = await startFerry(current, origin.url, join(tmpdir(), `ferry-ab-current-${process.pid}.log`), EXTRA_A, NODE_A);
    const base = await startFerry(baseline, origin.url, join(tmpdir(), `ferry-ab-baseline-${process.pid}.log`), EXTRA_B, NODE_B);
    procs.push(cur.proc, base.proc);
    for (const c of [cur, base]) await load(`${c.url}/small`, 2); // warm-up
    const a: number[] = [];
    const b: number[] = [];
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const us = new Map<ChildProcess, number>();
      if (IDLE > 0) await new Promise((r) => setTimeout(r, IDLE * 1000));
      if (CONCURRENT) {
        const before = [treeCpuMicros(cur.proc.pid!), treeCpuMicros(base.proc.pid!)];
        const [nc, nb] = await Promise.all([load(`${cur.url}/small`, SECONDS, 25), load(`${base.url}/small`, SECONDS, 25)]);
        us.set(cur.proc, (treeCpuMicros(cur.proc.pid!) - before[0]!) / Math.max(1, nc));
        us.set(base.proc, (treeCpuMicros(base.proc.pid!) - before[1]!) / Math.max(1, nb));
      } else for (const c of round % 2 ? [base, cur] : [cur, base]) {
        const before = treeCpuMicros(c.proc.pid!);
        const n = await load(`${c.url}/small`, SECONDS);
        us.set(c.proc, (treeCpuMicros(c.proc.pid!) - before) / Math.max(1, n));
      }
      a.push(us.get(cur.proc)!); b.push(us.get(base.proc)!); ratios.push(us.get(cur.proc)! / us.get(base.proc)!);
      console.log(`round ${round}/${ROUNDS}: this tree ${a.at(-1)!.toFixed(1)} µs/req, ${REV} ${b.at(-1)!.toFixed(1)} µs/req, ratio ${ratios.at(-1)!.toFixed(3)}`);
    }
    console.log(`median: this tree ${median(a).toFixed(1)} µs/req, ${REV} ${median(b).toFixed(1)} µs/req; median of per-round ratios ${median(ratios).toFixed(3)} (${ratios.filter((r) => r > 1).length} of ${ROUNDS} rounds slower)`);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

await main();
