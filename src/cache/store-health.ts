/**
 * @module Whether the cache store answers: one outage state per cache, so that a stalled or absent store (Redis
 * paused, restarted, unreachable) turns into a bypass — requests go to the origin, `Cache-Status: ferry;
 * fwd=bypass; detail=store-unavailable` (RFC 9211 §2.2 "bypass", §2.8 detail) — logged once per outage, not once
 * per request, counted, and ended by itself: while the store is down, one request per `probeMs` still tries it,
 * and its success ends the outage. Write failures (a full or read-only disk) are tracked apart, because reads may
 * still work: the response reaches the client, the entry is not stored, one line per run of failures.
 * Durations use the monotonic clock (RELIABILITY docs/reliability.md, "Clock jumps").
 */
import type { Logger } from '../server/logger.ts';

export const STORE_PROBE_MS = 1_000;

export interface StoreHealthCounters {
  /** Whether the store is currently taken as down (lookups bypass it). */
  down: boolean;
  /** Outages seen (each logged once). */
  outages: number;
  /** Store calls that failed. */
  failures: number;
  /** Requests answered without looking in the store because it was down. */
  bypassed: number;
  /** Entries not stored because the store refused the write (ENOSPC, EROFS, EACCES, a stalled Redis). */
  writeFailures: number;
}

export interface StoreHealth {
  /** True when this request should not touch the store (down, and not this request's turn to probe). */
  bypass(): boolean;
  /** A store call answered: ends an outage (logged). */
  ok(log: Logger): void;
  /** A store call failed: starts an outage (logged once) or is counted inside the current one. */
  failed(log: Logger, err: unknown, requestId?: string): void;
  /** A body write failed: the entry is not stored; logged once until a write succeeds again. */
  writeFailed(log: Logger, err: unknown, requestId?: string): void;
  /** A body write succeeded. */
  writeOk(log: Logger): void;
  counters(): StoreHealthCounters;
}

const describe = (err: unknown): string => {
  if (err instanceof Error) return (err as NodeJS.ErrnoException).code ? `${(err as NodeJS.ErrnoException).code}: ${err.message}` : err.message;
  return String(err);
};

export function createStoreHealth(store: string, options: { probeMs?: number; now?: () => number } = {}): StoreHealth {
  const probeMs = options.probeMs ?? STORE_PROBE_MS;
  const now = options.now ?? (() => performance.now());
  const c: StoreHealthCounters = { down: false, outages: 0, failures: 0, bypassed: 0, writeFailures: 0 };
  let downSince = 0;
  let nextProbe = 0;
  let failedInOutage = 0;
  let writesFailing = false;
  return {
    bypass() {
      if (!c.down) return false;
      const t = now();
      if (t >= nextProbe) { nextProbe = t + probeMs; return false; }
      c.bypassed++;
      return true;
    },
    ok(log) {
      if (!c.down) return;
      c.down = false;
      log.info({ event: 'cache-store-recovered', store, downMs: Math.round(now() - downSince), failedCalls: failedInOutage, bypassed: c.bypassed }, `cache store (${store}) is back`);
    },
    failed(log, err, requestId) {
      c.failures++;
      if (c.down) { failedInOutage++; return; }
      c.down = true;
      c.outages++;
      failedInOutage = 1;
      downSince = now();
      nextProbe = downSince + probeMs;
      log.warn({ event: 'cache-store-unavailable', store, requestId, err: describe(err) },
        `cache store (${store}) unavailable; requests bypass the cache until it answers again`);
    },
    writeFailed(log, err, requestId) {
      c.writeFailures++;
      if (writesFailing) return;
      writesFailing = true;
      log.warn({ event: 'cache-store-write-failed', store, requestId, err: describe(err) },
        `cache store (${store}) refused a write; responses are served but not stored until a write succeeds`);
    },
    writeOk(log) {
      if (!writesFailing) return;
      writesFailing = false;
      log.info({ event: 'cache-store-writes-recovered', store }, `cache store (${store}) accepts writes again`);
    },
    counters: () => ({ ...c }),
  };
}
