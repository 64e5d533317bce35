import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { noteRelayedBytes, PACE_BYTES } from '../../src/proxy/gc-pacer.ts';

describe('gc pacer', () => {
  it('runs a scavenge after PACE_BYTES relayed, and not before', async () => {
    const kinds: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
    });
    obs.observe({ entryTypes: ['gc'] });
    try {
      noteRelayedBytes(PACE_BYTES - 1);
      await new Promise((r) => setTimeout(r, 50));
      const before = kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR).length;
      noteRelayedBytes(1);
      await new Promise((r) => setTimeout(r, 50));
      const after = kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR).length;
      assert.ok(after > before, `a minor GC ran (${before} → ${after})`);
      assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'gc() is not exposed to the application');
    } finally { obs.disconnect(); }
  });
});
