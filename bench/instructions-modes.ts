/**
 * @module Instructions per small request of a ferry command under callgrind, the CPU figure that stays put on a
 * shared machine (wall-clock rounds move by ±30 % here; instruction counts by a few per cent).
 *
 *   node bench/instructions-modes.ts MODE[,MODE…] [ferry proxy flags…]
 *     MODE: h1 (cleartext HTTP/1.1), h2c (cleartext HTTP/2, prior knowledge), h1s / h2s (HTTP/1.1 / HTTP/2 over TLS);
 *     several modes are measured one after the other in the same process (`h1,h2c`: the same listener, `--h2c`)
 *   INSTR_N (2000)       requests per measured round          INSTR_ROUNDS (2)   measured rounds
 *   INSTR_WARM (3000)    requests before the first round      INSTR_CONNS (10)   client connections
 *   INSTR_STREAMS (1)    requests in flight per connection (h2 streams; 1 = no HTTP/1.1 pipelining)
 *   INSTR_DIST           a built dist/ to measure (default: this tree, built under node_modules/.cache)
 *   node bench/instructions-modes.ts read DUMP…    # the split below for callgrind dumps kept elsewhere
 *   INSTR_CPU (0)        the CPU list ferry is pinned to (instruction counts do not depend on it)
 *
 * ferry runs from dist/ under `valgrind --tool=callgrind --trace-children=yes` (so `--workers N` counts the primary
 * and every worker), pinned to CPU 0, stdout (the access log) to a file as users run it; the origin
 * (bench/peers/origin.mjs) and h2load run natively on CPU 1. Per round: every process of the tree is zeroed
 * (`callgrind_control -z`), h2load sends exactly INSTR_N requests, every process is dumped (`callgrind_control -d`)
 * and the dumps' totals are summed: instructions of all threads (the JIT's and GC's helpers included) per request.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localhostCert } from '../test/helpers/certs.ts';
import { buildFerry, ROOT, startPinned, VALGRIND_ENV } from './transfer.ts';

const MODES = ['h1', 'h2c', 'h1s', 'h2s'] as const;
type Mode = (typeof MODES)[number];
const N = Number(process.env.INSTR_N ?? 2000);
const ROUNDS = Number(process.env.INSTR_ROUNDS ?? 2);
const WARM = Number(process.env.INSTR_WARM ?? 3000);
const CONNS = Number(process.env.INSTR_CONNS ?? 10);
const STREAMS = Number(process.env.INSTR_STREAMS ?? 1);
const CPU = process.env.INSTR_CPU ?? '0';

/** The PIDs of `root` and all its descendants (the cluster workers of `--workers N`). */
function tree(root: number): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const task of safeReaddir(`/proc/${out[i]}/task`)) {
      const kids = safeRead(`/proc/${out[i]}/task/${task}/children`).trim();
      if (kids) out.push(...kids.split(' ').map(Number));
    }
  }
  return out;
}
const safeReaddir = (p: string): string[] => { try { return readdirSync(p); } catch { return []; } };
const safeRead = (p: string): string => { try { return readFileSync(p, 'utf8'); } catch { return ''; } };

/** Instructions of one callgrind dump: all, and the shares of V8's garbage collector and optimising compilers. */
interface Counts { total: number; gc: number; compile: number }

/**
 * The garbage collector and the compilers run when their thresholds are crossed, not per request, so a round's
 * total moves with how many scavenges and major GCs fell in it (±10 % between rounds of 3 000 requests): the rest
 * (JavaScript, builtins, Node's C++ and libuv, the kernel interface) is the steady per-request figure. By symbol name.
 */
const GC = /Scaveng|Marking|Sweep|Heap|heap::|Evacuat|RememberedSet|SlotSet|IterateObjectCache|BodyDescriptor|SizeFromMap|Worklist|MinorMS|Compactor|memset|PageMetadata|Space::|Allocat(e|ion)Observer/;
const COMPILE = /compiler::|maglev::|turboshaft::|Zone|baseline::|interpreter::|Parser|Compile|Bytecode|AstNode|Scope::|Crankshaft|Isolate::InitializeCode/;

/** Self cost per function from a callgrind dump (fn= … cost lines; the inclusive cost after each calls= line skipped). */
function readDump(file: string): Counts {
  const names = new Map<string, string>();
  const counts: Counts = { total: 0, gc: 0, compile: 0 };
  let kind: 'gc' | 'compile' | null = null;
  let afterCall = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const c = line.charCodeAt(0);
    if ((c >= 48 && c <= 57) || line[0] === '+' || line[0] === '-' || line[0] === '*') {
      if (afterCall) { afterCall = false; continue; }
      const n = Number(line.split(' ')[1] ?? 0);
      counts.total += n;
      if (kind !== null) counts[kind] += n;
    } else if (line.startsWith('calls=')) {
      afterCall = true;
    } else if (line.startsWith('fn=') || line.startsWith('cfn=')) {
      const m = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (!m) continue;
      if (m[2] !== undefined) names.set(m[1]!, m[2]);
      if (line[0] === 'f') {
        const name = names.get(m[1]!) ?? '';
        kind = GC.test(name) ? 'gc' : COMPILE.test(name) ? 'compile' : null;
      }
    }
  }
  return counts;
}

/** Each PID's newest dump (callgrind numbers them cg.PID.1, .2, …). */
function dumpCounts(dir: string, pids: number[]): Map<number, Counts> {
  const out = new Map<number, Counts>();
  for (const pid of pids) {
    const dumps = readdirSync(dir).filter((f) => f.startsWith(`cg.${pid}.`)).sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
    const last = dumps.at(-1);
    if (last !== undefined) out.set(pid, readDump(join(dir, last)));
  }
  return out;
}

function h2load(mode: Mode, url: string, n: number): void {
  const args = ['-c', '1', 'h2load', '-n', String(n), '-c', String(CONNS), '-m', String(STREAMS)];
  if (mode === 'h1' || mode === 'h1s') args.push('--h1');
  const out = execFileSync('taskset', [...args, `${url}/small`], { encoding: 'utf8', maxBuffer: 1 << 22 });
  const m = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(out);
  if (!m || Number(m[1]) !== n) throw new Error(`h2load: not every request succeeded: ${out.slice(-500)}`);
}

async function waitListening(log: string, proc: ChildProcess): Promise<string> {
  const deadline = Date.now() + 600_000; // node under callgrind starts in 10 s to minutes on a busy machine
  for (;;) {
    const m = /"url":"(https?:\/\/[^"]+)"/.exec(safeRead(log));
    if (m) return m[1]!;
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`ferry did not start: ${safeRead(log).slice(-500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'read') { // node bench/instructions-modes.ts read DUMP…: a kept dump's split
    for (const f of process.argv.slice(3)) console.log(f, readDump(f));
    return;
  }
  // several modes, comma-separated, are measured one after the other in the same process (`h1,h2c`, `h1s,h2s`)
  const modes = (process.argv[2] ?? '').split(',') as Mode[];
  const tlsModes = modes.filter((m) => m === 'h1s' || m === 'h2s').length;
  if (!modes.every((m) => MODES.includes(m)) || (tlsModes > 0 && tlsModes < modes.length)) {
    process.stderr.write(`usage: node bench/instructions-modes.ts MODE[,MODE] [ferry proxy flags…]; MODE: ${MODES.join(', ')} (TLS and cleartext modes not mixed)\n`);
    process.exitCode = 2;
    return;
  }
  const flags = process.argv.slice(3);
  const dist = process.env.INSTR_DIST ?? buildFerry('instr/dist');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-instr-'));
  const procs: ChildProcess[] = [];
  try {
    const origin = await startPinned('1', ['bench/peers/origin.mjs']);
    procs.push(origin.proc);
    const tls = tlsModes > 0 ? localhostCert() : null;
    const extra = tls ? ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile] : modes.includes('h2c') ? ['--h2c'] : [];
    const log = join(dir, 'stdout.log');
    const ferry = spawn('taskset', ['-c', CPU, 'valgrind', '--tool=callgrind', '--trace-children=yes', '--trace-children-skip=*/sh',
      '--dump-instr=no', '--collect-systime=no', `--callgrind-out-file=${dir}/cg.%p`,
      process.execPath, `${dist}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, ...extra, ...flags],
    { cwd: ROOT, stdio: ['ignore', openSync(log, 'w'), openSync(join(dir, 'stderr.log'), 'w')], env: VALGRIND_ENV });
    procs.push(ferry);
    let url = await waitListening(log, ferry);
    if (tls) url = url.replace(/^http:/, 'https:');
    for (const mode of modes) {
      h2load(mode, url, WARM);
      const pids = tree(ferry.pid!);
      console.log(`${mode} ${flags.join(' ') || '(defaults)'}: ${pids.length} process(es), ${N} requests per round, ${CONNS} connections × ${STREAMS}`);
      const rounds: Counts[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        execFileSync('callgrind_control', ['-z', ...pids.map(String)], { stdio: 'ignore' });
        h2load(mode, url, N);
        execFileSync('callgrind_control', ['-d', ...pids.map(String)], { stdio: 'ignore' });
        const counts = dumpCounts(dir, pids);
        const sum: Counts = { total: 0, gc: 0, compile: 0 };
        for (const c of counts.values()) { sum.total += c.total; sum.gc += c.gc; sum.compile += c.compile; }
        rounds.push(sum);
        const k = (n: number): string => `${Math.round(n / N / 100) / 10}k`;
        const parts = pids.map((p, i) => `${i === 0 ? 'primary' : `child ${i}`} ${k(counts.get(p)?.total ?? 0)}`).join(', ');
        console.log(`round ${round}: ${k(sum.total)} instructions per request: ${k(sum.total - sum.gc - sum.compile)} outside GC and compilers, GC ${k(sum.gc)}, compilers ${k(sum.compile)}${pids.length > 1 ? ` (${parts})` : ''}`);
      }
      const mid = (f: (c: Counts) => number): number => Math.round(rounds.map(f).sort((a, b) => a - b)[Math.floor(rounds.length / 2)]! / N);
      const mean = (f: (c: Counts) => number): number => Math.round(rounds.reduce((a, c) => a + f(c), 0) / rounds.length / N);
      console.log(`${mode}: median ${mid((c) => c.total)} (mean ${mean((c) => c.total)}) instructions per request; outside GC and compilers: median ${mid((c) => c.total - c.gc - c.compile)}; GC mean ${mean((c) => c.gc)}; compilers mean ${mean((c) => c.compile)}`);
    }
    const lines = safeRead(log).split('\n').filter((l) => l.includes('"event":"access"')).length;
    console.log(`${lines} access lines in the log`);
  } finally {
    for (const p of procs.reverse()) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 2_000));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
