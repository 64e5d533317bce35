/**
 * @module Disk store on cacache: content-addressed files written through a temp file while the body streams
 * (so a crash or an abort never leaves a visible partial entry), SHA-512 integrity checked on every read, and an
 * index that survives restarts. cacache has no size bound, so an in-process LRU (rebuilt from the index at start)
 * tracks bytes and evicts the least recently used entries past the bound.
 */
import { createHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import cacache from 'cacache';
// A private file of cacache, and below its write stream's undeclared `inputStream` and `promise()`: the public
// `put.stream` fixes the index metadata (ferry's record, with its size) when the write starts, and inserts the index
// entry by itself when the body ends, with no way to abort but erroring that same private `inputStream`. ferry
// needs the content written first and the index entry (final size, expiry) inserted only on commit, so
// package.json pins cacache to exactly 21.0.2: an update is a deliberate step (re-run test/cache/stores.test.ts,
// test/cache/cache-stores.test.ts and `npm run conformance -- disk`), not a caret range drifting under us.
import contentWrite from 'cacache/lib/content/write.js';
import { LRUCache } from 'lru-cache';
import type { BodyWriter, CacheRecord, CacheStore, EntryRecord, StoreStats } from './store.ts';
import { steadyNow } from '../util/clock.ts';

/** What ferry keeps as cacache metadata. */
interface DiskMeta { record: CacheRecord; expiresAt: number }
interface Held { integrity: string; size: number }
interface Found { record: CacheRecord; held: Held; path: string; expiresAt: number }

const RECENT_MS = 1000;

const META_BYTES = 1024;

/** Passes bytes on while hashing them; errors at the end if the SRI digest (`sha512-<base64>`) or size differ. */
export function createIntegrityCheck(integrity: string, size: number): Transform {
  const m = /^(sha512|sha384|sha256|sha1)-(\S+)/.exec(integrity.trim());
  const hash = m ? createHash(m[1]!) : null;
  let seen = 0;
  // The latest chunk is held back until the check passed, so the client never gets a complete-looking bad body.
  let last: Buffer | null = null;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      hash?.update(chunk);
      if (seen > size) { cb(new Error(`cached body is longer than ${size} bytes`)); return; }
      const out = last;
      last = chunk;
      cb(null, out ?? undefined);
    },
    flush(cb) {
      if (seen !== size) { cb(new Error(`cached body has ${seen} bytes, expected ${size}`)); return; }
      if (hash === null || hash.digest('base64') !== m![2]) { cb(new Error('cached body failed its integrity check')); return; }
      cb(null, last ?? undefined);
    },
  });
}

/** Wait for 'drain' or 'error', then remove both listeners (racing two `once` leaked one per chunk). */
function drainOrError(ws: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => { ws.off('drain', done); ws.off('error', done); resolve(); };
    ws.on('drain', done);
    ws.on('error', done);
  });
}

function isDiskMeta(v: unknown): v is DiskMeta {
  return typeof v === 'object' && v !== null && 'record' in v && 'expiresAt' in v;
}

// Long by design: a factory whose body is the store object (get, writer, delete, sweep — each a few lines); the
// closure keeps the index, sizes and timers private to one store.
export async function createDiskStore(dir: string, maxBytes: number, clock: () => number = steadyNow): Promise<CacheStore> {
  await mkdir(dir, { recursive: true });
  // Index reads cost a file read and parse per request; remember recent ones for a second. Our own writes drop them
  // at once; another worker's writes to a shared directory are seen within RECENT_MS.
  const recent = new LRUCache<string, Found>({ max: 10_000, ttl: RECENT_MS, ttlAutopurge: false });
  let writes = 0;
  const touched = (key: string): void => { writes++; recent.delete(key); };
  const maxEntryBytes = Math.max(1024, Math.floor(maxBytes / 4));
  // Several keys may hold the same bytes (content addressing): content goes when its last key goes.
  const refs = new Map<string, number>();
  const ref = (integrity: string, d: number): void => {
    const n = (refs.get(integrity) ?? 0) + d;
    if (n > 0) { refs.set(integrity, n); return; }
    refs.delete(integrity);
    cacache.rm.content(dir, integrity).catch(() => {});
  };
  const lru = new LRUCache<string, Held>({
    maxSize: maxBytes,
    sizeCalculation: (h) => h.size + META_BYTES,
    dispose: (held, key, reason) => {
      touched(key);
      if (reason === 'evict' || reason === 'delete') cacache.rm.entry(dir, key, { removeFully: true }).catch(() => {});
      ref(held.integrity, -1);
    },
  });
  const hold = (key: string, held: Held): void => {
    touched(key);
    ref(held.integrity, +1);
    lru.set(key, held);
  };

  // Restart: rebuild the bound from the on-disk index, oldest first so the LRU order matches use order roughly.
  const listed = Object.values(await cacache.ls(dir)).sort((a, b) => a.time - b.time);
  for (const e of listed) {
    if (!isDiskMeta(e.metadata) || e.metadata.expiresAt <= clock()) { cacache.rm.entry(dir, e.key, { removeFully: true }).catch(() => {}); continue; }
    hold(e.key, { integrity: e.integrity, size: e.size });
  }

  const meta = (record: CacheRecord, ttlMs: number): DiskMeta => ({ record, expiresAt: clock() + Math.max(ttlMs, 1) });

  async function lookup(key: string): Promise<Found | null> {
    const hit = recent.get(key);
    if (hit !== undefined && hit.expiresAt > clock()) return hit;
    const before = writes;
    const found = await readIndex(key);
    // A write that happened while we read may have made this answer old: do not remember it.
    if (found !== null && writes === before) recent.set(key, found);
    return found;
  }

  async function readIndex(key: string): Promise<Found | null> {
    const info = await cacache.get.info(dir, key);
    if (info === null || !isDiskMeta(info.metadata)) { lru.delete(key); return null; }
    if (info.metadata.expiresAt <= clock()) { lru.delete(key); return null; }
    const held = lru.get(key);
    // Another worker sharing the directory may have written it: adopt it into our bound.
    if (held === undefined || held.integrity !== info.integrity) hold(key, { integrity: info.integrity, size: info.size });
    return { record: info.metadata.record, held: { integrity: info.integrity, size: info.size }, path: info.path, expiresAt: info.metadata.expiresAt };
  }

  return {
    kind: 'disk',
    maxEntryBytes,
    get: async (key) => (await lookup(key))?.record ?? null,
    openBody: async (key, record: EntryRecord): Promise<Readable> => {
      const found = await lookup(key);
      if (found === null) throw new Error('entry gone');
      // Not cacache's read stream: it reads 64 MiB at a time. 64 KiB reads, with the SHA-512 and the size checked
      // as the bytes pass; a mismatch errors the stream before its end, so a corrupt body never looks complete.
      // Opened now: if the entry is replaced or evicted while we read, the open file stays readable (unlink).
      const fh = await open(found.path, 'r');
      const source = fh.createReadStream({ highWaterMark: 64 * 1024 });
      const check = createIntegrityCheck(found.held.integrity, record.size);
      source.on('error', (err) => check.destroy(err));
      check.on('close', () => source.destroy());
      return source.pipe(check);
    },
    createWriter(key, record: EntryRecord, ttlMs): BodyWriter {
      const ws = contentWrite.stream(dir, {});
      let integrity: string | undefined;
      let size = 0;
      let state: 'open' | 'done' = 'open';
      let failed: unknown = null;
      ws.on('integrity', (i: unknown) => { integrity = String(i); });
      // The first error is the cause (ENOSPC, EROFS, EACCES); the error of our own abort (a client gone) is none.
      let aborting = false;
      ws.on('error', (e: unknown) => { if (!aborting) failed ??= e; });
      const drop = (): void => {
        if (state === 'done') return;
        state = 'done';
        aborting = true;
        // After a write error (ENOSPC…) cacache has closed and deleted its temp file. Otherwise the content is ended
        // normally and then removed unless another key holds the same bytes: erroring cacache's (private) input
        // instead, as before, deleted the temp file but left its descriptor open in fs-minipass — one leaked fd, and
        // the file's blocks never freed, per aborted transfer (found by test/reliability/cache-disk-full.test.ts).
        if (size === 0 || failed !== null) return;
        ws.end();
        ws.promise().then(() => {
          if (integrity !== undefined && !refs.has(integrity)) return cacache.rm.content(dir, integrity);
          return undefined;
        }).catch(() => { /* a failed write left nothing behind (cacache removes its temp file) */ });
      };
      return {
        async write(chunk) {
          if (state !== 'open') return;
          size += chunk.length;
          if (size > maxEntryBytes || failed !== null) { drop(); return; }
          if (!ws.write(chunk)) await drainOrError(ws);
        },
        async commit() {
          if (state !== 'open' || failed !== null) { drop(); return false; }
          state = 'done';
          try {
            if (size === 0) integrity = String(await cacache.put(dir, key, new Uint8Array(0), { metadata: meta({ ...record, size }, ttlMs) }));
            else {
              ws.end();
              await ws.promise();
              if (integrity === undefined) return false;
              await cacache.index.insert(dir, key, integrity, { metadata: meta({ ...record, size }, ttlMs), size });
            }
            hold(key, { integrity: integrity ?? '', size });
            return lru.has(key);
          } catch (err) {
            failed ??= err;
            return false;
          }
        },
        abort: drop,
        // ENOSPC, EROFS, EACCES from the content write or the index insert: reported by the fill (store-health.ts).
        failure: () => failed ?? undefined,
      };
    },
    async putRecord(key, record, ttlMs) {
      if (record.kind === 'entry') {
        const found = await lookup(key);
        if (found === null || found.record.kind !== 'entry') return;
        await cacache.index.insert(dir, key, found.held.integrity, { metadata: meta({ ...record, size: found.held.size }, ttlMs), size: found.held.size });
        touched(key);
        return;
      }
      const integrity = String(await cacache.put(dir, key, new Uint8Array(0), { metadata: meta(record, ttlMs) }));
      hold(key, { integrity, size: 0 });
    },
    async delete(key) {
      touched(key);
      lru.delete(key);
      await cacache.rm.entry(dir, key, { removeFully: true }).catch(() => {});
    },
    stats: (): StoreStats => ({ entries: lru.size, bytes: lru.calculatedSize, maxBytes }),
    close: async () => {},
  };
}
