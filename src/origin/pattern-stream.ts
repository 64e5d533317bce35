/** @module The deterministic bytes of /bytes/N (byte i = i mod 251), generated on demand, never stored. */
import { Readable } from 'node:stream';

export const PATTERN_PERIOD = 251;
const CHUNK_BYTES = 64 * 1024;
/** One chunk plus a period, so a chunk can start at any phase by slicing (shared, never written to). */
const BLOCK = Buffer.alloc(CHUNK_BYTES + PATTERN_PERIOD, 0);
for (let i = 0; i < BLOCK.length; i++) BLOCK[i] = i % PATTERN_PERIOD;

/** Byte `i` of the pattern. */
export function patternByte(i: number): number {
  return i % PATTERN_PERIOD;
}

/** A stream of pattern bytes first..last (inclusive) that produces chunks only when read (backpressure). */
export function createPatternStream(first: number, last: number): Readable {
  let next = first;
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (next > last) { this.push(null); return; }
      const n = Math.min(CHUNK_BYTES, last - next + 1);
      const phase = next % PATTERN_PERIOD;
      next += n;
      this.push(BLOCK.subarray(phase, phase + n));
    },
  });
}
