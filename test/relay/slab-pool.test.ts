import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseCopied, SlabPool } from '../../src/relay/slab-pool.ts';

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

test('releaseCopied frees a piece that is its whole buffer, and leaves shared or small ones alone', () => {
  const whole = Buffer.allocUnsafeSlow(64 * 1024).fill(1);
  releaseCopied(whole);
  assert.equal(whole.length, 0); // detached: its memory is freed now
  const parent = Buffer.allocUnsafeSlow(64 * 1024).fill(2);
  const view = parent.subarray(0, 32 * 1024);
  releaseCopied(view);
  assert.equal(view.length, 32 * 1024);
  assert.equal(parent[100], 2);
  const small = Buffer.from('a small pooled piece');
  releaseCopied(small);
  assert.equal(small.toString(), 'a small pooled piece');
});

test('lentBytes: slabs taken and not given back, whatever became of them (kept, or over the cap and dropped)', () => {
  const pool = new SlabPool(1024, 1);
  assert.equal(pool.lentBytes, 0);
  const [a, b, c] = [pool.take(), pool.take(), pool.take()];
  assert.equal(pool.lentBytes, 3 * 1024);
  pool.give(a); // kept
  pool.give(b.subarray(5)); // over the cap: dropped, but no longer lent either
  assert.equal(pool.lentBytes, 1024);
  pool.give(Buffer.alloc(1024)); // not ours: no change
  assert.equal(pool.lentBytes, 1024);
  pool.take(); // the kept one, lent again
  assert.equal(pool.lentBytes, 2 * 1024);
  pool.give(c);
  assert.equal(pool.lentBytes, 1024);
});

test('forget: a slab left to the GC is no longer lent, and never handed out again; releaseOf gives back or forgets', () => {
  const pool = new SlabPool(1024, 4);
  const [a, b] = [pool.take(), pool.take()];
  pool.forget(a.subarray(3));
  assert.equal(pool.lentBytes, 1024);
  pool.forget(Buffer.alloc(1024)); // not ours
  assert.equal(pool.lentBytes, 1024);
  const c = pool.take();
  assert.notEqual(c.buffer, a.buffer, 'a forgotten slab is not reused');
  const release = pool.releaseOf(b);
  release.abandon();
  assert.equal(pool.lentBytes, 1024);
  pool.releaseOf(c)();
  assert.equal(pool.lentBytes, 0);
  assert.equal(pool.take().buffer, c.buffer, 'given back: reused');
});
