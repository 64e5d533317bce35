/**
 * @module Heap settling for ferry's own processes: a memory-reducing full GC once a role is up, and again after
 * traffic when the process has gone idle with its RSS grown (issue 18, idle RSS). The library never calls it.
 *
 * Why: V8 grows the young generation while the module graph loads (most of it survives), reaching 16 MiB of new
 * space of which 6-8 MiB stay resident, and it never shrinks the heap of an idle process: nothing allocates, so no
 * GC runs, and the dead socket buffers of the last transfer (25-30 MiB measured after a 64 MiB download) stay
 * allocated too. V8's memory-reducing collection (`gc({ flavor: 'last-resort' })`, what V8 runs on a low-memory
 * notification) shrinks the new space to its initial size and compacts the old generation. Measured at ferry
 * proxy's start: RSS 84 → 77 MiB; after a 64 MiB download and a 16 MiB upload: 126 → 117 MiB, and → 86 MiB when
 * glibc returns freed buffers (cli/malloc-tuning.ts). docs/performance.md, "Idle memory".
 *
 * Cost: one full GC of a ~15 MB heap, 10-30 ms, at start and then only when the event loop was nearly idle for a
 * whole interval (so never under load, and nothing on the request path).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { loadGc } from './scavenge-pacer.ts';

/** Re-settle when RSS has grown this much above the last settled figure … */
export const SETTLE_GROWTH_BYTES = 16 * 1024 * 1024;
/** … and the event loop was busy less than this share of the last interval. */
export const SETTLE_IDLE_UTILIZATION = 0.02;
export const SETTLE_INTERVAL_MS = 10_000;

/** One memory-reducing full GC; false when gc() is not available. */
export function settleHeap(): boolean {
  const gc = loadGc();
  if (gc === null) return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}

/**
 * Settles the heap now, then checks every `intervalMs` (an unref'd timer) and settles again when the process was
 * idle over the interval and its RSS grew by `growthBytes` since the last settle. Returns a stop function.
 */
export function settleHeapWhenIdle(options: { intervalMs?: number; growthBytes?: number; idleUtilization?: number; onSettle?: (rssBefore: number, rssAfter: number) => void } = {}): () => void {
  const { intervalMs = SETTLE_INTERVAL_MS, growthBytes = SETTLE_GROWTH_BYTES, idleUtilization = SETTLE_IDLE_UTILIZATION } = options;
  if (!settleHeap()) return () => {};
  let settledRss = process.memoryUsage.rss();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const rss = process.memoryUsage.rss();
    if (rss < settledRss) settledRss = rss;
    if (busy >= idleUtilization || rss - settledRss < growthBytes) return;
    settleHeap();
    settledRss = process.memoryUsage.rss();
    options.onSettle?.(rss, settledRss);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
