/** Session decisions and the in-memory store: idempotent chunks, window, acks, expiry (RELIABILITY L3, L5, L8, L11). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyPatch, decideDownFetch, decideUpChunk, mayProduce, newSessionMeta, upFingerprint } from '../../src/relay/session.ts';
import { MemorySessionStore } from '../../src/relay/memory-session-store.ts';
import { formatContentDigest } from '../../src/relay/protocol.ts';

test('decideUpChunk: new → store, same bytes → duplicate, other bytes → conflict, beyond the window → busy', () => {
  assert.deepEqual(decideUpChunk(undefined, 'a', 0, 0, 4), { kind: 'store' });
  assert.deepEqual(decideUpChunk('a', 'a', 0, 1, 4), { kind: 'duplicate' });
  assert.deepEqual(decideUpChunk('a', 'b', 0, 1, 4), { kind: 'conflict' });
  assert.deepEqual(decideUpChunk('a', 'a;fin', 0, 1, 4), { kind: 'conflict' }, 'the fin flag is part of the fingerprint');
  assert.deepEqual(decideUpChunk(undefined, 'a', 4, 0, 4), { kind: 'busy' });
  assert.deepEqual(decideUpChunk(undefined, 'a', 3, 0, 4), { kind: 'store' });
});

test('decideDownFetch and mayProduce', () => {
  assert.deepEqual(decideDownFetch(0, { downAcked: 1, downProduced: 3 }), { kind: 'stale' });
  assert.deepEqual(decideDownFetch(2, { downAcked: 1, downProduced: 3 }), { kind: 'ready' });
  assert.deepEqual(decideDownFetch(3, { downAcked: 1, downProduced: 3 }), { kind: 'wait' });
  assert.equal(mayProduce(4, 0, 4), false);
  assert.equal(mayProduce(4, 1, 4), true);
  // issue 18: relay-server's window is a bound; it produces only chunks a client polled for (downWanted)
  assert.equal(mayProduce(4, 1, 16, 4), false);
  assert.equal(mayProduce(3, 1, 16, 4), true);
  assert.equal(mayProduce(12, 1, 16, 20), true);
  assert.equal(mayProduce(17, 1, 16, 20), false);
  assert.equal(mayProduce(4, 1, 16, undefined), true); // a record from an older relay-server: the window alone
});

test('applyPatch never moves counters backwards', () => {
  fc.assert(fc.property(fc.array(fc.record({ upDelivered: fc.nat(100), downAcked: fc.nat(100), downProduced: fc.nat(100) }, { requiredKeys: [] })), (patches) => {
    let m = newSessionMeta('s', 'http', 'd', 'o');
    for (const p of patches) {
      const next = applyPatch(m, p);
      assert.ok(next.upDelivered >= m.upDelivered && next.downAcked >= m.downAcked && next.downProduced >= m.downProduced);
      m = next;
    }
  }));
});

test('property: any mix of repeated, reordered and conflicting up messages delivers every chunk once, in order, unaltered', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.uint8Array({ minLength: 0, maxLength: 8 }), { minLength: 1, maxLength: 12 }),
    fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.boolean()), { minLength: 0, maxLength: 60 }),
    fc.integer({ min: 1, max: 4 }),
    async (chunks, noise, window) => {
      const store = new MemorySessionStore({ ttlMs: 60_000 });
      await store.create(newSessionMeta('s', 'http', 'd', 'o'));
      const fp = (i: number) => upFingerprint(formatContentDigest(Buffer.from(chunks[i]!)), i === chunks.length - 1);
      const delivered: Buffer[] = [];
      let next = 0;
      const owner = async () => { // the owner's up pump, one step
        for (;;) {
          const c = await store.takeUp('s', next);
          if (!c) return;
          delivered.push(c.data);
          next++;
          await store.update('s', { upDelivered: next });
        }
      };
      // The client: sends each chunk (in order, inside its window) at least once; the gateway adds repeats,
      // reorders and corrupted copies, drawn from `noise`.
      let sent = 0;
      let n = 0;
      while (next < chunks.length) {
        const [pick, repeat, corrupt] = noise[n++ % Math.max(noise.length, 1)] ?? [0, false, false];
        if (repeat && sent > 0) {
          const i = pick % sent;
          const body = Buffer.from(chunks[i]!);
          if (corrupt) {
            const r = await store.putUp('s', i, upFingerprint(formatContentDigest(Buffer.concat([body, Buffer.from([1])])), false), body, window);
            assert.ok(r.kind === 'conflict' || r.kind === 'busy' || r.kind === 'stored');
            if (r.kind === 'stored') return; // only possible if i was never sent: excluded by construction
          } else {
            const r = await store.putUp('s', i, fp(i), body, window);
            assert.ok(r.kind === 'duplicate' || r.kind === 'busy');
          }
        }
        if (sent < chunks.length) {
          const r = await store.putUp('s', sent, fp(sent), Buffer.from(chunks[sent]!), window);
          if (r.kind === 'stored') sent++;
          else assert.equal(r.kind, 'busy');
        }
        await owner();
      }
      assert.deepEqual(Buffer.concat(delivered), Buffer.concat(chunks.map((c) => Buffer.from(c))));
      assert.equal(delivered.length, chunks.length);
    },
  ), { numRuns: 300 });
});

test('memory store: down chunks are freed on ack, nonces are single-use, idle sessions are swept', async () => {
  let now = 1_000;
  const store = new MemorySessionStore({ ttlMs: 5_000, now: () => now });
  await store.create(newSessionMeta('s', 'connect', 'd', 'o'));
  assert.equal((await store.create(newSessionMeta('s', 'connect', 'other', 'o'))).kind, 'exists');
  for (let i = 0; i < 3; i++) await store.putDown('s', i, { type: 'data', fin: false, digest: 'x', data: [Buffer.alloc(4), Buffer.alloc(6)], length: 10 });
  assert.deepEqual(await store.census(), { sessions: 1, chunks: 3, bytes: 30 });
  await store.ackDown('s', 2);
  assert.deepEqual(await store.census(), { sessions: 1, chunks: 1, bytes: 10 });
  assert.equal(await store.getDown('s', 0), undefined);
  assert.ok(await store.getDown('s', 2));
  assert.equal(await store.claimNonce('n1', 600_000), true);
  assert.equal(await store.claimNonce('n1', 600_000), false);
  now += 4_000;
  await store.touch('s');
  now += 4_000;
  await store.sweep(now);
  assert.equal((await store.census()).sessions, 1, 'touched sessions live on');
  now += 5_001;
  await store.sweep(now);
  assert.deepEqual(await store.census(), { sessions: 0, chunks: 0, bytes: 0 });
  assert.equal(await store.get('s'), undefined);
  assert.deepEqual(await store.putUp('s', 0, 'x', Buffer.alloc(0), 4), { kind: 'gone' });
});

test('store.wait wakes on notify and otherwise ends at its bound', async () => {
  const store = new MemorySessionStore({ ttlMs: 5_000 });
  let woke = false;
  const p = store.wait('s', 60_000).then(() => { woke = true; });
  store.notify('s');
  await p;
  assert.equal(woke, true);
  await store.wait('s', 1);
});
