/** @module Start ferry roles as child processes (the real CLI) and wait until they say where they listen. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after } from 'node:test';
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
  /**
   * SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. Under the test runner the no-alerts rule
   * (RELIABILITY T2, see findAlerts) is applied to every role at the end of the test file, which then fails with
   * the offending lines (not here: a throwing stop() would skip the rest of a test's cleanup and hang the file).
   */
  stop(graceMs?: number): Promise<number | null>;
  /** What the no-alerts rule finds in this process's output so far (empty when clean). */
  alerts(): string[];
}

/**
 * Opt-outs from the no-alerts rule, for tests that provoke a fault on purpose. Say exactly what is expected: a
 * predicate over log records, not a blanket switch.
 */
export interface AlertOptions {
  /** Log records the test provokes on purpose; they do not count as alerts. */
  expectedLog?: (record: Record<string, unknown>) => boolean;
  /** The test makes the process exit by itself (non-zero) or crash on purpose. */
  expectedExit?: boolean;
}

/** How a process ended, as far as the rule cares: whether the test asked (stop() or a signal), and its code or signal. */
export interface ExitRecord { code: number | null; signal: NodeJS.Signals | null; requested: boolean }

/** pino's numeric levels: 50 error, 60 fatal. ferry's logger writes the label instead. */
const ALERT_LEVELS = new Set<unknown>(['error', 'fatal', 50, 60]);
/** Signals only a crash sends (the others — SIGTERM, SIGINT, SIGKILL — come from a test or the harness). */
const CRASH_SIGNALS = new Set<string>(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGTRAP', 'SIGSYS']);
/** What Node and ferry print on stderr when something escaped every handler. */
const STDERR_ALERTS: RegExp[] = [
  /^Node\.js v\d+/m, // the trailer Node prints after an uncaught exception
  /^ferry: unexpected error/m, // cli/main's catch-all
  /Uncaught|UnhandledPromiseRejection|unhandled rejection/i,
  /FATAL ERROR|JavaScript heap out of memory|Segmentation fault|Aborted \(core dumped\)/,
];

/**
 * RELIABILITY T2, the no-alerts rule (nginx-tests "no alerts"): a ferry process a test started must not log an
 * internal fault — an `event: "internal-error"` line or any line at level error/fatal (ferry logs client errors at
 * info/warn, so error level means ferry itself failed) —, print an uncaught exception on stderr, or end without being
 * asked (stop() or a signal from the test), whatever its code, or with a crash signal. Returns one message per offence, quoting the line.
 */
export function findAlerts(logs: ReadonlyArray<Record<string, unknown>>, stderr: string, exit: ExitRecord | null, options: AlertOptions = {}): string[] {
  const found: string[] = [];
  for (const rec of logs) {
    if (rec.event !== 'internal-error' && !ALERT_LEVELS.has(rec.level)) continue;
    if (options.expectedLog?.(rec)) continue;
    found.push(`logged: ${JSON.stringify(rec).slice(0, 2000)}`);
  }
  for (const re of STDERR_ALERTS) {
    const m = re.exec(stderr);
    if (m) {
      const from = Math.max(0, stderr.lastIndexOf('\n', Math.max(0, m.index - 1500)));
      found.push(`stderr /${re.source}/: ${stderr.slice(from, m.index + 1500).trim()}`);
    }
  }
  if (exit !== null && !options.expectedExit) {
    if (exit.signal !== null && CRASH_SIGNALS.has(exit.signal)) found.push(`crashed with ${exit.signal}`);
    else if (exit.code !== null && exit.code !== 0) {
      found.push(exit.requested ? `exited with code ${exit.code} when asked to stop (0 expected)` : `exited by itself with code ${exit.code}`);
    } else if (exit.code === 0 && !exit.requested) {
      // a server role has no reason to end cleanly unless told to: an exit(0) nobody asked for is a fault too
      found.push('exited by itself with code 0 (nobody stopped or signalled it)');
    }
  }
  return found;
}

/** The rule applies to test runs (node --test, or a test file run directly), not to benchmarks using these helpers. */
const UNDER_TEST = process.env.NODE_TEST_CONTEXT !== undefined || /\.test\.[cm]?[jt]s$/.test(process.argv[1] ?? '');

interface TrackedRole { args: string[]; stop: (graceMs?: number) => Promise<number | null>; alerts: () => string[] }
const tracked: TrackedRole[] = [];

if (UNDER_TEST) {
  // At the end of every test file: roles a test never stopped are stopped now, then every role's output is checked,
  // whichever way it ended (stop(), or a test's own proc.kill), and the file fails with the offending lines.
  after(async () => {
    await Promise.all(tracked.map((role) => role.stop(2_000)));
    const messages = tracked.map((role) => ({ role, found: role.alerts() }))
      .filter((x) => x.found.length > 0)
      .map((x) => formatAlerts(x.role.args, x.found));
    tracked.length = 0;
    if (messages.length > 0) throw new Error(messages.join('\n\n'));
  });
}

function formatAlerts(args: string[], alerts: string[]): string {
  return `no-alerts rule (RELIABILITY T2): ferry ${args.join(' ')}\n  ${alerts.join('\n  ')}\n` +
    '(if the test provokes this on purpose, pass startRole(..., { alerts: { expectedLog / expectedExit } }))';
}

/** Run `ferry <args>` and wait for its first `event: "listening"` log line. */
export function startRole(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; listeningCount?: number; alerts?: AlertOptions; main?: string } = {}): Promise<RunningRole> {
  const proc = spawn(process.execPath, [options.main ?? MAIN, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let err = '';
  let out = '';
  const need = options.listeningCount ?? 1;
  let stopRequested = false;
  // a test's own proc.kill (SIGTERM, SIGINT...) asks the role to end as much as stop() does
  const kill = proc.kill.bind(proc);
  proc.kill = (signal?: NodeJS.Signals | number) => { stopRequested = true; return kill(signal); };
  let exit: ExitRecord | null = null;
  proc.on('exit', (code, signal) => { exit = { code, signal, requested: stopRequested }; });
  // 'close' comes after 'exit' once stdout/stderr are drained: the last lines are read before the rule looks.
  const closed = new Promise<void>((r) => proc.once('close', () => r()));
  const alerts = () => findAlerts(logs, err, exit, options.alerts);
  const stop = async (graceMs = 5000): Promise<number | null> => {
    stopRequested = true;
    const code = await stopProcess(proc, graceMs);
    // bounded: with --workers, an orphaned worker could hold the pipes open after a SIGKILL
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1_000).unref())]);
    return code;
  };
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
            tracked.push({ args, stop, alerts });
            resolve({
              proc, url, port: Number(new URL(url).port), logs,
              stderr: () => err,
              rss: () => rssOf(proc.pid!),
              stop,
              alerts,
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
