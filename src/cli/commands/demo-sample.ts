/**
 * @module The demo's sample file: deterministic, readable text (so `curl ?range=20-345` prints something a person can
 * check), made once into a cache folder with progress shown, then reused. Byte i of the file is `sampleByteAt(i)`.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Every line is this long (newline included), so offset → line is a division. */
export const SAMPLE_LINE_BYTES = 64;
const CHUNK_LINES = 16_384; // 1 MiB per chunk

/** Line n: `ferry sample line 0000000042 offset 000000002688 ` padded with a-z to 63 bytes, then `\n`. */
export function sampleLine(n: number): string {
  const head = `ferry sample line ${String(n).padStart(10, '0')} offset ${String(n * SAMPLE_LINE_BYTES).padStart(12, '0')} `;
  let pad = '';
  for (let i = head.length; i < SAMPLE_LINE_BYTES - 1; i++) pad += String.fromCharCode(97 + ((n + i) % 26));
  return `${head}${pad}\n`;
}

/** The bytes [first, last] of a sample of any size (for checking answers). */
export function sampleSlice(first: number, last: number): Buffer {
  const parts: string[] = [];
  for (let n = Math.floor(first / SAMPLE_LINE_BYTES); n * SAMPLE_LINE_BYTES <= last; n++) parts.push(sampleLine(n));
  const start = first % SAMPLE_LINE_BYTES;
  return Buffer.from(parts.join(''), 'latin1').subarray(start, start + last - first + 1);
}

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ferry');
}

/** The file every demo serves, as `/sample.txt`. */
export const SAMPLE_FILE_NAME = 'sample.txt';

/** One folder per size, so a small test sample never replaces the 100 MiB one. */
export function sampleDir(dataDir: string, size: number): string {
  return join(dataDir, `sample-${size}`);
}

async function* sampleChunks(size: number, onProgress: (done: number) => void): AsyncGenerator<Buffer> {
  let written = 0;
  let line = 0;
  while (written < size) {
    let text = '';
    for (let i = 0; i < CHUNK_LINES; i++) text += sampleLine(line++);
    const chunk = Buffer.from(text, 'latin1').subarray(0, Math.min(text.length, size - written));
    written += chunk.length;
    onProgress(written);
    yield chunk;
  }
}

/**
 * The path of a sample of `size` bytes in `dir`, generating it first if it is missing or has the wrong size.
 * Written to a temporary name and renamed, so an interrupted run never leaves a short file behind.
 */
export async function ensureSampleFile(dir: string, size: number, onProgress: (done: number, size: number) => void): Promise<{ path: string; created: boolean }> {
  const path = join(dir, SAMPLE_FILE_NAME);
  if (existsSync(path) && statSync(path).size === size) return { path, created: false };
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await pipeline(Readable.from(sampleChunks(size, (done) => onProgress(done, size))), createWriteStream(tmp));
  renameSync(tmp, path);
  return { path, created: true };
}
