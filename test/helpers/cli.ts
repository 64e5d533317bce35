/** @module Start ferry roles as child processes (the real CLI) and wait until they say where they listen. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface RunningRole {
  proc: ChildProcess;
  /** `http://127.0.0.1:PORT` of the first "listening" line. */
  url: string;
  port: number;
  /** Every stdout line parsed as JSON (non-JSON lines are kept as { raw }). */
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resident set size of the process in bytes (from /proc). */
  rss(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Run `ferry <args>` and wait for its first `event: "listening"` log line. */
export function startRole(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; listeningCount?: number } = {}): Promise<RunningRole> {
  const proc = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let err = '';
  let out = '';
  const need = options.listeningCount ?? 1;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`ferry ${args.join(' ')} did not start in time.\nstderr: ${err}\nstdout: ${out.slice(0, 2000)}`));
    }, options.timeoutMs ?? 20_000);
    const urls: string[] = [];
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      out += chunk;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        let rec: Record<string, unknown>;
        try { rec = JSON.parse(line) as Record<string, unknown>; } catch { rec = { raw: line }; }
        logs.push(rec);
        if (rec.event === 'listening' && typeof rec.url === 'string') {
          urls.push(rec.url);
          if (urls.length === need) {
            clearTimeout(timer);
            const url = urls[0]!;
            resolve({
              proc, url, port: Number(new URL(url).port), logs,
              stderr: () => err,
              rss: () => rssOf(proc.pid!),
              stop: (graceMs = 5000) => stopProcess(proc, graceMs),
            });
          }
        }
      }
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (c: string) => { err += c; });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry ${args.join(' ')} exited with ${code} before listening.\nstderr: ${err}`));
    });
  });
}

/** Run `ferry <args>` to completion (for --help and usage errors). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    proc.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`ferry ${args.join(' ')} did not exit in time`)); }, timeoutMs);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = rssOf(pid);
  const t = setInterval(() => {
    try { peak = Math.max(peak, rssOf(pid)); } catch { /* exited */ }
  }, everyMs);
  return { stop() { clearInterval(t); return peak; } };
}

function stopProcess(proc: ChildProcess, graceMs: number): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', (code) => { clearTimeout(kill); resolve(code); });
    proc.kill('SIGTERM');
  });
}
