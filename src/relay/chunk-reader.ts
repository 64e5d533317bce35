/**
 * @module Cutting a byte stream into relay chunks, with backpressure: the source is paused once about its
 * high-water mark of bytes waits here, so a full window leaves data in the source (and in TCP), not in memory.
 *
 * A chunk is sent when it is full or when the source has been quiet for `lingerMs` (interactive traffic
 * such as a TLS handshake must not wait for a megabyte to gather).
 */
import type { Readable } from 'node:stream';
import { releaseCopied } from './slab-pool.ts';

export class ChunkReader {
  readonly #src: Readable;
  /** Pieces taken from the source and not yet handed out, in order (at most about one read past the pause mark). */
  readonly #queue: Buffer[] = [];
  #queued = 0;
  readonly #pauseAt: number;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(src: Readable) {
    this.#src = src;
    // The source flows into a small queue of its own pieces and is paused past its high-water mark: pieces then come
    // one by one, each in the buffer it was read into, which readInto can release once copied (slab-pool.ts
    // releaseCopied). A paused source's read() instead joins what it holds into a new buffer, and the pieces so
    // joined, often old enough to have been promoted while the window was full, wait for a major GC (issue 18).
    this.#pauseAt = Math.max(1, src.readableHighWaterMark);
    const wake = () => { const w = this.#wake; this.#wake = undefined; w?.(); };
    src.on('data', (piece: Buffer | string) => {
      const b = typeof piece === 'string' ? Buffer.from(piece) : piece;
      this.#queue.push(b);
      this.#queued += b.length;
      if (this.#queued >= this.#pauseAt) src.pause();
      wake();
    });
    // reads whatever the source's state, as read() did: a source someone paused flows again
    if (src.isPaused()) src.resume();
    src.on('end', () => { this.#ended = true; wake(); });
    src.on('error', (err) => { this.#error = err; wake(); });
    src.on('close', () => {
      if (!this.#ended && !this.#error) this.#error = new Error('source closed before its end');
      wake();
    });
  }

  /** True once the source has ended and every byte was handed out: the chunk just read was the last. */
  get done(): boolean {
    return this.#ended && this.#queued === 0;
  }

  /** The next chunk of at most `max` bytes, or null at the end of the stream. Rejects if the source fails. */
  async read(max: number, lingerMs: number): Promise<Buffer | null> {
    const parts = await this.readPieces(max, lingerMs);
    return parts === null ? null : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /**
   * Like read(), but the chunk is copied into `into` (a reused buffer: the source's pieces then die young
   * instead of living, and being promoted, while the chunk is in flight). Returns the filled part.
   * Each piece is copied as soon as it is read, not once the chunk is complete: a piece kept for the tens of
   * milliseconds a megabyte takes to gather survives scavenges, is promoted, and its dead bytes then wait for a
   * major GC (issue 18: most of a relay process's peak RSS). Each piece copied is also released at once (slab-pool.ts
   * releaseCopied): young or promoted, its bytes are freed now rather than at the next GC that reaches it.
   */
  async readInto(into: Buffer, lingerMs: number): Promise<Buffer | null> {
    const max = into.length;
    let n = 0;
    for (;;) {
      let b: Buffer | null;
      while (n < max && (b = this.#next()) !== null) {
        const room = max - n;
        // The rest of a piece that does not fit goes back as a copy of its own, so the piece can be released whole.
        if (b.length > room) this.#putBack(Buffer.from(b.subarray(room)));
        n += b.copy(into, n, 0, Math.min(room, b.length));
        releaseCopied(b);
      }
      if (n >= max) return into;
      if (this.#error) throw this.#error;
      if (this.#ended) return n > 0 ? into.subarray(0, n) : null;
      const woke = await this.#waitData(n > 0 ? lingerMs : -1);
      if (!woke && n > 0) return into.subarray(0, n);
    }
  }

  /** Like read(), but the chunk is left in the pieces it arrived in (no copy). */
  async readPieces(max: number, lingerMs: number): Promise<Buffer[] | null> {
    const parts: Buffer[] = [];
    let n = 0;
    for (;;) {
      let b: Buffer | null;
      while (n < max && (b = this.#take(max - n)) !== null) {
        parts.push(b);
        n += b.length;
      }
      if (n >= max) return parts;
      if (this.#error) throw this.#error;
      if (this.#ended) return n > 0 ? parts : null;
      const woke = await this.#waitData(n > 0 ? lingerMs : -1);
      if (!woke && n > 0) return parts;
    }
  }

  /** The next buffered piece, at most `room` bytes (the rest stays first in line), or null when none is buffered. */
  #take(room: number): Buffer | null {
    let b = this.#next();
    if (b === null) return null;
    if (b.length > room) {
      this.#putBack(b.subarray(room));
      b = b.subarray(0, room);
    }
    return b;
  }

  /** The next buffered piece as it came, or null when none is buffered; the source flows again below the mark. */
  #next(): Buffer | null {
    const b = this.#queue.shift();
    if (b === undefined) return null;
    this.#queued -= b.length;
    if (this.#queued < this.#pauseAt && !this.#ended && this.#src.isPaused()) this.#src.resume();
    return b;
  }

  #putBack(rest: Buffer): void {
    this.#queue.unshift(rest);
    this.#queued += rest.length;
  }

  #waitData(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.#wake = () => { if (timer) clearTimeout(timer); resolve(true); };
      if (timeoutMs >= 0) timer = setTimeout(() => { this.#wake = undefined; resolve(false); }, timeoutMs);
    });
  }
}
