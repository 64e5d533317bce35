/**
 * @module Scavenge pacing for the relay processes (src/proxy/gc-pacer.ts, at a shorter pace).
 *
 * V8 counts live external memory (Buffer contents) against the heap's global limit, which for a
 * ~15 MB heap is only ~30 MB. A relay process holds `window` chunks of 1 MiB per direction and
 * receives 64 KiB socket reads that die at once but are only freed by the next scavenge; with a
 * scavenge every 16 MiB the garbage alone crosses that limit and V8 starts a major GC (concurrent
 * marking of the whole heap, on worker threads that compete for the same cores) every few MiB.
 * Scavenging every RELAY_PACE_BYTES keeps the dead reads few, so major GCs are rarer.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Measured (bench/relay.bench.ts, A/B in one run): 16 MiB (the proxy's pace) → 4 MiB → 2 MiB cut the
 * server's upload CPU 0.83 → 0.78 → 0.72 s per 100 MiB; a scavenge here costs ~1 ms, so even at 2 MiB the
 * pauses stay a small share of the hashing each chunk needs anyway. */
export const RELAY_PACE_BYTES = 2 * 1024 * 1024;

type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gc: GcFunction | null | undefined;
let since = 0;

function loadGc(): GcFunction | null {
  const existing = (globalThis as { gc?: GcFunction }).gc;
  if (typeof existing === 'function') return existing;
  try {
    // Exposes gc() to a fresh context only; the process-wide flag is restored right after.
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as GcFunction;
    v8.setFlagsFromString('--no-expose-gc');
    return typeof fn === 'function' ? fn : null;
  } catch {
    return null;
  }
}

/** Count relayed body bytes (both directions); every RELAY_PACE_BYTES, run a scavenge. */
export function noteRelayedBytes(n: number): void {
  since += n;
  if (since < RELAY_PACE_BYTES) return;
  since = 0;
  if (gc === undefined) gc = loadGc();
  gc?.({ type: 'minor' });
}
