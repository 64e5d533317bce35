/**
 * @module A response body whose bytes are all in memory already (a stored cache entry): a Readable for whoever
 * streams it, and the bytes themselves for the runner, which sends such a body with one `res.end(bytes)`
 * (proxy/downstream.ts) instead of piping it through a stream.
 */
import { Readable } from 'node:stream';

export class WholeBody extends Readable {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    super();
    this.bytes = bytes;
  }

  override _read(): void {
    if (this.bytes.length > 0) this.push(this.bytes);
    this.push(null);
  }
}
