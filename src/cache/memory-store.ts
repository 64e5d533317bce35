/**
 * @module In-process store: lru-cache bounded by bytes (body + meta). A body is collected while it streams to the
 * client and only inserted whole at commit; bodies over `maxEntryBytes` are dropped as soon as they cross it, so
 * the memory they hold is bounded too.
 */
import { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { BodyWriter, CacheRecord, CacheStore, EntryRecord, StoreStats } from './store.ts';

interface Slot { record: CacheRecord; chunks: Buffer[]; bytes: number }

/** Rough overhead of a record's meta, so many tiny entries also count against the bound. */
const META_BYTES = 1024;

/**
 * A chunk as the store keeps it: a body chunk may be a slice of a larger read buffer (a socket read that also held
 * the head or the next response), and keeping the slice would keep the whole buffer alive, uncounted. A chunk using
 * less than half its buffer is copied into one of its own size, so what the store counts is what it holds.
 */
function ownBytes(chunk: Buffer): Buffer {
  if (chunk.buffer.byteLength <= 2 * chunk.length) return chunk;
  // not Buffer.from (its small copies share a pool slab, the same problem at a smaller scale)
  const own = Buffer.allocUnsafeSlow(chunk.length);
  chunk.copy(own);
  return own;
}

export function createMemoryStore(maxBytes: number): CacheStore {
  const maxEntryBytes = Math.max(1024, Math.floor(maxBytes / 4));
  const lru = new LRUCache<string, Slot>({
    maxSize: maxBytes,
    maxEntrySize: maxBytes,
    sizeCalculation: (s) => s.bytes + META_BYTES,
    ttlAutopurge: false,
  });
  const set = (key: string, slot: Slot, ttlMs: number): void => {
    lru.set(key, slot, { ttl: ttlMs > 0 ? Math.ceil(ttlMs) : 1 });
  };
  return {
    kind: 'memory',
    maxEntryBytes,
    get: async (key) => lru.get(key)?.record ?? null,
    openBody: async (key, record) => {
      const slot = lru.get(key);
      if (slot === undefined || slot.record.kind !== 'entry' || slot.bytes !== record.size) throw new Error('entry gone');
      return Readable.from(slot.chunks, { objectMode: false });
    },
    createWriter(key, record: EntryRecord, ttlMs): BodyWriter {
      let chunks: Buffer[] | null = [];
      let bytes = 0;
      return {
        write: async (chunk) => {
          if (chunks === null) return;
          bytes += chunk.length;
          if (bytes > maxEntryBytes) chunks = null;
          else chunks.push(ownBytes(chunk));
        },
        commit: async () => {
          if (chunks === null) return false;
          set(key, { record: { ...record, size: bytes }, chunks, bytes }, ttlMs);
          chunks = null;
          return lru.has(key);
        },
        abort: () => { chunks = null; },
      };
    },
    putRecord: async (key, record, ttlMs) => {
      const prev = lru.get(key);
      if (record.kind === 'entry') {
        // A 304 update keeps the body; only the meta changes.
        if (prev === undefined || prev.record.kind !== 'entry') return;
        set(key, { record: { ...record, size: prev.bytes }, chunks: prev.chunks, bytes: prev.bytes }, ttlMs);
      } else {
        set(key, { record, chunks: [], bytes: 0 }, ttlMs);
      }
    },
    delete: async (key) => { lru.delete(key); },
    stats: (): StoreStats => ({ entries: lru.size, bytes: lru.calculatedSize, maxBytes }),
    close: async () => { lru.clear(); },
  };
}
