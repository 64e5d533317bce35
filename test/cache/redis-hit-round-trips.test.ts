/**
 * A Redis-store hit of a body under one chunk (256 KiB) is one round trip: one command for the record and its body
 * together (the commands clients sent, as Redis MONITOR reports them, without those a script ran), where it was
 * three (the record twice, then the chunk).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createRedisStore, REDIS_CHUNK_BYTES } from '../../src/cache/redis-store.ts';
import type { CacheStore, EntryRecord } from '../../src/cache/store.ts';
import { redisUnavailable, startRedis, watchCommands, type RunningRedis } from '../helpers/redis.ts';

const record: EntryRecord = { kind: 'entry', policy: { v: 1 } as unknown as EntryRecord['policy'], size: 0 };
const skip = redisUnavailable() ?? false;
let redis: RunningRedis | null = null;
after(async () => { await redis?.stop(); });

/** Counts the commands clients send (a script's own calls, source "lua", are not round trips). */
async function watch(url: string): Promise<{ sent(): number; sync(): Promise<void>; stop(): void }> {
  let n = 0;
  const w = await watchCommands(url, (_args, source) => { if (source !== 'lua') n++; });
  return { sent: () => n, sync: w.sync, stop: w.stop };
}

async function hit(store: CacheStore, key: string): Promise<Buffer> {
  const got = await store.get(key);
  assert.ok(got?.kind === 'entry', 'the entry is there');
  const parts: Buffer[] = [];
  for await (const c of await store.openBody(key, got)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Writes `body` as a response streams in, in pieces of at most 64 KiB. */
async function put(store: CacheStore, key: string, body: Buffer): Promise<void> {
  const w = store.createWriter(key, record, 60_000);
  for (let at = 0; at < body.length; at += 65536) await w.write(body.subarray(at, at + 65536));
  assert.equal(await w.commit(), true);
}

describe('redis store hit round trips', { skip }, () => {
  test('a 1 KiB entry is read in one command, body intact; a two-chunk entry in one more per further chunk', async () => {
    redis = await startRedis();
    const store = await createRedisStore(`${redis.url}/3`);
    const seen = await watch(redis.url);
    try {
      const small = Buffer.alloc(1024, 's');
      const large = Buffer.alloc(REDIS_CHUNK_BYTES + 100, 'l');
      await put(store, 'small', small);
      await put(store, 'large', large);
      await hit(store, 'small');
      await seen.sync();
      let before = seen.sent();
      assert.deepEqual(await hit(store, 'small'), small);
      await seen.sync();
      assert.equal(seen.sent() - before, 1, 'a small hit is one command');
      before = seen.sent();
      assert.deepEqual(await hit(store, 'large'), large);
      await seen.sync();
      assert.equal(seen.sent() - before, 2, 'the record with chunk 0 (one GET), then chunk 1');
    } finally {
      seen.stop();
      await store.close();
    }
  });
});
