/**
 * The session store owns the lifetime of the bytes lent to it (session-store.ts `Release`): each store, memory and
 * Redis, calls a chunk's release exactly once, and only once nothing it holds reads the bytes. The caller never asks
 * which store it has.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemorySessionStore } from '../../src/relay/memory-session-store.ts';
import { RedisSessionStore } from '../../src/relay/redis-session-store.ts';
import { newSessionMeta, upFingerprint } from '../../src/relay/session.ts';
import type { SessionStore } from '../../src/relay/session-store.ts';
import { formatContentDigest } from '../../src/relay/protocol.ts';
import { redisUnavailable, startRedis, type RunningRedis } from '../helpers/redis.ts';

/** A release that counts its calls. */
function counter() {
  const c = { n: 0, release: () => { c.n++; } };
  return c;
}
const fp = (b: Buffer, fin = false) => upFingerprint(formatContentDigest(b), fin);

/** What every store must do with lent up and down bytes; `copies`: the store keeps a copy (releases at once). */
async function checkLifetime(store: SessionStore, copies: boolean): Promise<void> {
  const id = `s-${Math.random().toString(36).slice(2)}`;
  await store.create(newSessionMeta(id, 'http', 'd', 'o'));
  const a = Buffer.from('first chunk');
  const stored = counter();
  assert.deepEqual(await store.putUp(id, 0, fp(a), a, 2, stored.release), { kind: 'stored' });
  assert.equal(stored.n, copies ? 1 : 0, copies ? 'a copying store gives the bytes back at once' : 'kept while the chunk waits for the owner');
  const again = counter();
  assert.deepEqual(await store.putUp(id, 0, fp(a), Buffer.from(a), 2, again.release), { kind: 'duplicate' });
  assert.equal(again.n, 1, 'a duplicate is not kept: released at once');
  const other = counter();
  assert.deepEqual(await store.putUp(id, 0, fp(Buffer.from('other')), Buffer.from('other'), 2, other.release), { kind: 'conflict' });
  assert.equal(other.n, 1, 'a conflicting chunk is released at once');
  const busy = counter();
  assert.deepEqual(await store.putUp(id, 2, fp(a), a, 2, busy.release), { kind: 'busy' });
  assert.equal(busy.n, 0, 'busy: the caller still has the bytes, to try again');
  const taken = await store.takeUp(id, 0);
  assert.equal(taken?.data.toString(), 'first chunk');
  taken!.release();
  assert.equal(stored.n, 1, 'given back once, when the reader is done');

  const down = [counter(), counter()];
  for (const [i, c] of down.entries()) {
    await store.putDown(id, i, { type: 'data', fin: false, digest: 'x', data: [Buffer.from(`down ${i}`)], length: 6 }, c.release);
  }
  assert.deepEqual(down.map((c) => c.n), copies ? [1, 1] : [0, 0], 'down bytes: kept until confirmed, unless copied');
  assert.equal(Buffer.concat((await store.getDown(id, 1))!.data).toString(), 'down 1');
  await store.ackDown(id, 1);
  assert.deepEqual(down.map((c) => c.n), [1, copies ? 1 : 0], 'confirmed chunk released, the other one kept');
  await store.ackDown(id, 2);
  await store.ackDown(id, 2);
  assert.deepEqual(down.map((c) => c.n), [1, 1], 'each exactly once');
  await store.remove(id);
}

describe('the store owns the lifetime of lent bytes', () => {
  it('memory store: keeps the bytes (no copy) until read or confirmed', async () => {
    await checkLifetime(new MemorySessionStore({ ttlMs: 5_000 }), false);
  });

  const skip = redisUnavailable();
  describe('Redis store', { skip: skip ?? false }, () => {
    let redis: RunningRedis;
    let store: RedisSessionStore;
    before(async () => { redis = await startRedis(); store = await RedisSessionStore.connect(redis.url, 5_000); });
    after(async () => { await store.close(); await redis.stop(); });
    it('copies the bytes, and gives them back at once', async () => { await checkLifetime(store, true); });
  });
});

describe('a removed session: what the store still held is abandoned (left to the GC), never released', () => {
  it('memory store: each held chunk abandoned once, none released', async () => {
    const store = new MemorySessionStore({ ttlMs: 5_000 });
    const id = 's-removed';
    await store.create(newSessionMeta(id, 'http', 'd', 'o'));
    const calls: string[] = [];
    const lent = (name: string) => Object.assign(() => { calls.push(`release ${name}`); }, { abandon: () => { calls.push(`abandon ${name}`); } });
    const a = Buffer.from('up 0');
    assert.deepEqual(await store.putUp(id, 0, fp(a), a, 4, lent('up 0')), { kind: 'stored' });
    await store.putDown(id, 0, { type: 'data', fin: false, digest: 'x', data: [Buffer.from('down 0')], length: 6 }, lent('down 0'));
    await store.putDown(id, 1, { type: 'data', fin: true, digest: 'x', data: [Buffer.from('down 1')], length: 6 }, lent('down 1'));
    await store.ackDown(id, 1);
    assert.deepEqual(calls, ['release down 0']);
    await store.remove(id);
    await store.remove(id);
    assert.deepEqual(calls.sort(), ['abandon down 1', 'abandon up 0', 'release down 0']);
  });
});
