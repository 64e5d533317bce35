/**
 * @module Totals over `--workers N` processes through node:cluster IPC. The worker that receives GET /stats asks the
 * primary; the primary asks every worker for its part and answers with all of them; the worker sums. Owns only the
 * messages; summing is counters.ts / prometheus.ts.
 */
import cluster, { type Worker } from 'node:cluster';
import type { CounterState } from './counters.ts';
import type { MetricsJson } from './prometheus.ts';

/** A worker that does not answer in time is left out (the reply says how many answered). */
export const COLLECT_TIMEOUT_MS = 5_000;
/** Each worker also pushes its part this often, so a worker that dies loses at most this much of its counts. */
export const SNAPSHOT_INTERVAL_MS = 1_000;
/**
 * The process figures in a pushed part (prom-client's default metrics: CPU seconds, GC, heap) may be this old: they
 * cost ~0.65 ms to read, 98 % of a push (issue 18: the push ran every second in each busy worker). A worker that
 * dies loses at most this much of its process counters; its request counts still at most SNAPSHOT_INTERVAL_MS.
 */
export const SNAPSHOT_PROCESS_MAX_AGE_MS = 10_000;

/** `retired`: what workers that exited had counted (merged into one part; live gauges zeroed). */
export interface WorkerPart { counters: CounterState; metrics: MetricsJson; retired?: boolean }

/** Merges the last parts of exited workers into one retired part (stats module: it knows every field of a part). */
export type RetireParts = (parts: WorkerPart[]) => Promise<WorkerPart>;

const REQ = 'ferry:stats:request';
const COLLECT = 'ferry:stats:collect';
const PART = 'ferry:stats:part';
const RES = 'ferry:stats:response';
const SNAPSHOT = 'ferry:stats:snapshot';

type StatsMessage =
  | { type: typeof REQ; id: number }
  | { type: typeof COLLECT; id: number }
  | { type: typeof PART; id: number; part: WorkerPart | null }
  | { type: typeof RES; id: number; parts: WorkerPart[] }
  | { type: typeof SNAPSHOT; part: WorkerPart };

function isStatsMessage(m: unknown): m is StatsMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string'
    && (m as { type: string }).type.startsWith('ferry:stats:');
}

let primaryInstalled = false;

/**
 * Call once in the primary, before forking: relays collection requests between workers, and keeps what exited
 * workers had counted (their last pushed part, merged by `retire`) so totals never go backwards when one is
 * restarted. Idempotent.
 */
export function installStatsAggregator(retire?: RetireParts): void {
  if (primaryInstalled || !cluster.isPrimary) return;
  primaryInstalled = true;
  let nextId = 1;
  const pending = new Map<number, { parts: WorkerPart[]; waiting: number; done: () => void }>();
  const latest = new Map<number, WorkerPart>();
  let retired: Promise<WorkerPart | null> = Promise.resolve(null);
  cluster.on('exit', (worker: Worker) => {
    const last = latest.get(worker.id);
    latest.delete(worker.id);
    if (!last || !retire) return;
    retired = retired.then((before) => retire(before ? [before, last] : [last])).catch(() => null);
  });
  cluster.on('message', (from: Worker, msg: unknown) => {
    if (!isStatsMessage(msg)) return;
    if (msg.type === SNAPSHOT) { latest.set(from.id, msg.part); return; }
    if (msg.type === PART) {
      if (msg.part) latest.set(from.id, msg.part);
      const p = pending.get(msg.id);
      if (!p) return;
      if (msg.part) p.parts.push(msg.part);
      if (--p.waiting === 0) p.done();
      return;
    }
    if (msg.type !== REQ) return;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
    const id = nextId++;
    const entry = { parts: [] as WorkerPart[], waiting: workers.length, done: () => {} };
    const timer = setTimeout(() => entry.done(), COLLECT_TIMEOUT_MS);
    entry.done = () => {
      clearTimeout(timer);
      pending.delete(id);
      void retired.then((gone) => {
        const parts = gone ? [...entry.parts, gone] : entry.parts;
        if (from.isConnected()) from.send({ type: RES, id: msg.id, parts } satisfies StatsMessage);
      });
    };
    pending.set(id, entry);
    if (workers.length === 0) entry.done();
    for (const w of workers) w.send({ type: COLLECT, id } satisfies StatsMessage);
  });
}

export interface WorkerAggregation {
  /** Every live worker's part (this one's included), or null when not a cluster worker. */
  collect(): Promise<WorkerPart[]> | null;
  stop(): void;
}

/**
 * In a worker: answer the primary's collection requests with `local()` (fresh), and ask for everyone's parts; push
 * `local(SNAPSHOT_PROCESS_MAX_AGE_MS)` every SNAPSHOT_INTERVAL_MS. `fingerprint`
 * changes whenever the figures do: the periodic push to the primary is skipped (no prom-client read, no IPC) while
 * it stays the same, so an idle worker costs next to nothing.
 */
export function joinStatsAggregation(local: (processMaxAgeMs?: number) => Promise<WorkerPart>, fingerprint: () => string): WorkerAggregation {
  if (!cluster.isWorker || typeof process.send !== 'function') return { collect: () => null, stop() {} };
  let nextId = 1;
  const waiting = new Map<number, (parts: WorkerPart[]) => void>();
  const onMessage = (msg: unknown) => {
    if (!isStatsMessage(msg)) return;
    if (msg.type === COLLECT) {
      local().then(
        (part) => process.send?.({ type: PART, id: msg.id, part } satisfies StatsMessage),
        () => process.send?.({ type: PART, id: msg.id, part: null } satisfies StatsMessage),
      );
    } else if (msg.type === RES) {
      waiting.get(msg.id)?.(msg.parts);
    }
  };
  process.on('message', onMessage);
  let pushed = '';
  const push = setInterval(() => {
    const now = fingerprint();
    if (now === pushed) return;
    pushed = now;
    local(SNAPSHOT_PROCESS_MAX_AGE_MS).then((part) => { if (process.connected) process.send?.({ type: SNAPSHOT, part } satisfies StatsMessage); }, () => {});
  }, SNAPSHOT_INTERVAL_MS).unref();
  return {
    collect() {
      const id = nextId++;
      return new Promise((resolve) => {
        const timer = setTimeout(() => { waiting.delete(id); local().then((p) => resolve([p]), () => resolve([])); }, COLLECT_TIMEOUT_MS * 2);
        waiting.set(id, (parts) => { clearTimeout(timer); waiting.delete(id); resolve(parts); });
        process.send!({ type: REQ, id } satisfies StatsMessage);
      });
    },
    stop() { clearInterval(push); process.off('message', onMessage); },
  };
}
