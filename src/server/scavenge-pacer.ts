/**
 * @module Scavenge pacing for streaming roles. Every socket read allocates a fresh 64 KiB buffer; V8 frees those only
 * when a garbage collection runs, and it starts one for external memory only after tens of MiB of growth, which is
 * most of a streaming process's peak RSS. A pacer asks for a minor GC (a scavenge: the dead buffers are young, so it
 * takes well under a millisecond) after every `paceBytes` relayed, keeping the garbage, and the RSS, small.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** V8's gc() (the --expose-gc extension). */
type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gc: GcFunction | null | undefined;

/**
 * The gc() function, without exposing it to the process's own context (null when V8 refuses).
 * Not free: in `ferry proxy`, merely loading it (the flag toggled, a second context made) once at start made small
 * requests after each pause in traffic cost 1.5-2.2× the CPU (25 s idle, 3 s bursts; `AB_IDLE=25 AB_CONCURRENT=1
 * node bench/ab.ts`, 6 of 6 rounds; docs/performance.md), so the proxy role never loads it; the relays' pacer does,
 * for bulk transfers.
 */
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

/**
 * A byte counter that runs a scavenge every `paceBytes` counted (both directions, all requests of the process), or,
 * when V8's external memory (Buffer contents) is above `majorAboveExternal`, a major GC started incrementally instead
 * (relay-gc.ts says why the relay wants one). A function is asked at each step (the relay's threshold follows the chunk
 * bytes its windows hold).
 */
export function createScavengePacer(paceBytes: number, majorAboveExternal: number | (() => number) = Number.POSITIVE_INFINITY): (relayedBytes: number) => void {
  let since = 0;
  return (n) => {
    since += n;
    if (since < paceBytes) return;
    since = 0;
    if (gc === undefined) gc = loadGc();
    const above = typeof majorAboveExternal === 'function' ? majorAboveExternal() : majorAboveExternal;
    if (above !== Number.POSITIVE_INFINITY && v8.getHeapStatistics().external_memory > above) gc?.({ type: 'major', execution: 'async' });
    else gc?.({ type: 'minor' });
  };
}
