import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlabPool } from '../../src/relay/slab-pool.ts';

test('a slab given back (through any view of it) is handed out again', () => {
  const pool = new SlabPool(1024, 2);
  const a = pool.take();
  assert.equal(a.length, 1024);
  pool.give(a.subarray(0, 10));
  const b = pool.take();
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.length, 1024);
  assert.notEqual(pool.take().buffer, a.buffer); // the free list was emptied by the take above
});

test('buffers the pool did not make are ignored, and at most maxFree slabs are kept', () => {
  const pool = new SlabPool(1024, 1);
  pool.give(Buffer.alloc(1024));
  assert.equal(pool.take().length, 1024);
  const [a, b] = [pool.take(), pool.take()];
  pool.give(a);
  pool.give(b); // over the cap: left to the GC
  assert.equal(pool.take().buffer, a.buffer);
  const c = pool.take();
  assert.notEqual(c.buffer, a.buffer);
  assert.notEqual(c.buffer, b.buffer);
});
