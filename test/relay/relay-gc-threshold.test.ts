/** The relay commands' major-GC threshold follows the chunk slabs they hold, within one session's memory (relay-gc.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RELAY_MAJOR_ABOVE_EXTERNAL, relayMajorThreshold } from '../../src/relay/relay-gc.ts';

const MiB = 1024 * 1024;

test('relayMajorThreshold: the garbage allowance above the slabs in use beyond --window\'s, counting at most --session-memory of them', () => {
  let lent = 0;
  const t = relayMajorThreshold(() => lent, 32 * MiB);
  assert.equal(t(), RELAY_MAJOR_ABOVE_EXTERNAL, 'nothing in flight: the fixed threshold');
  lent = 16 * MiB; // a window of 16 chunks of 1 MiB: live, not garbage
  assert.equal(t(), RELAY_MAJOR_ABOVE_EXTERNAL + 16 * MiB, 'read at each call');
  lent = 500 * MiB; // slabs left to the GC without being given back count no more than one session's bound
  assert.equal(t(), RELAY_MAJOR_ABOVE_EXTERNAL + 32 * MiB);
  // the slabs of --window's windows (here 2 × 4 chunks of 1 MiB) are what the fixed threshold was measured with
  const based = relayMajorThreshold(() => lent, 32 * MiB, 8 * MiB);
  lent = 8 * MiB;
  assert.equal(based(), RELAY_MAJOR_ABOVE_EXTERNAL);
  lent = 24 * MiB;
  assert.equal(based(), RELAY_MAJOR_ABOVE_EXTERNAL + 16 * MiB);
  fc.assert(fc.property(fc.integer({ min: -MiB, max: 1e10 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }), (l, memory, base) => {
    const v = relayMajorThreshold(() => l, memory, base)();
    return v >= RELAY_MAJOR_ABOVE_EXTERNAL && v <= RELAY_MAJOR_ABOVE_EXTERNAL + memory && (l > base || v === RELAY_MAJOR_ABOVE_EXTERNAL);
  }));
});
