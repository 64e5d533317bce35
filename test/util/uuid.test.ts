/** Request ids (util/uuid.ts): RFC 9562 version-4 UUIDs, never repeated, across the refills of the random batch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUuid } from '../../src/util/uuid.ts';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('every id is a lowercase version-4, variant-10 UUID, and 1 000 ids (several batches of random bytes) are all different', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = randomUuid();
    assert.match(id, V4);
    seen.add(id);
  }
  assert.equal(seen.size, 1000);
});

test('the digits are random: over 1 000 ids each hex digit appears in every free position', () => {
  // 30 free hex positions (36 minus 4 dashes, the version digit and the variant's top bits): with random bytes, every
  // digit shows up at every fully random position within 1 000 draws (chance of a miss there ~ 16 × 30 × (15/16)^1000)
  const ids = Array.from({ length: 1000 }, randomUuid);
  for (const at of [0, 7, 9, 15, 20, 24, 35]) {
    const digits = new Set(ids.map((id) => id[at]));
    assert.equal(digits.size, 16, `position ${at}`);
  }
});
