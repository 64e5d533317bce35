/** @module The in-process session store (one relay-server instance): maps, an idle clock, a sweep. */
import { applyPatch, decideUpChunk, parseUpFingerprint, type SessionMeta, type SessionPatch } from './session.ts';
import { NO_RELEASE, Waiters, type CreateResult, type DownChunk, type PutUpResult, type Release, type SessionStore, type UpChunk } from './session-store.ts';
import { monotonicNow } from '../util/clock.ts';

interface Entry {
  meta: SessionMeta;
  lastSeenMs: number;
  upFingerprints: Map<number, string>;
  up: Map<number, UpChunk>;
  /** Down chunks with how to give their bytes back once the client confirmed them. */
  down: Map<number, { chunk: DownChunk; release: Release }>;
}

/**
 * Bytes lent to this store stay referenced (no copy) until their reader is done: an up chunk until the owner's pump
 * wrote it to the target, a down chunk until the client confirmed it. A removed or expired session's chunks are left
 * to the GC, not given back: a reply may still be writing them.
 */

export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory' as const;
  readonly #sessions = new Map<string, Entry>();
  readonly #nonces = new Map<string, number>();
  readonly #waiters = new Waiters();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    // Session and nonce expiry are durations: the monotonic clock, not the wall clock.
    this.#now = options.now ?? monotonicNow;
  }

  async create(meta: SessionMeta): Promise<CreateResult> {
    const e = this.#sessions.get(meta.id);
    if (e) return { kind: 'exists', meta: e.meta };
    this.#sessions.set(meta.id, { meta, lastSeenMs: this.#now(), upFingerprints: new Map(), up: new Map(), down: new Map() });
    this.notify(meta.id); // wakes messages that overtook their open (relay-decisions.ts decideArrival)
    return { kind: 'created' };
  }

  async get(id: string): Promise<SessionMeta | undefined> {
    return this.#sessions.get(id)?.meta;
  }

  async update(id: string, patch: SessionPatch): Promise<void> {
    const e = this.#sessions.get(id);
    if (!e) return;
    e.meta = applyPatch(e.meta, patch);
    this.notify(id);
  }

  async touch(id: string): Promise<void> {
    const e = this.#sessions.get(id);
    if (e) e.lastSeenMs = this.#now();
  }

  async putUp(id: string, index: number, fingerprint: string, data: Buffer, window: number, release: Release = NO_RELEASE): Promise<PutUpResult> {
    const e = this.#sessions.get(id);
    if (!e) { release(); return { kind: 'gone' }; }
    const d = decideUpChunk(e.upFingerprints.get(index), fingerprint, index, e.meta.upDelivered, window);
    if (d.kind !== 'store') {
      if (d.kind !== 'busy') release();
      return d;
    }
    e.upFingerprints.set(index, fingerprint);
    e.up.set(index, { fin: parseUpFingerprint(fingerprint).fin, data, release });
    this.notify(id);
    return { kind: 'stored' };
  }

  async takeUp(id: string, index: number): Promise<UpChunk | undefined> {
    const e = this.#sessions.get(id);
    const c = e?.up.get(index);
    if (c) e!.up.delete(index);
    return c;
  }

  async putDown(id: string, index: number, chunk: DownChunk, release: Release = NO_RELEASE): Promise<void> {
    const e = this.#sessions.get(id);
    if (!e) return;
    e.down.set(index, { chunk, release });
    e.meta = applyPatch(e.meta, { downProduced: index + 1 });
    this.notify(id);
  }

  async getDown(id: string, index: number): Promise<DownChunk | undefined> {
    return this.#sessions.get(id)?.down.get(index)?.chunk;
  }

  async ackDown(id: string, ackedBelow: number): Promise<void> {
    const e = this.#sessions.get(id);
    if (!e || ackedBelow <= e.meta.downAcked) return;
    // (A stale repeat of a confirmed chunk still being written may then carry other bytes: its digest and HMAC make
    // the client refuse it.)
    for (let i = e.meta.downAcked; i < ackedBelow; i++) {
      e.down.get(i)?.release();
      e.down.delete(i);
    }
    e.meta = applyPatch(e.meta, { downAcked: ackedBelow });
    this.notify(id);
  }

  async remove(id: string): Promise<void> {
    const e = this.#sessions.get(id);
    if (!e) return;
    this.#sessions.delete(id);
    // left to the GC (see above), and no longer counted as in use by their pool
    for (const c of e.up.values()) c.release.abandon?.();
    for (const d of e.down.values()) d.release.abandon?.();
    this.notify(id);
  }

  async claimNonce(nonce: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const until = this.#nonces.get(nonce);
    if (until !== undefined && until > now) return false;
    this.#nonces.set(nonce, now + ttlMs);
    return true;
  }

  notify(id: string): void {
    this.#waiters.wake(id);
  }

  wait(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return this.#waiters.wait(id, ms, signal);
  }

  async sweep(nowMs: number = this.#now()): Promise<void> {
    for (const [id, e] of this.#sessions) {
      if (nowMs - e.lastSeenMs > this.#ttlMs) await this.remove(id);
    }
    for (const [n, until] of this.#nonces) if (until <= nowMs) this.#nonces.delete(n);
  }

  async census(): Promise<{ sessions: number; chunks: number; bytes: number }> {
    let chunks = 0;
    let bytes = 0;
    for (const e of this.#sessions.values()) {
      for (const c of e.up.values()) { chunks++; bytes += c.data.length; }
      for (const c of e.down.values()) { chunks++; bytes += c.chunk.length; }
    }
    return { sessions: this.#sessions.size, chunks, bytes };
  }

  async close(): Promise<void> {
    this.#sessions.clear();
  }
}
