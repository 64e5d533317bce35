/**
 * @module V8 heap growth for the long-running roles. Measured on 1 GiB transfers through the proxy on a 2-core machine:
 * whenever the other core was busy, V8 derived a small old-generation growing factor (it scales the factor with the
 * ratio of GC speed to mutator speed), the old-space limit then sat only ~16 MB above a ~13 MB live heap, the objects
 * the paced scavenges promote crossed it every few tens of milliseconds, and the process fell into back-to-back
 * mark-compacts: ~100 per 6 GiB relayed, +40 % CPU per GiB, half the throughput, for as long as the transfer lasted.
 * A fixed factor of 4 (the top of V8's own range) keeps the limit at ~4x the live heap (~50 MB here): one mark-compact
 * per 6 GiB in the same conditions, and peak RSS is unchanged because it is made of socket buffers, not old space.
 */
import v8 from 'node:v8';

const FLAG = '--heap-growing-percent';
export const STREAMING_HEAP_GROWING_PERCENT = 300;

/** Sets the growing factor unless the operator chose one (node flag or NODE_OPTIONS); returns whether it did. */
export function fixHeapGrowth(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = (arg: string) => arg.replaceAll('_', '-').startsWith(FLAG);
  if (execArgv.some(given) || (nodeOptions ?? '').split(/\s+/).some(given)) return false;
  v8.setFlagsFromString(`${FLAG}=${STREAMING_HEAP_GROWING_PERCENT}`);
  return true;
}
