/**
 * @module Where relay sessions live: the contract shared by the in-memory store (one instance) and the
 * Redis store (several relay-server instances behind one gateway).
 *
 * The instance that handled the open holds the target connection (the owner). Any instance may receive
 * any message: up chunks are handed to the owner through the store, down chunks are read from it, and
 * `notify`/`wait` wake whoever waits on a session (long polls, the owner's pumps). Notifications are only
 * hints: every waiter re-reads the state, so a lost notification costs at most one `wait` bound.
 */
import type { SessionMeta, SessionPatch, UpDecision } from './session.ts';
import type { DownType } from './protocol.ts';

/** A down chunk keeps the pieces it was read in (no concatenation copy); `length` is their total. */
export interface DownChunk { type: DownType; fin: boolean; digest: string; data: readonly Buffer[]; length: number }
/** `release`: the reader (the owner's up pump) is done with `data`; the store then gives the bytes back where they came from. */
export interface UpChunk { fin: boolean; data: Buffer; release: Release }

/**
 * The lifetime of lent bytes: a caller that hands the store a buffer it wants back (a slab of a SlabPool) passes a
 * `release`, and the store calls it once nothing the store holds reads those bytes: the in-memory store when the
 * chunk is taken and written (up) or confirmed by the client (down), a store that copies the bytes elsewhere (Redis)
 * as soon as the copy is made. No caller needs to know which store it has.
 */
export type Release = (() => void) & {
  /**
   * Called instead, at most once, when the store drops the bytes without knowing that nothing reads them (a removed or
   * expired session: a reply may still be writing them): they go to the GC, not back to their pool, which then stops
   * counting them as in use (SlabPool.forget; relay-gc.ts reads that count).
   */
  abandon?: () => void;
};
export const NO_RELEASE: Release = () => {};

/**
 * The shared store cannot answer right now (Redis stalled, restarting or unreachable: every call is bounded, see
 * util/redis-options.ts). relay-server answers the message with a retryable 503 `x-ferry-error: store`; the store
 * itself logs the outage once, and its recovery.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

export type CreateResult = { kind: 'created' } | { kind: 'exists'; meta: SessionMeta };
export type PutUpResult = Exclude<UpDecision, { kind: 'store' }> | { kind: 'stored' } | { kind: 'gone' };

export interface SessionStore {
  readonly kind: 'memory' | 'redis';
  /** Create the session unless one with this id exists (then returns it). */
  create(meta: SessionMeta): Promise<CreateResult>;
  get(id: string): Promise<SessionMeta | undefined>;
  /** Apply a patch (counters only grow) and notify waiters. */
  update(id: string, patch: SessionPatch): Promise<void>;
  /** A client message arrived: the session is not idle. */
  touch(id: string): Promise<void>;
  /**
   * Record and keep an up chunk, deciding idempotency and the window atomically. Unless the answer is `busy` (the
   * caller still has the bytes, to try again), the store owns `data` from now on and calls `release` when done with it.
   */
  putUp(id: string, index: number, fingerprint: string, data: Buffer, window: number, release?: Release): Promise<PutUpResult>;
  /** The owner takes the up chunk at `index` (the fingerprint stays for dedup); it calls the chunk's `release` once written. */
  takeUp(id: string, index: number): Promise<UpChunk | undefined>;
  /** Keep a down chunk until the client confirms it; the store calls `release` once it no longer reads `chunk.data`. */
  putDown(id: string, index: number, chunk: DownChunk, release?: Release): Promise<void>;
  getDown(id: string, index: number): Promise<DownChunk | undefined>;
  /** The client confirmed every chunk below `ackedBelow`: free them. */
  ackDown(id: string, ackedBelow: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** True the first time a nonce is seen within `ttlMs`. */
  claimNonce(nonce: string, ttlMs: number): Promise<boolean>;
  notify(id: string): void;
  /** Resolves on a notification for `id`, or after `ms`. */
  wait(id: string, ms: number, signal?: AbortSignal): Promise<void>;
  /** Expire idle sessions (the Redis store lets key TTLs do it). */
  /** `nowMs` on the store's own clock (default: now on it; the memory store's is monotonic). */
  sweep(nowMs?: number): Promise<void>;
  /** Sessions and chunk buffers currently held (for /stats and the expiry test). */
  census(): Promise<{ sessions: number; chunks: number; bytes: number }>;
  close(): Promise<void>;
}

/** One waiter registry used by both stores: a notification wakes every waiter of that session. */
export class Waiters {
  readonly #map = new Map<string, Set<() => void>>();

  wake(id: string): void {
    const set = this.#map.get(id);
    if (!set) return;
    this.#map.delete(id);
    for (const f of set) f();
  }

  wait(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#map.get(id);
      if (!set) { set = new Set(); this.#map.set(id, set); }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#map.get(id)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }
}
