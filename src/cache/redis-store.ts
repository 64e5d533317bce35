/**
 * @module Redis store (ioredis), for several ferry instances sharing one cache. Bodies are stored in bounded chunks
 * (256 KiB each, up to `maxEntryBytes`, default 16 MiB; bigger bodies stream through uncached) written while the body
 * streams; the record that makes an entry visible is written last, so a reader never sees a partial body.
 * Every key carries a TTL (the entry's retention); Redis's own maxmemory policy bounds the total.
 *
 * Keys: `<prefix>r:{<sha256(key)>}` → JSON {record, body, chunks}, then (when the record names a body) a newline
 * and the body's chunk 0; `<prefix>b:{<sha256(key)>}:<body id>:<i>` → chunk i ≥ 1 (and chunk 0 until the record is
 * written). The `{…}` hash tag puts an entry's record and chunks on one Redis Cluster slot, so the MULTI that
 * refreshes them, the commit script and the DEL that drops them work on a cluster too (redis-connect.ts). Every
 * command names every key it touches, the commit script included (KEYS): Redis Cluster routes by the declared keys,
 * and a script may not reach others (docs/cache.md "Redis").
 *
 * A hit takes one round trip when the body fits one chunk (issue 18; before: the record was read twice, then each
 * chunk): one GET returns the record with chunk 0, read atomically, and `openBody` starts from what `get` fetched for
 * that record object. A body that fits one chunk is written with its record in one SET; a longer one streams into
 * chunks, and its commit script moves chunk 0 into the record (so the record and its chunk 0 never disagree, even
 * while another fill replaces the entry). Records written before chunk 0 moved (JSON alone) are still read.
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

/** `chunks` counts chunk 0, which the record value carries after its JSON (`first`) once the entry is committed. */
interface Stored { record: CacheRecord; body: string | null; chunks: number }

/** A record value: its JSON, and chunk 0 when the value carries it (null: a record without one, or written before). */
interface Read { stored: Stored; first: Buffer | null }

/**
 * The commit of a body of several chunks. KEYS[1] the record, KEYS[2] the body's chunk 0; ARGV[1] the record's JSON,
 * ARGV[2] its TTL in ms. Chunk 0 moves into the record value, atomically with the record's write; 0 when it is gone.
 */
const COMMIT_MOVING_FIRST_CHUNK = `
local first = redis.call('GET', KEYS[2])
if not first then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. '\\n' .. first, 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
return 1
`;

/** What `get` read with an entry record, for `openBody` on the same record object (no second read). */
interface Prefetched { body: string; chunks: number; first: Buffer | null }

interface ScriptedRedis { ferryCommit(recordKey: string, firstChunkKey: string, json: string, ttlMs: number): Promise<number> }

const NEWLINE = 0x0a;

/** A record value → its JSON and chunk 0 (JSON.stringify never writes a raw newline, so the first one ends it). */
function parseValue(raw: Buffer): Read | null {
  const nl = raw.indexOf(NEWLINE);
  try {
    const stored = JSON.parse((nl === -1 ? raw : raw.subarray(0, nl)).toString()) as Stored;
    return { stored, first: nl === -1 ? null : raw.subarray(nl + 1) };
  } catch {
    return null;
  }
}

/** The record value for `stored` carrying `first` (or JSON alone). */
function valueOf(stored: Stored, first: Buffer | null): string | Buffer {
  const json = JSON.stringify(stored);
  return first === null ? json : Buffer.concat([Buffer.from(`${json}\n`), first]);
}

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
  redis.defineCommand('ferryCommit', { numberOfKeys: 2, lua: COMMIT_MOVING_FIRST_CHUNK });
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

  /** The record and its chunk 0, one GET. Rejects when Redis does not answer (the cache then bypasses it: store-health.ts); null for no or a bad record. */
  async function read(key: string): Promise<Read | null> {
    const raw = await redis.getBuffer(recordKey(key));
    return raw === null ? null : parseValue(raw);
  }

  /** The record, with its first chunk remembered for openBody; one round trip. */
  async function readWithFirstChunk(key: string): Promise<CacheRecord | null> {
    const got = await read(key);
    if (got === null) return null;
    const { stored, first } = got;
    if (stored.body !== null && stored.record.kind === 'entry') prefetched.set(stored.record, { body: stored.body, chunks: stored.chunks, first });
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
        const got = await read(key);
        if (got === null || got.stored.body === null || got.stored.record.kind !== 'entry') throw new Error('entry gone');
        ahead = { body: got.stored.body, chunks: got.stored.chunks, first: got.first };
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
            if (chunks === 0) {
              // the whole body is one chunk (or none): written with its record, one SET
              const first = Buffer.concat(pending, pendingBytes);
              pending = [];
              const stored: Stored = { record: { ...record, size: written }, body, chunks: first.length > 0 ? 1 : 0 };
              await redis.set(recordKey(key), valueOf(stored, first), 'PX', ttl(ttlMs));
            } else {
              await flush();
              const stored: Stored = { record: { ...record, size: written }, body, chunks };
              if (await scripted.ferryCommit(recordKey(key), chunkKey(body, 0), JSON.stringify(stored), ttl(ttlMs)) !== 1) throw new Error('cached body chunk expired before its commit');
            }
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
        const got = await read(key);
        const was = got?.stored.record;
        const body = got?.stored.body;
        if (got == null || was?.kind !== 'entry' || body == null) return;
        const next: Stored = { record: { ...record, size: was.size }, body, chunks: got.stored.chunks };
        // The chunks must live as long as the refreshed record (chunk 0 is in the record value, unless written before).
        const multi = redis.multi().set(recordKey(key), valueOf(next, got.first), 'PX', ttl(ttlMs));
        for (let i = got.first === null ? 0 : 1; i < next.chunks; i++) multi.pexpire(chunkKeyOf(key)(body, i), ttl(ttlMs + CHUNK_GRACE_MS));
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
