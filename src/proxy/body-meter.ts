/** @module Counts request body bytes as they stream and stops at --max-body with 413 (RELIABILITY R11). */
import { Transform, type TransformCallback } from 'node:stream';
import { FerryError } from '../errors.ts';

export class BodyMeter extends Transform {
  bytes = 0;
  readonly #max: number | null;
  readonly #onBytes: ((bytes: number) => void) | null;

  constructor(maxBytes: number | null, onBytes: ((bytes: number) => void) | null = null) {
    super();
    this.#max = maxBytes;
    this.#onBytes = onBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.#max !== null && this.bytes > this.#max) {
      cb(new FerryError('FERRY_ERR_BODY_TOO_LARGE', `request body exceeds ${this.#max} bytes`, { source: 'downstream', status: 413 }));
      return;
    }
    this.#onBytes?.(chunk.length);
    cb(null, chunk);
  }
}
