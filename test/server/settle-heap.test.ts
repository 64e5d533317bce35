/** The CLI's heap settling (server/settle-heap.ts): it gives back what V8 kept, and only when the process is idle. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./settle-heap-fixture.ts', import.meta.url));
const MIB = 1024 * 1024;

function run<T>(mode: string): T {
  return JSON.parse(execFileSync(process.execPath, [FIXTURE, mode], { encoding: 'utf8', timeout: 60_000 })) as T;
}

describe('settle-heap', () => {
  it('shrinks the new space V8 grew to its initial size', () => {
    const r = run<{ before: number; after: number; settled: boolean }>('shrink');
    assert.equal(r.settled, true);
    assert.ok(r.before >= 4 * MIB, `the workload must grow the new space (it reached ${(r.before / MIB).toFixed(1)} MiB)`);
    assert.ok(r.after <= 2 * MIB, `new space after settling: ${(r.after / MIB).toFixed(1)} MiB (was ${(r.before / MIB).toFixed(1)})`);
  });

  it('settles again once the loop is idle and RSS has grown, freeing the garbage', () => {
    const r = run<{ settles: number; externalBefore: number; externalAfter: number }>('idle');
    assert.ok(r.settles >= 1, 'settled after the garbage, while idle');
    assert.ok(r.externalBefore - r.externalAfter > 40 * MIB, `external memory ${(r.externalBefore / MIB).toFixed(0)} → ${(r.externalAfter / MIB).toFixed(0)} MiB`);
  });

  it('does not settle while the event loop is busy', () => {
    const r = run<{ settles: number }>('busy');
    assert.equal(r.settles, 0);
  });
});
