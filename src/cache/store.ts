/**
 * @module The store contract every backend (memory, disk, Redis) implements, and the `--cache` spec parser.
 * A record is either a stored response (meta + a body read as a stream) or the Vary index of a URI.
 */
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.ts';
import { isRedisUrl, parseRedisUrl, REDIS_URL_FORMS } from '../util/redis-url.ts';
import { parseSize } from '../util/units.ts';
import type { PolicyObject } from './policy.ts';

export interface EntryRecord {
  kind: 'entry';
  /** http-cache-semantics `toObject()`: status, stored headers, request fields for Vary, response time. */
  policy: PolicyObject;
  /** Body length in bytes (the complete body: partial entries are never committed). */
  size: number;
}

/** Under the primary key when the stored response has Vary: which fields select the variant, and the generation. */
export interface VaryRecord {
  kind: 'vary';
  names: string[];
  generation: string;
}

export type CacheRecord = EntryRecord | VaryRecord;

/** A body being written into the store. Nothing is visible to readers until `commit()` resolves true. */
export interface BodyWriter {
  /** Resolves when the store can take more (the tee waits on it: backpressure). */
  write(chunk: Buffer): Promise<void>;
  /** Publish the entry; false when the store declined it (too big, store error). */
  commit(): Promise<boolean>;
  /** Drop everything written so far; safe to call more than once and after commit. */
  abort(): void;
  /** Why the store declined the entry when a write or the commit failed (ENOSPC, a Redis timeout); undefined otherwise. */
  failure?(): unknown;
}

/** null where the backend cannot tell cheaply (Redis is shared and bounded by its own maxmemory policy). */
export interface StoreStats {
  entries: number | null;
  bytes: number | null;
  maxBytes: number | null;
}

export interface CacheStore {
  readonly kind: 'memory' | 'disk' | 'redis';
  /** Largest body the store accepts; bigger ones stream through uncached. */
  readonly maxEntryBytes: number;
  get(key: string): Promise<CacheRecord | null>;
  /**
   * Optional, for a store in this process (memory): `get` answered at once, without a promise for the caller to
   * await (cache-lookup.ts; a hit and a miss each look up once).
   */
  getNow?(key: string): CacheRecord | null;
  /** The stored body of an entry record from `get` (integrity-checked where the store can). */
  openBody(key: string, record: EntryRecord): Promise<Readable>;
  /** Optional, for a store in this process (memory): `openBody` answered at once (throws where it would reject). */
  openNow?(key: string, record: EntryRecord): Readable;
  /** Start storing a response body; `record.size` is filled in at commit. */
  createWriter(key: string, record: EntryRecord, ttlMs: number): BodyWriter;
  /**
   * Optional, for a store in this process (memory): store a whole body at once, synchronously — what createWriter, one
   * write and commit do, without the writer and its promises (cache-fill.ts). True when stored.
   */
  putWhole?(key: string, record: EntryRecord, bytes: Buffer, ttlMs: number): boolean;
  /** Replace the meta of an existing entry (304 update) or put a Vary record. */
  putRecord(key: string, record: CacheRecord, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  stats(): StoreStats;
  close(): Promise<void>;
}

export type StoreSpec =
  | { kind: 'memory'; maxBytes: number }
  | { kind: 'disk'; dir: string; maxBytes: number }
  | { kind: 'redis'; url: string };

export const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_DISK_BYTES = 1024 * 1024 * 1024;

function sizeOf(text: string, what: string): number {
  const r = parseSize(text);
  if (!r.ok) throw new UsageError(`--cache ${what}: ${r.reason}`);
  if (r.value < 1024) throw new UsageError(`--cache ${what}: the size must be at least 1KiB`);
  return r.value;
}

/** `memory[:SIZE]`, `disk:DIR[:SIZE]`, a Redis URL (redis-connect.ts: single, Sentinel, Cluster). Bad specs are usage errors (exit 2). */
export function parseStoreSpec(text: string): StoreSpec {
  if (text === 'memory') return { kind: 'memory', maxBytes: DEFAULT_MEMORY_BYTES };
  if (text.startsWith('memory:')) return { kind: 'memory', maxBytes: sizeOf(text.slice(7), text) };
  if (isRedisUrl(text)) {
    const r = parseRedisUrl(text);
    if (!r.ok) throw new UsageError(`--cache ${text.replace(/\/\/[^@/]*@/, '//***@')}: ${r.reason}`);
    return { kind: 'redis', url: text };
  }
  if (text.startsWith('disk:')) {
    const rest = text.slice(5);
    // The size is the part after the last colon when it parses as a size; a DIR may itself contain colons.
    const i = rest.lastIndexOf(':');
    if (i > 0 && parseSize(rest.slice(i + 1)).ok) return { kind: 'disk', dir: rest.slice(0, i), maxBytes: sizeOf(rest.slice(i + 1), text) };
    if (rest === '') throw new UsageError('--cache disk:DIR needs a directory');
    return { kind: 'disk', dir: rest, maxBytes: DEFAULT_DISK_BYTES };
  }
  throw new UsageError(`--cache ${text}: expected memory[:SIZE], disk:DIR[:SIZE] or ${REDIS_URL_FORMS}`);
}
