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

  /** `size`: bytes per slab; `maxFree`: slabs kept for reuse (the rest are left to the GC). */
  constructor(size: number, maxFree: number) {
    this.size = size;
    this.#max = maxFree;
  }

  take(): Buffer {
    const b = this.#free.pop();
    if (b) return b;
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.#ours.add(fresh.buffer);
    return fresh;
  }

  /** Give back the slab behind `b` (any view of it); ignored for buffers this pool did not make. */
  give(b: Buffer): void {
    if (!this.#ours.has(b.buffer) || this.#free.length >= this.#max) return;
    this.#free.push(Buffer.from(b.buffer, 0, this.size));
  }
}
