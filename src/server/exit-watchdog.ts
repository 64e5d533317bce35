/**
 * @module A watchdog for the long-running roles' exit: process.exit can deadlock inside Node itself (nodejs/node#54918,
 * still open: at platform shutdown the main thread joins V8's worker threads while a concurrent compile job on one of
 * them waits for a main-thread GC that never comes). A ferry hit by it would sit forever after SIGTERM with its
 * listener already closed, caught once in this project's test suite (Node 24.21). JavaScript cannot run any more
 * at that point, so the watchdog is a tiny `sh` outside the process: it waits for the exit, and if the process is
 * still there after `graceMs` (and is still the same process: PID and start time), it says so on stderr and sends
 * SIGKILL. After a normal exit it goes away within a poll interval. Linux only (/proc); elsewhere it does nothing.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const POLL_S = 0.2;

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot, which tells a reused PID apart. */
export function processStartTime(stat: string): string | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

/** The watchdog script for `pid` (started at `start`), for a process that should be gone within `graceMs`. */
export function watchdogScript(pid: number, start: string, graceMs: number): string {
  const polls = Math.max(1, Math.ceil(graceMs / 1000 / POLL_S));
  // still running: /proc/<pid>/stat there, not a zombie (exited, waiting for its parent), and the same start time;
  // the fields after the command name (which may hold spaces): state first, start time twentieth
  return [
    `running() { s=$(sed 's/.*) //' /proc/${pid}/stat 2>/dev/null) || return 1; set -- $s; [ "$1" != Z ] && [ "\${20}" = "${start}" ]; }`,
    `i=0; while [ $i -lt ${polls} ] && running; do sleep ${POLL_S}; i=$((i+1)); done`,
    `if running; then echo "ferry: exit stalled inside Node (nodejs/node#54918); sending SIGKILL to ${pid}" >&2; kill -KILL ${pid}; fi`,
  ].join('\n');
}

/** Arms the watchdog for this process; call it right before process.exit. Never throws; returns the watchdog's PID. */
export function armExitWatchdog(graceMs = 3_000): number | undefined {
  try {
    const start = processStartTime(readFileSync('/proc/self/stat', 'utf8'));
    if (start === null) return undefined;
    // stderr inherited: the one line it may print lands where ferry's own errors go
    const child = spawn('/bin/sh', ['-c', watchdogScript(process.pid, start, graceMs)], { detached: true, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', () => { /* no sh here: exit unguarded */ });
    child.unref();
    return child.pid;
  } catch { /* no /proc (not Linux): exit unguarded */ }
  return undefined;
}
