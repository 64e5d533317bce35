/**
 * @module Cutting a byte stream into relay chunks, with backpressure: bytes are only read when the
 * caller asks for the next chunk, so a full window leaves data in the source (and in TCP), not in memory.
 *
 * A chunk is sent when it is full or when the source has been quiet for `lingerMs` (interactive traffic
 * such as a TLS handshake must not wait for a megabyte to gather).
 */
import type { Readable } from 'node:stream';

export class ChunkReader {
  readonly #src: Readable;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(src: Readable) {
    this.#src = src;
    const wake = () => { const w = this.#wake; this.#wake = undefined; w?.(); };
    src.on('readable', wake);
    src.on('end', () => { this.#ended = true; wake(); });
    src.on('error', (err) => { this.#error = err; wake(); });
    src.on('close', () => {
      if (!this.#ended && !this.#error) this.#error = new Error('source closed before its end');
      wake();
    });
  }

  /** True once the source has ended and every byte was handed out: the chunk just read was the last. */
  get done(): boolean {
    return this.#ended && this.#src.readableLength === 0;
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
   * major GC (issue 18: most of a relay process's peak RSS).
   */
  async readInto(into: Buffer, lingerMs: number): Promise<Buffer | null> {
    const max = into.length;
    let n = 0;
    for (;;) {
      let b: Buffer | null;
      while (n < max && (b = this.#take(max - n)) !== null) n += b.copy(into, n);
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

  /** The next buffered piece, at most `room` bytes (the rest goes back to the source), or null when none is buffered. */
  #take(room: number): Buffer | null {
    let b = this.#src.read() as Buffer | string | null;
    if (b === null) return null;
    if (typeof b === 'string') b = Buffer.from(b);
    if (b.length > room) {
      this.#src.unshift(b.subarray(room));
      b = b.subarray(0, room);
    }
    return b;
  }

  #waitData(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.#wake = () => { if (timer) clearTimeout(timer); resolve(true); };
      if (timeoutMs >= 0) timer = setTimeout(() => { this.#wake = undefined; resolve(false); }, timeoutMs);
    });
  }
}
