/**
 * @module Pieces shared by the proxy benchmarks: building ferry, starting pinned processes, large download/upload
 * against the bench origin, RSS sampling, median.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, cpSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FERRY_MALLOC_ENV } from '../src/cli/malloc-env.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The environment for a ferry run under valgrind: ferry's malloc settings given up front, so the CLI does not
 * re-execute itself (cli/malloc-env.ts); valgrind would not follow the new image, which would run uninstrumented.
 */
export const VALGRIND_ENV: NodeJS.ProcessEnv = { ...process.env, ...FERRY_MALLOC_ENV };
/**
 * Builds go under node_modules/.cache, per checkout: git worktrees of this repository may share one node_modules
 * (a symlink), and two of them benchmarking at once must not overwrite each other's build.
 */
const CACHE = `${ROOT}node_modules/.cache/${basename(ROOT)}-`;

/** Compiles ferry into node_modules/.cache/<name> (the package runs from dist/, so that is what is measured). */
export function buildFerry(name: string): string {
  const dist = `${CACHE}${name}`;
  rmSync(dist, { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}tsconfig.build.json`, '--outDir', dist, '--declaration', 'false', '--sourceMap', 'false'], { stdio: 'ignore' });
  } catch { /* type errors elsewhere still emit JavaScript */ }
  // as `npm run build` lays it out: the package.json the CLI reads its Node floor from, and the dashboard's assets
  copyFileSync(`${ROOT}package.json`, `${dist}/../package.json`);
  cpSync(`${ROOT}src/stats/dashboard`, `${dist}/stats/dashboard`, { recursive: true });
  return dist;
}

/**
 * Compiles ferry as it was at git revision `rev` (a detached worktree beside the cache, sharing this checkout's
 * node_modules), for before/after rows in one run: `FERRY_BENCH_BASELINE=<rev> npm run bench -- proxy`.
 * Returns the dist folder of that build.
 */
export function buildBaseline(rev: string): string {
  const tree = `${CACHE}ferry-baseline`;
  rmSync(tree, { recursive: true, force: true });
  execFileSync('git', ['worktree', 'prune'], { cwd: ROOT, stdio: 'ignore' });
  execFileSync('git', ['worktree', 'add', '--force', '--detach', tree, rev], { cwd: ROOT, stdio: 'ignore' });
  execFileSync('ln', ['-s', `${ROOT}node_modules`, `${tree}/node_modules`]);
  try {
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${tree}/tsconfig.build.json`, '--outDir', `${tree}/dist`, '--declaration', 'false', '--sourceMap', 'false'], { stdio: 'ignore' });
  } catch { /* type errors elsewhere still emit JavaScript */ }
  return `${tree}/dist`;
}

/** `node ARGS` pinned to `cpu` (taskset); resolves with the URL of its first "listening" JSON line. */
export function startPinned(cpu: string, args: string[]): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn('taskset', ['-c', cpu, process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${err}`)), 20_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) { clearTimeout(timer); proc.stdout!.removeAllListeners('data'); proc.stdout!.resume(); resolve({ proc, url: m[1]! }); }
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${err}`)));
  });
}

/**
 * `node ARGS` pinned to `cpu` with its stdout (the access log) written to a file in the temp folder, as a user runs
 * ferry (`ferry proxy … > access.log`); resolves with the URL of the "listening" line once the file shows it.
 */
export function startPinnedLogToFile(cpu: string, args: string[]): Promise<{ proc: ChildProcess; url: string }> {
  const log = join(tmpdir(), `ferry-bench-${process.pid}-${++logFiles}.log`);
  const proc = spawn('taskset', ['-c', cpu, process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', openSync(log, 'w'), 'pipe'] });
  proc.once('exit', () => rmSync(log, { force: true }));
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    const poll = setInterval(() => {
      const m = /"url":"(https?:\/\/[^"]+)"/.exec(readFileSync(log, 'utf8'));
      if (m) { clearInterval(poll); resolve({ proc, url: m[1]! }); } else if (Date.now() > deadline || proc.exitCode !== null) { clearInterval(poll); reject(new Error(`${args.join(' ')} did not start`)); }
    }, 50);
  });
}
let logFiles = 0;

const MIB = 1024 * 1024;
/** The bench origin's pattern (byte i = i mod 251), a whole number of periods so blocks can be repeated. */
const BLOCK = Buffer.from(Array.from({ length: 251 * 261 }, (_, i) => i % 251));

const CLK_TCK = (() => { try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { return 100; } })();

/** utime + stime of process `pid` (all its threads: /proc/PID/stat fields 14 and 15), in µs; 0 once it has exited. */
export function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1e6;
  } catch {
    return 0;
  }
}

export const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };

export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Peak RSS of `pid`, sampled every 50 ms until stopped (NaN when there is no process to watch). */
export function sampleRss(pid: number | undefined): { stop(): number } {
  if (pid === undefined) return { stop: () => NaN };
  let peak = rss(pid);
  const t = setInterval(() => { try { peak = Math.max(peak, rss(pid)); } catch { /* gone */ } }, 50);
  return { stop() { clearInterval(t); return peak; } };
}

/** GET /bytes/N through `url`; resolves with MiB/s, rejects on a short body. */
export function download(url: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http.get(`${url}/bytes/${bytes}`, (res) => {
      let seen = 0;
      res.on('data', (c: Buffer) => { seen += c.length; });
      res.on('end', () => (seen === bytes ? resolve(bytes / MIB / ((performance.now() - started) / 1000)) : reject(new Error(`short download ${seen}`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** POST N bytes to /upload through `url` with backpressure; the origin answers the count it received. */
export function upload(url: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(`${url}/upload`, { method: 'POST', headers: { 'content-length': bytes } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => (text === String(bytes) ? resolve(bytes / MIB / ((performance.now() - started) / 1000)) : reject(new Error(`upload answer ${text}`))));
    });
    req.on('error', reject);
    let left = bytes;
    const go = () => {
      while (left > 0) {
        const n = Math.min(left, BLOCK.length);
        left -= n;
        if (!req.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) { req.once('drain', go); return; }
      }
      req.end();
    };
    go();
  });
}

/** A file of `bytes` pattern bytes in the temp folder (written once), for curl to upload from the page cache. */
export function patternFile(bytes: number): string {
  const path = join(tmpdir(), `ferry-bench-pattern-${bytes}.bin`);
  try { if (statSync(path).size === bytes) return path; } catch { /* not there yet */ }
  const fd = openSync(path, 'w');
  try {
    for (let left = bytes; left > 0; left -= BLOCK.length) writeSync(fd, left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left));
  } finally { closeSync(fd); }
  return path;
}

/** Is curl on this machine? (The lean load generator for transfers; the node:http client is the fallback.) */
export function hasCurl(): boolean {
  try { execFileSync('curl', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-S', ...args], { maxBuffer: 1 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** GET /bytes/N with curl into /dev/null; MiB/s, rejects unless 200 with exactly N bytes. */
export async function curlDownload(url: string, bytes: number): Promise<number> {
  const started = performance.now();
  const [status, size] = (await curl(['-o', '/dev/null', '-w', '%{http_code} %{size_download}', `${url}/bytes/${bytes}`])).split(' ');
  const seconds = (performance.now() - started) / 1000;
  if (status !== '200' || Number(size) !== bytes) throw new Error(`curl download: status ${status}, ${size} bytes`);
  return bytes / MIB / seconds;
}

/** PUT N bytes (a page-cached pattern file) to /upload with curl; MiB/s, rejects unless the origin counted N. */
export async function curlUpload(url: string, bytes: number): Promise<number> {
  const file = patternFile(bytes);
  const started = performance.now();
  const out = await curl(['-H', 'Expect:', '-T', file, '-w', '\n%{http_code}', `${url}/upload`]);
  const seconds = (performance.now() - started) / 1000;
  const [body, status] = out.split('\n');
  if (status !== '200' || body !== String(bytes)) throw new Error(`curl upload: status ${status}, answer ${body}`);
  return bytes / MIB / seconds;
}
