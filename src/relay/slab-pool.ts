/**
 * @module Reused message-sized buffers. A 1 MiB chunk that is held for a window's worth of traffic
 * survives scavenges and is promoted, and V8 then frees it only in a major GC; the same bytes kept in
 * a slab that goes back to a small free list cost no allocation and no collection.
 *
 * Only whole slabs from this pool are taken back (a WeakSet of their ArrayBuffers), so giving back a
 * Buffer of another origin (e.g. one read from Redis) is a harmless no-op. The caller gives a slab back
 * only when nothing can read it any more.
 */
export class SlabPool {
  readonly size: number;
  readonly #max: number;
  readonly #free: Buffer[] = [];
  readonly #ours = new WeakSet<ArrayBufferLike>();
  /** Slabs taken and not given back: the window's chunks in flight (and any a caller left to the GC instead). */
  #lent = 0;

  /** `size`: bytes per slab; `maxFree`: slabs kept for reuse (the rest are left to the GC). */
  constructor(size: number, maxFree: number) {
    this.size = size;
    this.#max = maxFree;
  }

  /** Bytes of the slabs taken and not given back: live chunk memory no collection can free (relay-gc.ts). */
  get lentBytes(): number { return this.#lent * this.size; }

  take(): Buffer {
    this.#lent++;
    const b = this.#free.pop();
    if (b) return b;
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.#ours.add(fresh.buffer);
    return fresh;
  }

  /** The slab behind `b` will not come back (left to the GC, something may still read it): no longer counted as lent. */
  forget(b: Buffer): void {
    if (this.#ours.has(b.buffer) && this.#lent > 0) this.#lent--;
  }

  /** A store's Release for the slab behind `b` (session-store.ts): back to this pool, or, if abandoned, forgotten. */
  releaseOf(b: Buffer): (() => void) & { abandon: () => void } {
    return Object.assign(() => this.give(b), { abandon: () => this.forget(b) });
  }

  /** Give back the slab behind `b` (any view of it); ignored for buffers this pool did not make. */
  give(b: Buffer): void {
    if (!this.#ours.has(b.buffer)) return;
    if (this.#lent > 0) this.#lent--;
    if (this.#free.length >= this.#max) return;
    this.#free.push(Buffer.from(b.buffer, 0, this.size));
  }
}

/** Pieces smaller than this are left to the GC (few bytes; not worth a call). */
const RELEASE_AT_LEAST = 4096;

/**
 * Frees the memory of a piece the caller has copied out of and holds the only view of (a socket read or a body piece
 * handed over by a stream), at once instead of at a later garbage collection: its ArrayBuffer is detached
 * (`ArrayBuffer.prototype.transfer(0)`, ES2024), which frees the backing store there and then. Only a view that
 * covers its whole ArrayBuffer is released: a piece cut from a larger buffer (a split read, a pooled small Buffer,
 * a parser's shared buffer) shares it with other views, and is left to the GC. A buffer that cannot be detached
 * (WebAssembly memory, one Node marked untransferable) is left to the GC too. After the call `b` is empty.
 */
export function releaseCopied(b: Buffer): void {
  const ab = b.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (b.byteOffset !== 0 || b.length !== ab.byteLength || b.length < RELEASE_AT_LEAST || typeof ab.transfer !== 'function') return;
  try { ab.transfer(0); } catch { /* not detachable: left to the GC */ }
}
