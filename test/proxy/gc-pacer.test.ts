import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PACE_BYTES } from '../../src/proxy/gc-pacer.ts';
import { createScavengePacer } from '../../src/server/scavenge-pacer.ts';

const run = promisify(execFile);

describe('gc pacer', () => {
  it('runs a scavenge after PACE_BYTES relayed, and not before', async () => {
    const note = createScavengePacer(PACE_BYTES);
    const kinds: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
    });
    obs.observe({ entryTypes: ['gc'] });
    try {
      note(PACE_BYTES - 1);
      await new Promise((r) => setTimeout(r, 50));
      const before = kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR).length;
      note(1);
      await new Promise((r) => setTimeout(r, 50));
      const after = kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR).length;
      assert.ok(after > before, `a minor GC ran (${before} → ${after})`);
      assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'gc() is not exposed to the application');
    } finally { obs.disconnect(); }
  });
});

describe('the library leaves an embedding process alone', () => {
  for (const exposed of [false, true]) {
    it(`moves 256 MiB through createProxy without asking for a collection or setting a V8 flag (embedder gc() ${exposed ? 'exposed' : 'not exposed'})`, async () => {
      const fixture = fileURLToPath(new URL('../fixtures/embedder.ts', import.meta.url));
      const { stdout } = await run(process.execPath, [fixture], { env: { ...process.env, EMBEDDER_GC: exposed ? '1' : '0' }, timeout: 120_000 });
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { bytes: number; gcCalls: number; flags: string[] };
      assert.equal(result.bytes, 256 * 1024 * 1024, 'every byte arrived');
      assert.equal(result.gcCalls, 0, 'ferry called no gc()');
      assert.deepEqual(result.flags, [], 'ferry set no V8 flag');
    });
  }
});
