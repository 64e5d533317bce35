/**
 * @module In-process store: lru-cache bounded by bytes (body + meta). A body is collected while it streams to the
 * client and only inserted whole at commit, as one buffer of its own (a hit is then one write: proxy/whole-body.ts);
 * bodies over `maxEntryBytes` are dropped as soon as they cross it, so the memory they hold is bounded too.
 */
import { LRUCache } from 'lru-cache';
import { WholeBody } from '../proxy/whole-body.ts';
import type { BodyWriter, CacheRecord, CacheStore, EntryRecord, StoreStats } from './store.ts';

interface Slot { record: CacheRecord; body: Buffer }

const EMPTY = Buffer.alloc(0);

/** Rough overhead of a record's meta, so many tiny entries also count against the bound. */
const META_BYTES = 1024;

/**
 * The body as the store keeps it: one buffer of its own. A body chunk may be a slice of a larger read buffer (a
 * socket read that also held the head or the next response), and keeping the slice would keep the whole buffer
 * alive, uncounted; a single chunk using at least half its buffer is kept as it is, anything else is copied into
 * one buffer of the body's size (not Buffer.concat nor Buffer.from: their small copies share a pool slab, the same
 * problem at a smaller scale). So what the store counts is what it holds.
 */
function ownBytes(chunks: Buffer[], bytes: number): Buffer {
  if (bytes === 0) return EMPTY;
  const first = chunks[0]!;
  if (chunks.length === 1 && first.buffer.byteLength <= 2 * first.length) return first;
  const own = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  for (const c of chunks) { c.copy(own, at); at += c.length; }
  return own;
}

export function createMemoryStore(maxBytes: number): CacheStore {
  const maxEntryBytes = Math.max(1024, Math.floor(maxBytes / 4));
  const lru = new LRUCache<string, Slot>({
    maxSize: maxBytes,
    maxEntrySize: maxBytes,
    sizeCalculation: (s) => s.body.length + META_BYTES,
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
      if (slot === undefined || slot.record.kind !== 'entry' || slot.body.length !== record.size) throw new Error('entry gone');
      return new WholeBody(slot.body);
    },
    createWriter(key, record: EntryRecord, ttlMs): BodyWriter {
      let chunks: Buffer[] | null = [];
      let bytes = 0;
      return {
        write: async (chunk) => {
          if (chunks === null) return;
          bytes += chunk.length;
          if (bytes > maxEntryBytes) chunks = null;
          else chunks.push(chunk);
        },
        commit: async () => {
          if (chunks === null) return false;
          set(key, { record: { ...record, size: bytes }, body: ownBytes(chunks, bytes) }, ttlMs);
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
        set(key, { record: { ...record, size: prev.body.length }, body: prev.body }, ttlMs);
      } else {
        set(key, { record, body: EMPTY }, ttlMs);
      }
    },
    delete: async (key) => { lru.delete(key); },
    stats: (): StoreStats => ({ entries: lru.size, bytes: lru.calculatedSize, maxBytes }),
    close: async () => { lru.clear(); },
  };
}
