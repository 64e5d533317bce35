/**
 * @module Bounded memory while streaming. Every socket read allocates a fresh 64 KiB buffer; V8 frees those only when
 * a garbage collection runs, and it starts one for external memory only after ~64 MiB of growth, which is most of a
 * streaming proxy's peak RSS. After every PACE_BYTES relayed, ferry asks for a minor GC (a scavenge: the dead
 * buffers are young, so it takes well under a millisecond), keeping the garbage, and the RSS, small.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Bytes relayed (both directions, all requests) between two requested scavenges. */
export const PACE_BYTES = 16 * 1024 * 1024;

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

/** Count relayed body bytes; every PACE_BYTES, run a scavenge. */
export function noteRelayedBytes(n: number): void {
  since += n;
  if (since < PACE_BYTES) return;
  since = 0;
  if (gc === undefined) gc = loadGc();
  gc?.({ type: 'minor' });
}
