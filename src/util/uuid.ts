/**
 * @module Random (version 4) UUIDs for request ids (RFC 9562 §5.4), as `crypto.randomUUID()` makes them, from the same
 * CSPRNG and batched the same way (random bytes for 128 ids at a time), but written as one flat string: Node's
 * builds each id by 20 concatenations (a tree of cons strings, flattened again when the id is first written out),
 * about 0.5 KB of garbage per id, one request's id every time (docs/performance.md, fourth round).
 */
import { randomFillSync } from 'node:crypto';

const BATCH = 128;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes' two hex digits go in `xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx`. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

const random = Buffer.alloc(16 * BATCH);
let used = BATCH;
const text = Buffer.alloc(36, '-'.charCodeAt(0));

/** A new random UUID, lowercase hex, e.g. `3aac2233-b6c8-4fdf-bd0b-b89dace0f578`. */
export function randomUuid(): string {
  if (used === BATCH) { randomFillSync(random); used = 0; }
  const o = 16 * used++;
  random[o + 6] = (random[o + 6]! & 0x0f) | 0x40; // version 4 (RFC 9562 §5.4)
  random[o + 8] = (random[o + 8]! & 0x3f) | 0x80; // variant 10 (RFC 9562 §4.1)
  for (let i = 0; i < 16; i++) {
    const b = random[o + i]!;
    const at = AT[i]!;
    text[at] = HEX[b >> 4]!;
    text[at + 1] = HEX[b & 15]!;
  }
  return text.toString('latin1', 0, 36);
}
