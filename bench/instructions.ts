/**
 * @module Instructions per small request of one proxy command, counted by valgrind's callgrind: repeatable whatever
 * else the machine runs, where CPU time on a shared 2-core machine moves by ±30 % (docs/performance.md).
 * The proxy runs under callgrind (about 20-50x slower) under a load that never pauses (8 connections of small GETs);
 * after IN_WARM requests a dump is asked for every N requests, and each segment between two dumps gives instructions
 * per request (the requests counted at the middle of each dump's round trip). Prints each segment, then the median
 * over IN_REPS segments. A pause between segments (as in a zero / send N / dump loop) lets V8 do idle-time work
 * that is then missing from the next segment: segments of N and 2N requests then disagreed by 20-30 % per request.
 *   node bench/instructions.ts LABEL -- ARGS...   # ARGS: node's arguments; ORIGIN in them is replaced by the origin URL
 *   e.g. node bench/instructions.ts main -- src/cli/main.ts proxy --listen 127.0.0.1:0 --upstream ORIGIN
 * IN_N (500), IN_WARM (3000), IN_REPS (5), IN_CONNECTIONS (8). User-space instructions only (syscalls' kernel side
 * is not counted): compare builds with it, not with wall-clock CPU figures.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { median, ROOT, startPinned } from './transfer.ts';

const N = Number(process.env.IN_N ?? 500);
const WARM = Number(process.env.IN_WARM ?? 3000);
const REPS = Number(process.env.IN_REPS ?? 5);
const CONNECTIONS = Number(process.env.IN_CONNECTIONS ?? 8);

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

/** Total instructions (the `summary:`/`totals:` line) of the newest callgrind dump in `dir`. */
function dumped(dir: string, seen: Set<string>): number {
  const file = readdirSync(dir).filter((f) => !seen.has(f) && /\.\d+$/.test(f)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))[0];
  if (!file) throw new Error('no new callgrind dump');
  seen.add(file);
  const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
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
    { cwd: ROOT, stdio: ['ignore', fd, fd] });
  try {
    const url = await waitUrl(log, proc);
    const pool = new Pool(url, { connections: CONNECTIONS });
    const seen = new Set<string>();
    const per: number[] = [];
    let done = 0;
    let last: number | null = null; // requests done at the previous dump (the middle of its round trip)
    let dumping: Promise<void> | null = null;
    const dump = (): Promise<void> => new Promise((resolve, reject) => {
      const asked = done;
      execFile('callgrind_control', ['--dump', String(proc.pid)], (err) => {
        if (err) { reject(err); return; }
        const at = (asked + done) / 2;
        const instructions = dumped(dir, seen);
        if (last !== null) {
          per.push(instructions / (at - last));
          console.log(`${label} segment ${per.length}: ${(at - last).toFixed(0)} requests, ${per.at(-1)!.toFixed(0)} instructions per request`);
        }
        last = at;
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
    await pool.close();
    const sorted = [...per].sort((x, y) => x - y);
    const mean = per.reduce((x, y) => x + y, 0) / Math.max(1, per.length);
    console.log(`${label}: ${median(per).toFixed(0)} instructions per request (median of ${per.length} segments of ~${N}; mean ${mean.toFixed(0)}, range ${sorted[0]?.toFixed(0)}-${sorted.at(-1)?.toFixed(0)})`);
  } finally {
    proc.kill('SIGKILL');
    origin.proc.kill('SIGKILL');
  }
}

await main();
