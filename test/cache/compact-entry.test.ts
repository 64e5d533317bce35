/**
 * The memory store's compact entries (issue 18): what the store counts covers what it holds, entries stay compact
 * until read, and the parsed records kept for hits are bounded.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { bodyOf, createEntryReader, entryCost, ENTRY_OVERHEAD_BYTES, packEntry, updatedSlot } from '../../src/cache/compact-entry.ts';
import { createMemoryStore } from '../../src/cache/memory-store.ts';
import { createPolicyKit } from '../../src/cache/policy.ts';
import type { EntryRecord } from '../../src/cache/store.ts';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const kit = createPolicyKit(() => 1_000_000);
/** A policy like a real stored response's: the fields an origin sends with a 1 KiB public object. */
const policyOf = (i: number): EntryRecord['policy'] => kit.create(
  { method: 'GET', url: `/e/${i}`, headers: { host: '127.0.0.1:8081', 'user-agent': 'bench', accept: '*/*' } },
  { status: 200, headers: { 'cache-control': 'public, max-age=3600', etag: `"v${i}"`, 'content-type': 'text/plain', 'content-length': '1024', date: 'Mon, 07 Dec 2026 06:00:00 GMT' } },
).toObject();

describe('compact memory-store entries', () => {
  test('the bytes the store counts per 1 KiB entry cover the heap and buffer memory it really holds', async (t) => {
    const n = 20_000;
    const store = createMemoryStore(1024 * 1024 * 1024);
    const bodies = Array.from({ length: 16 }, (_, i) => Buffer.alloc(64 * 1024, i)); // socket-read-sized buffers
    // Records made beforehand and kept, as the writer's caller builds them: only what the store keeps is measured.
    const records: EntryRecord[] = Array.from({ length: n }, (_, i) => ({ kind: 'entry', policy: policyOf(i), size: 0 }));
    gc(); gc();
    const before = process.memoryUsage();
    for (let i = 0; i < n; i++) {
      const w = store.createWriter(`GET http://127.0.0.1:8081/e/${i}`, records[i]!, 3_600_000);
      await w.write(bodies[i % 16]!.subarray(300, 1324));
      assert.equal(await w.commit(), true);
    }
    gc(); gc();
    const after = process.memoryUsage();
    assert.equal(records.length, n); // kept alive until measured: they are the caller's, not the store's
    const held = (after.heapUsed - before.heapUsed) + (after.arrayBuffers - before.arrayBuffers);
    const counted = store.stats().bytes!;
    const heapPerEntry = (after.heapUsed - before.heapUsed) / n;
    t.diagnostic(`per entry: counted ${(counted / n).toFixed(0)} bytes, held ${(held / n).toFixed(0)} (heap ${heapPerEntry.toFixed(0)}, buffers ${((after.arrayBuffers - before.arrayBuffers) / n).toFixed(0)})`);
    assert.ok(counted >= held, `counted ${(counted / n).toFixed(0)} bytes per entry, held ${(held / n).toFixed(0)} (heap ${heapPerEntry.toFixed(0)})`);
    assert.ok(counted / n < 2 * 1024, `counted ${(counted / n).toFixed(0)} bytes per 1 KiB entry: a bound that over-counts holds fewer entries than it could`);
    // The JSON meta stays out of the heap: what is left there per entry is small objects only.
    assert.ok(heapPerEntry < ENTRY_OVERHEAD_BYTES, `${heapPerEntry.toFixed(0)} heap bytes per entry, more than the ${ENTRY_OVERHEAD_BYTES} counted`);
    await store.close();
  });

  test('an entry reads back as the record it was stored with, the same object while it stays parsed', () => {
    const policy = policyOf(1);
    const slot = packEntry(policy, [Buffer.from('hello '), Buffer.from('world')], 11);
    assert.equal(bodyOf(slot).toString(), 'hello world');
    assert.equal(slot.bytes.length, slot.metaLength + 11, 'meta and body in one buffer');
    assert.equal(slot.bytes.buffer.byteLength, slot.bytes.length, 'a buffer of its own');
    const { read } = createEntryReader(4);
    const r = read(slot);
    assert.deepEqual(r, { kind: 'entry', policy, size: 11 });
    assert.equal(read(slot), r, 'parsed once while it is among the last parsed');
    assert.equal(kit.restore(r.policy).maxAge(), 3600);
  });

  test('at most `limit` entries stay parsed: the oldest parsed goes back to its compact form', () => {
    const { read } = createEntryReader(3);
    const slots = [0, 1, 2, 3].map((i) => packEntry(policyOf(i), [Buffer.from(`b${i}`)], 2));
    const first = read(slots[0]!);
    for (const s of slots.slice(1)) read(s);
    assert.equal(slots[0]!.parsed?.record, undefined, 'the oldest parsed record is dropped from its slot');
    assert.equal(slots.filter((s) => s.parsed?.record !== undefined).length, 3);
    const again = read(slots[0]!);
    assert.notEqual(again, first, 'parsed afresh');
    assert.deepEqual(again, first);
  });

  test('a large body that came as one chunk owning its buffer is kept as it is; the meta gets its own buffer', () => {
    const chunk = Buffer.alloc(64 * 1024, 1);
    const slot = packEntry(policyOf(2), [chunk], chunk.length);
    assert.equal(bodyOf(slot), chunk);
    assert.ok(slot.meta !== undefined && slot.meta.buffer !== chunk.buffer);
  });

  test('a 304-updated slot keeps its body and reads back the new record, also after the ring dropped it (written out then)', () => {
    for (const large of [false, true]) {
      const body = large ? Buffer.alloc(64 * 1024, 7) : Buffer.from('hello world');
      const reader = createEntryReader(2);
      const first = packEntry(policyOf(1), [body], body.length);
      reader.read(first);
      const updated = updatedSlot(first);
      const record = { kind: 'entry' as const, policy: policyOf(2), size: body.length };
      reader.remember(updated, record, true);
      assert.deepEqual(bodyOf(updated), body, 'the same body');
      assert.equal(reader.read(updated), record, 'the new record, kept parsed');
      assert.equal(updated.meta, undefined, 'nothing serialised while it stays parsed');
      assert.ok(entryCost(updated, 'k') >= entryCost(first, 'k'), 'counted as much as the slot it replaces');
      // Two other entries push it out of the ring: its meta is written then, and reads back as the new record.
      for (const i of [3, 4]) reader.read(packEntry(policyOf(i), [Buffer.from('x')], 1));
      assert.equal(updated.parsed?.record, undefined);
      const again = reader.read(updated);
      assert.notEqual(again, record, 'parsed afresh');
      assert.deepEqual(again, record);
      assert.deepEqual(bodyOf(updated), body);
      // Updated twice: the replaced slot's pending record is never written out.
      const second = updatedSlot(updated);
      reader.remember(second, { kind: 'entry', policy: policyOf(5), size: body.length }, true);
      const third = updatedSlot(second);
      reader.remember(third, { kind: 'entry', policy: policyOf(6), size: body.length }, true);
      reader.read(packEntry(policyOf(7), [Buffer.from('x')], 1));
      reader.read(packEntry(policyOf(8), [Buffer.from('x')], 1));
      assert.equal(second.parsed?.meta, undefined, 'a replaced slot is not serialised');
      assert.deepEqual(reader.read(third).policy, policyOf(6));
    }
  });
});
