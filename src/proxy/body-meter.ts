/** @module Counts request body bytes as they stream and stops at --max-body with 413 (RELIABILITY R11). */
import { Transform, type TransformCallback } from 'node:stream';
import { FerryError } from '../errors.ts';
import { noteRelayedBytes } from './gc-pacer.ts';

export class BodyMeter extends Transform {
  bytes = 0;
  readonly #max: number | null;

  constructor(maxBytes: number | null) {
    super();
    this.#max = maxBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.#max !== null && this.bytes > this.#max) {
      cb(new FerryError('FERRY_ERR_BODY_TOO_LARGE', `request body exceeds ${this.#max} bytes`, { source: 'downstream', status: 413 }));
      return;
    }
    noteRelayedBytes(chunk.length);
    cb(null, chunk);
  }
}
