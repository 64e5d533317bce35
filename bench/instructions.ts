/**
 * @module Instructions per small request of one proxy command, counted by valgrind's callgrind: repeatable whatever
 * else the machine runs, where CPU time on a shared 2-core machine moves by ±30 % (docs/performance.md).
 * The proxy runs under callgrind (about 20-50x slower) under a load that never pauses (8 connections of small GETs);
 * after IN_WARM requests a dump is asked for every N requests, and each segment between two dumps gives instructions
 * per request (the requests counted at the middle of each dump's round trip). Each segment is split (see `split`) into
 * V8's background compilation, a major GC's background work, and the rest ("core"), which is the figure to compare
 * builds with: the first two land in one segment and not the next and move a segment's total by 20-40 %. A pause between segments (as in a zero / send N / dump loop) lets V8 do idle-time work
 * that is then missing from the next segment: segments of N and 2N requests then disagreed by 20-30 % per request.
 *   node bench/instructions.ts LABEL -- ARGS...   # ARGS: node's arguments; ORIGIN in them is replaced by the origin URL
 *   e.g. node bench/instructions.ts main -- src/cli/main.ts proxy --listen 127.0.0.1:0 --upstream ORIGIN
 * IN_N (500), IN_WARM (3000), IN_REPS (5), IN_CONNECTIONS (8), IN_IDLE (20 s). User-space instructions only (syscalls' kernel side
 * is not counted): compare builds with it, not with wall-clock CPU figures.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { median, ROOT, startPinned, VALGRIND_ENV } from './transfer.ts';

const N = Number(process.env.IN_N ?? 500);
const WARM = Number(process.env.IN_WARM ?? 3000);
const REPS = Number(process.env.IN_REPS ?? 5);
const CONNECTIONS = Number(process.env.IN_CONNECTIONS ?? 8);
const IDLE = Number(process.env.IN_IDLE ?? 20);

/** Small GETs through `pool`, `CONNECTIONS` at a time, until `stop()` says so; `onDone` after each 200. */
async function drive(pool: Pool, stop: () => boolean, onDone: () => void): Promise<void> {
  const worker = async (): Promise<void> => {
    while (!stop()) {
      const { statusCode, body } = await pool.request({ path: '/small', method: 'GET' });
      await body.text();
      if (statusCode !== 200) throw new Error(`status ${statusCode}`);
      onDone();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
}

/** The oldest callgrind dump in `dir` not yet taken. */
function nextDump(dir: string, seen: Set<string>): string {
  const file = readdirSync(dir).filter((f) => !seen.has(f) && /\.\d+$/.test(f)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))[0];
  if (!file) throw new Error('no new callgrind dump');
  seen.add(file);
  return join(dir, file);
}

/**
 * Instructions of one dump: all of them, and the part spent by V8's background jobs that a segment catches or not
 * depending on when they run: optimising compilation (TurboFan, Maglev: warm-up, re-optimisation) and a major GC's
 * concurrent marking and sweeping (every few thousand requests). `core` is the rest: the requests' own JavaScript
 * and native code, and the scavenges their garbage costs.
 */
function split(file: string): { total: number; compile: number; major: number; core: number } {
  const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no totals in ${file}`);
  const total = Number(m[1]);
  const text = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], { maxBuffer: 256 << 20 }).toString();
  const cost = (fn: string): number => {
    const line = text.split('\n').find((l) => l.includes(fn));
    return line ? Number(line.trim().split(' ')[0]!.replaceAll(',', '')) : 0;
  };
  const compile = cost('OptimizingCompileTaskExecutor::CompileTask::Run(') + cost('MaglevConcurrentDispatcher::JobTask::Run(');
  const major = cost('ConcurrentMarking::JobTaskMajor::Run(') + cost('Sweeper::MajorSweeperJob::Run(');
  return { total, compile, major, core: total - compile - major };
}

/** Ask for a dump and wait until callgrind has written it. */
function nextDumpAfter(pid: number): Promise<void> {
  return new Promise((resolve, reject) => execFile('callgrind_control', ['--dump', String(pid)], (err) => (err ? reject(err) : resolve())));
}

function waitUrl(log: string, proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 180_000;
    const poll = setInterval(() => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(readFileSync(log, 'utf8'));
      if (m) { clearInterval(poll); resolve(m[1]!); } else if (Date.now() > deadline || proc.exitCode !== null) { clearInterval(poll); reject(new Error(`did not start: ${readFileSync(log, 'utf8').slice(-2000)}`)); }
    }, 200);
  });
}

async function main(): Promise<void> {
  const sep = process.argv.indexOf('--');
  const label = process.argv[2];
  if (!label || sep < 0) { process.stderr.write('usage: node bench/instructions.ts LABEL -- NODE_ARGS... (ORIGIN is replaced)\n'); process.exitCode = 2; return; }
  const dir = mkdtempSync(join(tmpdir(), 'ferry-callgrind-'));
  const origin = await startPinned('1', ['bench/peers/origin.mjs']);
  const args = process.argv.slice(sep + 1).map((a) => a.replace('ORIGIN', origin.url));
  const log = join(dir, 'out.log');
  const fd = openSync(log, 'w');
  const proc = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${dir}/cg.out`, '--dump-instr=no', '--collect-systime=no', process.execPath, ...args],
    { cwd: ROOT, stdio: ['ignore', fd, fd], env: VALGRIND_ENV });
  try {
    const url = await waitUrl(log, proc);
    const pool = new Pool(url, { connections: CONNECTIONS });
    const seen = new Set<string>();
    const segments: Array<{ file: string; requests: number; seconds: number }> = [];
    let lastAt = 0;
    let done = 0;
    let last: number | null = null; // requests done at the previous dump (the middle of its round trip)
    let dumping: Promise<void> | null = null;
    const dump = (): Promise<void> => new Promise((resolve, reject) => {
      const asked = done;
      execFile('callgrind_control', ['--dump', String(proc.pid)], (err) => {
        if (err) { reject(err); return; }
        const at = (asked + done) / 2;
        const file = nextDump(dir, seen);
        const now = performance.now();
        if (last !== null) segments.push({ file, requests: at - last, seconds: (now - lastAt) / 1000 });
        last = at;
        lastAt = now;
        resolve();
      });
    });
    // the load never pauses: a pause lets V8 run idle-time work (GC, the memory reducer) that no request pays for
    const end = WARM + REPS * N;
    await drive(pool, () => done >= end, () => {
      done++;
      if (done < WARM || (done - WARM) % N !== 0 || dumping !== null) return;
      dumping = dump().finally(() => { dumping = null; });
    });
    await dumping;
    // the same process idle (connections open) for IN_IDLE s: what its timers cost per second (the event-loop delay
    // monitors, the dashboard's sampler, Node's connection checks). Under callgrind a segment lasts 20-50 times longer
    // than it would natively, so that time-driven work weighs 20-50 times more per request: it is taken out of `core`.
    await nextDumpAfter(proc.pid!);
    nextDump(dir, seen); // (the load's tail up to the idle period)
    const idleStart = performance.now();
    await new Promise((r) => setTimeout(r, IDLE * 1000));
    await nextDumpAfter(proc.pid!);
    const idleRate = split(nextDump(dir, seen)).core / ((performance.now() - idleStart) / 1000); // (an idle-time GC is not a timer)
    await pool.close();
    const per = { total: [] as number[], compile: [] as number[], major: [] as number[], core: [] as number[] };
    console.log(`${label}: idle ${(idleRate / 1e6).toFixed(1)} M instructions per second`);
    for (const [i, { file, requests, seconds }] of segments.entries()) {
      const s = split(file);
      s.core -= idleRate * seconds;
      for (const k of ['total', 'compile', 'major', 'core'] as const) per[k].push(s[k] / requests);
      console.log(`${label} segment ${i + 1}: ${requests.toFixed(0)} requests; per request ${per.total.at(-1)!.toFixed(0)} instructions, of which compilation ${per.compile.at(-1)!.toFixed(0)}, major GC ${per.major.at(-1)!.toFixed(0)}, core ${per.core.at(-1)!.toFixed(0)}`);
    }
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length);
    const range = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
    console.log(`${label}: core ${median(per.core).toFixed(0)} instructions per request (median of ${per.core.length} segments of ~${N}, range ${range(per.core)}); all ${mean(per.total).toFixed(0)} (mean; range ${range(per.total)}); compilation ${mean(per.compile).toFixed(0)}, major GC ${mean(per.major).toFixed(0)} (means)`);
  } finally {
    proc.kill('SIGKILL');
    origin.proc.kill('SIGKILL');
  }
}

await main();
