/**
 * @module The memory store's compact entry: the stored policy (as JSON) and the body in one buffer outside the
 * JavaScript heap, parsed back into a record on a read and kept parsed for a bounded number of recently read entries.
 *
 * Why (issue 18, docs/performance.md "Cache: memory per entry"): a stored 1 KiB response held ~0.9 KB of JavaScript
 * objects (the policy object alone 0.47 KB) beside its body, and V8 lets the old generation grow to a multiple of
 * what is live between mark-compacts (server/heap-tuning.ts), so 33 000 entries took the process ~170 MiB over idle
 * for a 64 MiB store. Bytes in a buffer are neither traced nor copied by the garbage collector and are not multiplied
 * by the heap's growing factor; what is left on the heap per entry is a few small objects, counted in `entryCost`.
 */
import type { EntryRecord } from './store.ts';

export interface EntrySlot {
  kind: 'entry';
  /**
   * The policy record (`EntryRecord['policy']`) as UTF-8 JSON in the first `metaLength` bytes, then the body; or,
   * for a large body kept as it arrived, the body alone (`metaLength` 0) with the JSON in `meta`.
   */
  bytes: Buffer;
  metaLength: number;
  meta: Buffer | undefined;
  /** The record read from the meta, while this entry is among the last PARSED_LIMIT parsed (see `createEntryReader`). */
  parsed: Parsed | undefined;
  /** Bytes counted for a meta not written yet (a 304 update: `updatedSlot`). */
  reserved: number;
}

/**
 * A parsed record. `pending`: its slot's meta is not written yet (`updatedSlot`): it is, into `meta`, when the ring
 * drops the record; a slot that is replaced first never needs it.
 */
interface Parsed { record: EntryRecord | undefined; pending: boolean; meta: Buffer | undefined }

/**
 * JavaScript objects an entry keeps besides its bytes (the slot, the buffer and its ArrayBuffer, the native backing
 * store, the LRU's per-entry slots and the key's map entry), rounded up. test/cache/compact-entry.test.ts checks that
 * it covers the heap measured per entry (about 450 bytes on Node 24; the rest is the native side); counted so that the store's bound covers what
 * the store really holds.
 */
export const ENTRY_OVERHEAD_BYTES = 576;

/** What a Vary record costs in the store (a small object of names and a generation). */
export const VARY_SLOT_BYTES = 512;

/**
 * How many entries stay parsed: a hit on one of them costs no parse (the policy kit then also keeps its parsed
 * CachePolicy: policy-kit.ts). About 1 KB each, so at most ~4 MiB beside the store's bound.
 */
export const PARSED_LIMIT = 4096;

/** A body at least this large, arriving as one chunk that owns most of its buffer, is kept as it is (no copy). */
const KEEP_CHUNK_BYTES = 16 * 1024;

const EMPTY = Buffer.alloc(0);

/** The stored body (a view of the entry's buffer). */
export function bodyOf(slot: EntrySlot): Buffer {
  if (slot.metaLength === 0) return slot.bytes;
  return slot.bytes.length === slot.metaLength ? EMPTY : slot.bytes.subarray(slot.metaLength);
}

export function bodyLength(slot: EntrySlot): number {
  return slot.bytes.length - slot.metaLength;
}

/** What the store counts for an entry under `key`: its bytes, the key and the objects around them. */
export function entryCost(slot: EntrySlot, key: string): number {
  return slot.bytes.length + (slot.meta?.length ?? 0) + slot.reserved + key.length + ENTRY_OVERHEAD_BYTES;
}

/**
 * Meta and body in one buffer of their own. Body chunks may be slices of larger read buffers (a socket read that also
 * held the head or the next response): keeping a slice would keep the whole read buffer alive, uncounted, so the
 * bytes are copied (not with Buffer.concat nor Buffer.from: their small copies share a pool slab, the same problem
 * at a smaller scale) — except a large body that came as one chunk owning most of its buffer, kept as it is.
 */
export function packEntry(policy: EntryRecord['policy'], chunks: readonly Buffer[], bytes: number): EntrySlot {
  const json = JSON.stringify(policy);
  const metaLength = Buffer.byteLength(json);
  const first = chunks[0];
  if (chunks.length === 1 && bytes >= KEEP_CHUNK_BYTES && first!.buffer.byteLength <= 2 * first!.length) {
    const meta = Buffer.allocUnsafeSlow(metaLength);
    meta.write(json, 0, 'utf8');
    return { kind: 'entry', bytes: first!, metaLength: 0, meta, parsed: undefined, reserved: 0 };
  }
  const all = Buffer.allocUnsafeSlow(metaLength + bytes);
  all.write(json, 0, 'utf8');
  let at = metaLength;
  for (const c of chunks) { c.copy(all, at); at += c.length; }
  return { kind: 'entry', bytes: all, metaLength, meta: undefined, parsed: undefined, reserved: 0 };
}

/**
 * The slot of a 304 update (RFC 9111 §4.3.4): the same body (and buffer), new meta. The caller remembers the new
 * record as pending (`EntryReader.remember`): its JSON is written only if the ring drops it while the slot lives, so
 * an entry revalidated again and again (a client sending `no-cache`) is serialised and copied never, where a
 * repacked slot cost a JSON.stringify and a buffer per 304 (docs/performance.md, sixth round). The previous slot's
 * own pending meta is no longer needed. Counted as the previous meta's length (the new one differs by a few digits).
 */
export function updatedSlot(prev: EntrySlot): EntrySlot {
  if (prev.parsed !== undefined) prev.parsed.pending = false;
  const previousMeta = prev.parsed?.meta?.length ?? prev.meta?.length ?? prev.metaLength;
  // The large-body layout's separate meta is the old one: dropped. The one-buffer layout keeps its old meta bytes
  // (counted in `bytes`) ahead of the body.
  return { kind: 'entry', bytes: prev.bytes, metaLength: prev.metaLength, meta: undefined, parsed: undefined, reserved: previousMeta };
}

function metaBuffer(policy: EntryRecord['policy']): Buffer {
  const json = JSON.stringify(policy);
  const meta = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
  meta.write(json, 0, 'utf8');
  return meta;
}

/** Reads entry slots back into records; `remember` keeps a record the caller already has as the slot's parsed one. */
export interface EntryReader {
  read(slot: EntrySlot): EntryRecord;
  /** `pending`: the slot's meta is not written yet (`updatedSlot`); it is when the ring drops the record. */
  remember(slot: EntrySlot, record: EntryRecord, pending?: boolean): void;
}

/**
 * The last `limit` records parsed (or remembered) stay parsed (a ring: the oldest is dropped), so an entry read over
 * and over is parsed once, and the store's heap stays bounded whatever the number of entries. The ring holds the
 * small `Parsed` holders, not the slots: an evicted entry's buffer is never kept alive by it.
 */
export function createEntryReader(limit: number = PARSED_LIMIT): EntryReader {
  const ring: Array<Parsed | undefined> = new Array(limit);
  let next = 0;
  const remember = (slot: EntrySlot, record: EntryRecord, pending = false): void => {
    const holder: Parsed = { record, pending, meta: undefined };
    const old = ring[next];
    if (old !== undefined) {
      // Its slot's only meta is this record: write it out (the slot reaches it through `parsed`).
      if (old.pending && old.record !== undefined) old.meta = metaBuffer(old.record.policy);
      old.pending = false;
      old.record = undefined;
    }
    ring[next] = holder;
    next = (next + 1) % limit;
    slot.parsed = holder;
  };
  return {
    read: (slot) => {
      const kept = slot.parsed?.record;
      if (kept !== undefined) return kept;
      // A 304 update's meta written when the ring dropped it (`updatedSlot`) moves onto the slot itself.
      if (slot.parsed?.meta !== undefined) slot.meta = slot.parsed.meta;
      const meta = slot.meta ?? slot.bytes.subarray(0, slot.metaLength);
      const record: EntryRecord = { kind: 'entry', policy: JSON.parse(meta.toString('utf8')) as EntryRecord['policy'], size: bodyLength(slot) };
      remember(slot, record);
      return record;
    },
    remember,
  };
}
