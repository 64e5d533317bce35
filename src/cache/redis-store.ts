/**
 * @module Redis store (ioredis), for several ferry instances sharing one cache. Bodies are stored in bounded chunks
 * (256 KiB each, up to `maxEntryBytes`, default 16 MiB; bigger bodies stream through uncached) written while the body
 * streams; the record that makes an entry visible is written last, so a reader never sees a partial body.
 * Every key carries a TTL (the entry's retention); Redis's own maxmemory policy bounds the total.
 *
 * Keys: `<prefix>r:{<sha256(key)>}` → JSON {record, body, chunks}; `<prefix>b:{<sha256(key)>}:<body id>:<i>` →
 * chunk i. The `{…}` hash tag puts an entry's record and chunks on one Redis Cluster slot, so the MULTI that
 * refreshes them and the DEL that drops them work on a cluster too (redis-connect.ts).
 *
 * A hit takes one round trip when the body fits one chunk (issue 18; before: the record was read twice, then each
 * chunk): a script defined once with ioredis `defineCommand` (sent by EVALSHA, loaded on NOSCRIPT) returns the
 * record and its first chunk together, and `openBody` starts from what `get` fetched for that record object.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { createRedisClient } from '../util/redis-connect.ts';
import type { BodyWriter, CacheRecord, CacheStore, EntryRecord, StoreStats } from './store.ts';

export const REDIS_CHUNK_BYTES = 256 * 1024;
export const DEFAULT_REDIS_MAX_ENTRY_BYTES = 16 * 1024 * 1024;
/** Chunks outlive their record a little, so a reader that just fetched the record can still read the body. */
const CHUNK_GRACE_MS = 60_000;

interface Stored { record: CacheRecord; body: string | null; chunks: number }

/**
 * KEYS[1] the record, ARGV[1] the chunk key prefix: the record and, when it names a body, that body's chunk 0, read
 * atomically (so the chunk is the record's). The chunk key is built from the record; it carries the record's hash tag,
 * so on Redis Cluster both live in one slot (a key not named in KEYS, which a cluster serves when it is in the slot).
 */
const READ_WITH_FIRST_CHUNK = `
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local ok, stored = pcall(cjson.decode, raw)
if not ok or type(stored) ~= 'table' or type(stored.body) ~= 'string' then return {raw} end
return {raw, redis.call('GET', ARGV[1] .. stored.body .. ':0')}
`;

/** What `get` read with an entry record, for `openBody` on the same record object (no second read). */
interface Prefetched { body: string; chunks: number; first: Buffer | null }

type ReadReply = [Buffer] | [Buffer, Buffer | null] | null;
interface ScriptedRedis { ferryReadFirstBuffer(key: string, chunkPrefix: string): Promise<ReadReply> }

export interface RedisStoreOptions { prefix?: string; maxEntryBytes?: number }

/** Connects (waiting up to `connectTimeoutMs` for Redis; if it is down, the store starts anyway and answers "miss"). */
// Long by design: a factory whose body is the store object (get, writer, delete — each a few lines) around one
// ioredis client and its scripts, kept private to the store by the closure.
export async function createRedisStore(url: string, options: RedisStoreOptions & { connectTimeoutMs?: number } = {}): Promise<CacheStore> {
  const prefix = options.prefix ?? 'ferry:cache:';
  const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_REDIS_MAX_ENTRY_BYTES;
  // Fail fast when Redis is down or slow (no offline queue, 1 s per command): the cache then answers "miss" and
  // requests go to the origin instead of waiting on reconnects.
  const redis = createRedisClient(url);
  redis.on('error', () => { /* reported per command; reconnects on its own */ });
  redis.defineCommand('ferryReadFirst', { numberOfKeys: 1, lua: READ_WITH_FIRST_CHUNK });
  const scripted = redis as unknown as ScriptedRedis;
  const prefetched = new WeakMap<CacheRecord, Prefetched>();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    once(redis, 'ready').catch(() => {}),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, options.connectTimeoutMs ?? 2000); }),
  ]);
  clearTimeout(timer);
  const slot = (key: string): string => createHash('sha256').update(key).digest('base64url');
  const recordKey = (key: string): string => `${prefix}r:{${slot(key)}}`;
  const chunkKeyOf = (key: string) => (body: string, i: number): string => `${prefix}b:{${slot(key)}}:${body}:${i}`;
  const ttl = (ms: number): number => Math.max(1, Math.ceil(ms));

  /** Rejects when Redis does not answer (the cache then bypasses it: store-health.ts); null for no or a bad record. */
  async function read(key: string): Promise<Stored | null> {
    const raw = await redis.get(recordKey(key));
    if (raw === null) return null;
    try { return JSON.parse(raw) as Stored; } catch { return null; }
  }

  /** The record, with its first chunk remembered for openBody; one round trip. */
  async function readWithFirstChunk(key: string): Promise<CacheRecord | null> {
    // (rejects when Redis does not answer: the cache then bypasses it, store-health.ts)
    const reply = await scripted.ferryReadFirstBuffer(recordKey(key), `${prefix}b:{${slot(key)}}:`);
    if (reply === null) return null;
    let stored: Stored;
    try { stored = JSON.parse(reply[0].toString()) as Stored; } catch { return null; }
    if (stored.body !== null && stored.record.kind === 'entry') {
      prefetched.set(stored.record, { body: stored.body, chunks: stored.chunks, first: reply[1] ?? null });
    }
    return stored.record;
  }

  return {
    kind: 'redis',
    maxEntryBytes,
    get: readWithFirstChunk,
    async openBody(key, record: EntryRecord) {
      const chunkKey = chunkKeyOf(key);
      let ahead = prefetched.get(record);
      prefetched.delete(record);
      if (ahead === undefined) {
        const stored = await read(key);
        if (stored === null || stored.body === null || stored.record.kind !== 'entry') throw new Error('entry gone');
        ahead = { body: stored.body, chunks: stored.chunks, first: null };
      }
      const { body, chunks } = ahead;
      let first = ahead.first;
      let i = 0;
      let seen = 0;
      return new Readable({
        async read() {
          try {
            if (i >= chunks) {
              if (seen !== record.size) throw new Error(`cached body has ${seen} bytes, expected ${record.size}`);
              this.push(null);
              return;
            }
            const buf = i === 0 && first !== null ? first : await redis.getBuffer(chunkKey(body, i));
            i++;
            first = null;
            if (buf === null) throw new Error('cached body chunk expired');
            seen += buf.length;
            this.push(buf);
          } catch (err) {
            this.destroy(err as Error);
          }
        },
      });
    },
    createWriter(key, record: EntryRecord, ttlMs): BodyWriter {
      const chunkKey = chunkKeyOf(key);
      const body = randomUUID();
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let written = 0;
      let chunks = 0;
      let state: 'open' | 'done' = 'open';
      let failure: unknown;
      const flush = async (): Promise<void> => {
        if (pendingBytes === 0) return;
        const buf = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await redis.set(chunkKey(body, chunks++), buf, 'PX', ttl(ttlMs + CHUNK_GRACE_MS));
      };
      const drop = (): void => {
        if (state === 'done') return;
        state = 'done';
        pending = [];
        const keys = Array.from({ length: chunks }, (_, i) => chunkKey(body, i));
        if (keys.length > 0) redis.del(...keys).catch(() => {});
      };
      return {
        async write(chunk) {
          if (state !== 'open') return;
          written += chunk.length;
          if (written > maxEntryBytes) { drop(); return; }
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= REDIS_CHUNK_BYTES) {
            try { await flush(); } catch (err) { failure = err; drop(); }
          }
        },
        async commit() {
          if (state !== 'open') return false;
          try {
            await flush();
            const stored: Stored = { record: { ...record, size: written }, body, chunks };
            await redis.set(recordKey(key), JSON.stringify(stored), 'PX', ttl(ttlMs));
            state = 'done';
            return true;
          } catch (err) {
            failure = err;
            drop();
            return false;
          }
        },
        abort: drop,
        failure: () => failure,
      };
    },
    async putRecord(key, record, ttlMs) {
      if (record.kind === 'entry') {
        const stored = await read(key);
        if (stored === null || stored.record.kind !== 'entry' || stored.body === null) return;
        const next: Stored = { record: { ...record, size: stored.record.size }, body: stored.body, chunks: stored.chunks };
        // The chunks must live as long as the refreshed record.
        const multi = redis.multi().set(recordKey(key), JSON.stringify(next), 'PX', ttl(ttlMs));
        for (let i = 0; i < stored.chunks; i++) multi.pexpire(chunkKeyOf(key)(stored.body, i), ttl(ttlMs + CHUNK_GRACE_MS));
        await multi.exec();
        return;
      }
      await redis.set(recordKey(key), JSON.stringify({ record, body: null, chunks: 0 } satisfies Stored), 'PX', ttl(ttlMs));
    },
    async delete(key) {
      await redis.del(recordKey(key)).catch(() => {});
    },
    stats: (): StoreStats => ({ entries: null, bytes: null, maxBytes: null }),
    close: async () => { redis.disconnect(); },
  };
}
