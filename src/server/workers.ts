/**
 * @module `--workers N`: N processes sharing one listening port through node:cluster (the primary owns the socket and
 * hands connections to workers). The primary only forks, restarts crashed workers and forwards shutdown signals.
 *
 * How messages flow (for features that aggregate across workers, e.g. /stats): every worker runs the full role and
 * answers its own requests. A worker that needs cluster-wide figures sends `process.send(msg)` to the primary; the
 * primary receives it as `worker.on('message')` / `cluster.on('message', (worker, msg) => …)`, may ask every worker
 * (`w.send(msg)` for w of Object.values(cluster.workers)), and replies with `worker.send(reply)`. Install such
 * primary-side listeners through the `onPrimary` hook of runWorkers, so they exist before the first fork.
 */
import cluster from 'node:cluster';
import type { Logger } from './logger.ts';
import { armExitWatchdog } from './exit-watchdog.ts';
import { onReloadSignal } from './reload-signal.ts';

/** Crash loops are not restarted faster than this. */
const RESTART_DELAY_MS = 1_000;

export interface WorkerPlan {
  count: number;
  log: Logger;
  /** Runs in each worker (or in this process when count ≤ 1): start the role and listen. */
  startWorker: () => Promise<void>;
  /** Runs once in the primary before forking (cluster-wide message handlers). */
  onPrimary?: () => void;
}

export async function runWorkers(plan: WorkerPlan): Promise<void> {
  if (plan.count <= 1 || cluster.isWorker) {
    await plan.startWorker();
    return;
  }
  const { log } = plan;
  plan.onPrimary?.();
  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) { log.flush?.(); armExitWatchdog(); process.exit(0); }
      return;
    }
    log.error({ event: 'worker-exit', pid: worker.process.pid, code, signal }, 'worker died; starting a new one');
    setTimeout(fork, RESTART_DELAY_MS).unref();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) { armExitWatchdog(); process.exit(1); }
    stopping = true;
    log.info({ event: 'shutdown', signal }, 'stopping workers');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // SIGHUP means reload, for each worker (reload/config-reload.ts); the primary itself has nothing to reload, and
  // logs nothing (each worker writes its own "reload" line)
  onReloadSignal('every worker', () => { for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP'); });
  for (let i = 0; i < plan.count; i++) fork();
  log.info({ event: 'workers', count: plan.count, pid: process.pid }, `started ${plan.count} workers`);
}
