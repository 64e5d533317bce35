/**
 * @module V8 old-generation tuning for the long-running roles (the CLI applies it at startup; the library leaves an
 * embedding process's heap alone). Both settings answer one pathology, traced in the proxy and the relay: V8 starts
 * incremental marking as soon as the old generation's headroom is smaller than the young generation, and a
 * streaming process has a ~13-15 MB live heap, a ~16 MB young generation and, with a small growing factor, ~16 MB
 * of headroom, so a major GC (marking the whole heap on worker threads that compete for the same two cores) began
 * again right after each one ended, freeing almost nothing:
 * - proxy, 1 GiB transfers while the other core was busy: ~100 mark-compacts per 6 GiB, +40 % CPU per GiB, half the
 *   throughput; with the growing factor fixed at 4x: 1 per 6 GiB in the same conditions;
 * - relay, 100 MiB transfers: ~20 per 100 MiB; with marking started at 80 % of the headroom (95 %: at once):
 *   rare, CPU per 100 MiB 0.44 / 0.38 → 0.29 / 0.24 s (relay-server / relay-client, download).
 * Both are read by V8 at each decision, so setting them after startup takes effect. Measured: peak RSS of a 1 GiB
 * transfer unchanged; under 45 s of sustained small requests RSS settles at 240-270 MiB with or without them
 * (that is V8's young generation growing, not these settings).
 */
import v8 from 'node:v8';
import { operatorGave } from './v8-flags.ts';

export const STREAMING_V8_FLAGS: ReadonlyArray<readonly [flag: string, value: number]> = [
  ['--heap-growing-percent', 300],
  ['--incremental-marking-soft-trigger', 80],
  ['--incremental-marking-hard-trigger', 95],
];

/** Sets each flag the operator did not choose (as a node flag or in NODE_OPTIONS); returns the flags it set. */
export function tuneHeapForStreaming(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const set: string[] = [];
  for (const [flag, value] of STREAMING_V8_FLAGS) {
    if (operatorGave(execArgv, nodeOptions, flag)) continue;
    v8.setFlagsFromString(`${flag}=${value}`);
    set.push(flag);
  }
  return set;
}
