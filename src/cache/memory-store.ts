/**
 * @module In-process store: lru-cache bounded by bytes, counting what each entry really costs (compact-entry.ts).
 * A body is collected while it streams to the client and only inserted whole at commit, together with its meta, as
 * one buffer of its own outside the JavaScript heap (a hit is then one write: proxy/whole-body.ts); bodies over
 * `maxEntryBytes` are dropped as soon as they cross it, so the memory they hold is bounded too.
 */
import { LRUCache } from 'lru-cache';
import { WholeBody } from '../proxy/whole-body.ts';
import { bodyLength, bodyOf, createEntryReader, entryCost, packEntry, updatedSlot, VARY_SLOT_BYTES, type EntrySlot } from './compact-entry.ts';
import type { BodyWriter, CacheRecord, CacheStore, EntryRecord, StoreStats, VaryRecord } from './store.ts';

type Slot = EntrySlot | { kind: 'vary'; record: VaryRecord };

export function createMemoryStore(maxBytes: number): CacheStore {
  const maxEntryBytes = Math.max(1024, Math.floor(maxBytes / 4));
  const lru = new LRUCache<string, Slot>({
    maxSize: maxBytes,
    maxEntrySize: maxBytes,
    sizeCalculation: (s, key) => (s.kind === 'entry' ? entryCost(s, key) : VARY_SLOT_BYTES + key.length),
    ttlAutopurge: false,
  });
  const reader = createEntryReader();
  const set = (key: string, slot: Slot, ttlMs: number): void => {
    lru.set(key, slot, { ttl: ttlMs > 0 ? Math.ceil(ttlMs) : 1 });
  };
  /** An entry packed from its body's chunks; false when the LRU did not keep it (larger than it holds). */
  const putEntry = (key: string, record: EntryRecord, chunks: readonly Buffer[], bytes: number, ttlMs: number): boolean => {
    set(key, packEntry(record.policy, chunks, bytes), ttlMs);
    return lru.has(key);
  };
  const getNow = (key: string): CacheRecord | null => {
    const slot = lru.get(key);
    if (slot === undefined) return null;
    return slot.kind === 'entry' ? reader.read(slot) : slot.record;
  };
  const openNow = (key: string, record: EntryRecord): WholeBody => {
    const slot = lru.get(key);
    if (slot === undefined || slot.kind !== 'entry' || bodyLength(slot) !== record.size) throw new Error('entry gone');
    return new WholeBody(bodyOf(slot));
  };
  return {
    kind: 'memory',
    maxEntryBytes,
    get: async (key) => getNow(key),
    getNow,
    openBody: async (key, record) => openNow(key, record),
    openNow,
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
          const stored = putEntry(key, record, chunks, bytes, ttlMs);
          chunks = null;
          return stored;
        },
        abort: () => { chunks = null; },
      };
    },
    putWhole: (key, record, bytes, ttlMs) => {
      if (bytes.length > maxEntryBytes) return false;
      return putEntry(key, record, bytes.length === 0 ? [] : [bytes], bytes.length, ttlMs);
    },
    putRecord: async (key, record, ttlMs) => {
      if (record.kind === 'entry') {
        // A 304 update keeps the body; only the meta changes. The entry was just used: it stays parsed, and its meta is
        // written only if it stops being parsed (compact-entry.ts updatedSlot).
        const prev = lru.get(key);
        if (prev === undefined || prev.kind !== 'entry') return;
        const slot = updatedSlot(prev);
        reader.remember(slot, { kind: 'entry', policy: record.policy, size: bodyLength(prev) }, true);
        set(key, slot, ttlMs);
      } else {
        set(key, { kind: 'vary', record }, ttlMs);
      }
    },
    delete: async (key) => { lru.delete(key); },
    stats: (): StoreStats => ({ entries: lru.size, bytes: lru.calculatedSize, maxBytes }),
    close: async () => { lru.clear(); },
  };
}
