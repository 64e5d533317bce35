/**
 * @module multipart/byteranges (RFC 9110 §14.6, RFC 2046 §5.1.1): the plan of a multi-range
 * response (boundary, one head per part, exact Content-Length) and a body source that emits it.
 * No sockets or files: the bytes of each range come from an `open(range)` the caller supplies.
 */
import { formatContentRange, type ByteRange } from './range.ts';

export interface MultipartPart {
  range: ByteRange;
  /** Delimiter + part fields + blank line, written before the range's bytes. */
  head: string;
}

export interface MultipartPlan {
  boundary: string;
  /** The response's Content-Type: `multipart/byteranges; boundary=…`. */
  contentType: string;
  parts: MultipartPart[];
  /** Close delimiter, written after the last part. */
  tail: string;
  /** Exact number of body bytes (heads + ranges + tail): the response's Content-Length. */
  contentLength: number;
}

export interface PlanOptions {
  /** The representation's media type, repeated in every part (SPEC: each part has its own Content-Type). */
  partContentType?: string;
  /** Random bytes for the boundary; injected so tests are deterministic. Default: Web Crypto. */
  randomBytes?: (n: number) => Uint8Array;
}

export const BOUNDARY_RANDOM_BYTES = 16;
const DEFAULT_PART_TYPE = 'application/octet-stream';

function defaultRandomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/**
 * A boundary of hex digits (RFC 2046 §5.1.1 bchars, at most 70). 128 random bits make a collision
 * with the body's bytes negligible, so the body need not be scanned.
 */
export function createBoundary(randomBytes: (n: number) => Uint8Array = defaultRandomBytes): string {
  const bytes = randomBytes(BOUNDARY_RANDOM_BYTES);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `ferry-${hex}`;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * Plan the body for ranges (already resolved: disjoint, in the order to send) of a `size`-byte representation.
 * Layout: `--B CRLF fields CRLF CRLF bytes` per part, parts after the first start with CRLF, then `CRLF --B-- CRLF`.
 */
export function planMultipart(ranges: readonly ByteRange[], size: number, options: PlanOptions = {}): MultipartPlan {
  const boundary = createBoundary(options.randomBytes);
  const partType = options.partContentType ?? DEFAULT_PART_TYPE;
  let contentLength = 0;
  const parts = ranges.map((range, i): MultipartPart => {
    const head = `${i === 0 ? '' : '\r\n'}--${boundary}\r\ncontent-type: ${partType}\r\ncontent-range: ${formatContentRange(range, size)}\r\n\r\n`;
    contentLength += byteLength(head) + (range.last - range.first + 1);
    return { range, head };
  });
  const tail = `\r\n--${boundary}--\r\n`;
  contentLength += byteLength(tail);
  return { boundary, contentType: `multipart/byteranges; boundary=${boundary}`, parts, tail, contentLength };
}

/** Where a part's bytes come from: e.g. `fs.createReadStream(path, {start, end})` (a Readable is async-iterable). */
export type OpenRange = (range: ByteRange) => AsyncIterable<Uint8Array | string>;

/**
 * The body of `plan` as an async iterable, for `stream.pipeline(multipartBody(plan, open), res)`:
 * parts are opened one at a time, in order, and pulled only as fast as the destination drains.
 * A range source that yields a byte count other than its range's length is an error (the
 * Content-Length promise would be broken), so the stream fails instead of sending a wrong body.
 * Note: async-iterating a byte Readable copies whenever several chunks are buffered (read()
 * concatenates them); for large bodies from Node streams prefer range-streams.ts `pipeMultipart`.
 */
export async function* multipartBody(plan: MultipartPlan, open: OpenRange): AsyncGenerator<Uint8Array | string> {
  for (const part of plan.parts) {
    yield part.head;
    const want = part.range.last - part.range.first + 1;
    let got = 0;
    for await (const chunk of open(part.range)) {
      got += typeof chunk === 'string' ? byteLength(chunk) : chunk.length;
      if (got > want) throw new Error(`range ${part.range.first}-${part.range.last}: source gave more than ${want} bytes`);
      yield chunk;
    }
    if (got !== want) throw new Error(`range ${part.range.first}-${part.range.last}: source ended after ${got} of ${want} bytes`);
  }
  yield plan.tail;
}
