/**
 * @module Process health for the dashboard: memory, event-loop delay and GC pauses, read once per tick. One probe
 * per process (shared by every proxy in it); its timers and observers do not keep the process alive.
 */
import { getHeapStatistics } from 'node:v8';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { HealthSample } from './series.ts';

export interface HealthProbe {
  /** Figures since the previous read (event loop, GC) and now (memory). */
  read(): HealthSample;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

let shared: HealthProbe | null = null;

export function processHealth(): HealthProbe {
  if (shared) return shared;
  // 20 ms resolution: coarse enough to cost nothing, fine enough to see a blocked loop (prom-client keeps its own
  // monitor for /metrics: reading and resetting that one here would skew what Prometheus scrapes)
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  let gcMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if (e.duration > gcMaxMs) gcMaxMs = e.duration;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  let lastRss = 0;
  shared = {
    read() {
      const mem = memoryNow(lastRss);
      lastRss = mem.rss;
      // the histogram's figures are in ns and include the resolution itself; what matters is the delay beyond it
      const extra = (ns: number) => (loop.count > 0 ? round3(Math.max(0, ns / 1e6 - 20)) : 0);
      const sample: HealthSample = {
        rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal,
        loopP99Ms: extra(loop.percentile(99)), loopMaxMs: extra(loop.max),
        gcMs: round3(gcMs), gcMaxMs: round3(gcMaxMs),
      };
      loop.reset();
      gcMs = 0;
      gcMaxMs = 0;
      return sample;
    },
  };
  return shared;
}

/**
 * process.memoryUsage() reads /proc/self/statm for the RSS, which needs a free file descriptor: when the process has
 * run out of them (EMFILE under a connection flood) it throws, and a throw in the sampling timer would end the process.
 * Then the heap comes from V8 (no descriptor needed) and the RSS stays at its last reading for this tick.
 */
function memoryNow(lastRss: number): { rss: number; heapUsed: number; heapTotal: number } {
  try {
    return process.memoryUsage();
  } catch {
    const heap = getHeapStatistics();
    return { rss: lastRss, heapUsed: heap.used_heap_size, heapTotal: heap.total_heap_size };
  }
}
