/**
 * @module A cap on V8's young generation (and a 2x old-generation growing factor) for `ferry proxy`, so that RSS under
 * sustained small-request load stays within what a small container allows (issue 18).
 *
 * Measured (proxy pinned to one core, 64 connections of small GETs, access log on): V8 doubled the new space at
 * each scavenge that found most of it alive, up to 128 MiB, and with the old generation allowed to grow 4x between
 * major GCs (server/heap-tuning.ts) it reached ~56 MiB; RSS peaked at 250-265 MiB. `--max-semi-space-size` is read
 * only when the heap is created, too late for a CLI that starts as `ferry proxy`; `--semi-space-growth-factor` is
 * read at each growth decision, so growth is switched off (factor 1) once the new space reaches a quarter of the cap
 * (where it settles), and back on if V8 shrinks it. The check runs after every GC (a performance observer: Node
 * delivers GC entries between two tasks of the event loop), so up to two growths can land before it runs (seen: a
 * burst took the new space from 16 to 36 MiB in about one run in six): the cap is four times the settled size, so
 * those stay within it (a 100 ms poll instead let a burst double the new space three times between two checks). With the new space held at 16 MiB and the old
 * generation growing 2x: RSS peak ~141 MiB, and 1 GiB downloads still see one mark-compact (the pathology
 * heap-tuning.ts answers needs a young generation larger than the old generation's headroom, which the cap prevents). docs/performance.md has the trade-off.
 * Flags the operator gave (as node flags or in NODE_OPTIONS) are left alone.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { operatorGave } from './v8-flags.ts';

/** The most new space (both semi-spaces) ferry proxy lets V8 grow to; it settles at a quarter of it (16 MiB). */
export const YOUNG_GENERATION_CAP = 64 * 1024 * 1024;
export const OLD_GROWING_PERCENT = 100;

/** The new space's current size, in bytes. */
export function newSpaceSize(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Caps the young generation at `capBytes` and sets the old generation's growing factor, each unless the operator
 * chose it; returns what it set and a stop function (tests). The observer holds no handle open.
 */
export function capYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined, capBytes = YOUNG_GENERATION_CAP): { set: string[]; stop(): void } {
  const given = (flag: string): boolean => operatorGave(execArgv, nodeOptions, flag);
  const set: string[] = [];
  if (!given('--heap-growing-percent')) {
    v8.setFlagsFromString(`--heap-growing-percent=${OLD_GROWING_PERCENT}`);
    set.push('--heap-growing-percent');
  }
  if (given('--max-semi-space-size') || given('--semi-space-growth-factor')) return { set, stop: () => {} };
  set.push('--semi-space-growth-factor');
  let growing = true;
  const check = (): void => {
    // growth stops at a quarter of the cap: the GCs before this runs may double the new space twice more
    const grow = newSpaceSize() * 8 <= capBytes;
    if (grow === growing) return;
    growing = grow;
    v8.setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  };
  check();
  const observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ['gc'] });
  return { set, stop: () => { observer.disconnect(); if (!growing) v8.setFlagsFromString('--semi-space-growth-factor=2'); } };
}
