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

export interface WorkerPart { counters: CounterState; metrics: MetricsJson }

const REQ = 'ferry:stats:request';
const COLLECT = 'ferry:stats:collect';
const PART = 'ferry:stats:part';
const RES = 'ferry:stats:response';

type StatsMessage =
  | { type: typeof REQ; id: number }
  | { type: typeof COLLECT; id: number }
  | { type: typeof PART; id: number; part: WorkerPart | null }
  | { type: typeof RES; id: number; parts: WorkerPart[] };

function isStatsMessage(m: unknown): m is StatsMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string'
    && (m as { type: string }).type.startsWith('ferry:stats:');
}

let primaryInstalled = false;

/** Call once in the primary, before forking: relays collection requests between workers. Idempotent. */
export function installStatsAggregator(): void {
  if (primaryInstalled || !cluster.isPrimary) return;
  primaryInstalled = true;
  let nextId = 1;
  const pending = new Map<number, { parts: WorkerPart[]; waiting: number; done: () => void }>();
  cluster.on('message', (from: Worker, msg: unknown) => {
    if (!isStatsMessage(msg)) return;
    if (msg.type === PART) {
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
      if (from.isConnected()) from.send({ type: RES, id: msg.id, parts: entry.parts } satisfies StatsMessage);
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

/** In a worker: answer the primary's collection requests with `local()`, and ask for everyone's parts. */
export function joinStatsAggregation(local: () => Promise<WorkerPart>): WorkerAggregation {
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
  return {
    collect() {
      const id = nextId++;
      return new Promise((resolve) => {
        const timer = setTimeout(() => { waiting.delete(id); local().then((p) => resolve([p]), () => resolve([])); }, COLLECT_TIMEOUT_MS * 2);
        waiting.set(id, (parts) => { clearTimeout(timer); waiting.delete(id); resolve(parts); });
        process.send!({ type: REQ, id } satisfies StatsMessage);
      });
    },
    stop() { process.off('message', onMessage); },
  };
}
