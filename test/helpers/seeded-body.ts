/**
 * @module Distinct seeded bodies (RELIABILITY T6): each (seed, size) names one pseudo-random byte string, so bytes
 * swapped between two concurrent transfers at the same offset change the SHA-256 (the old `i mod 251` pattern was
 * the same for every request and could not show that). The stream is AES-256-CTR over zeros, keyed by the seed:
 * fast (GB/s), reproducible, and a body of any size is generated while it streams, with backpressure.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const BLOCK = 64 * 1024;
const ZEROS = Buffer.alloc(BLOCK);

function cipherFor(seed: number) {
  const key = createHash('sha256').update(`ferry-seeded-body:${seed >>> 0}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
}

/** Calls `each` with the body's bytes in order, in blocks of at most 64 KiB. */
function generate(seed: number, size: number, each: (chunk: Buffer) => void): void {
  const c = cipherFor(seed);
  for (let at = 0; at < size; at += BLOCK) each(c.update(ZEROS.subarray(0, Math.min(BLOCK, size - at))));
}

/** The whole body in memory (for small bodies and raw-socket tests). */
export function seededBuffer(seed: number, size: number): Buffer {
  const parts: Buffer[] = [];
  generate(seed, size, (c) => parts.push(c));
  return Buffer.concat(parts, size);
}

const shaCache = new Map<string, string>();

/** SHA-256 (hex) of body (seed, size); remembered, as tests ask for it on both sides. */
export function seededSha256(seed: number, size: number): string {
  const k = `${seed}/${size}`;
  let sha = shaCache.get(k);
  if (sha === undefined) {
    const h = createHash('sha256');
    generate(seed, size, (c) => h.update(c));
    sha = h.digest('hex');
    shaCache.set(k, sha);
  }
  return sha;
}

/** Body (seed, size) as a stream, produced as it is read (backpressure: nothing is generated ahead of the reader). */
export function seededStream(seed: number, size: number): Readable {
  const c = cipherFor(seed);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) { this.push(null); return; }
      const n = Math.min(BLOCK, size - sent);
      sent += n;
      this.push(c.update(ZEROS.subarray(0, n)));
    },
  });
}

/** Hashes a stream as it arrives: resolves with its byte count and SHA-256. */
export function hashStream(stream: NodeJS.ReadableStream): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let bytes = 0;
    stream.on('data', (c: Buffer) => { bytes += c.length; h.update(c); });
    stream.on('end', () => resolve({ bytes, sha256: h.digest('hex') }));
    stream.on('error', reject);
    stream.on('aborted', () => reject(new Error('aborted')));
  });
}
