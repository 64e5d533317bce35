/**
 * @module Answering from a stored response: 304 for the client's own conditionals, HEAD, Range (single → 206,
 * several → multipart/byteranges, none satisfiable → 416) served from a stored full 200 (RFC 9111 §3.4, RFC 9110
 * §14), or the whole body. Range planning lives in http/range.ts and http/multipart.ts; this only wires the
 * stored body into them.
 */
import { Readable } from 'node:stream';
import { getHeader, withHeader, withoutHeaders, type HeaderList } from '../http/headers.ts';
import { multipartBody, planMultipart } from '../http/multipart.ts';
import { formatContentRange, formatUnsatisfiedRange, parseRangeHeader, resolveRanges, type ByteRange } from '../http/range.ts';
import type { ProxiedResponse } from '../proxy/phases.ts';
import { clientWantsNotModified, notModifiedHeaders, storedIfRangeHolds } from './conditional.ts';

/** The stored body; a store in this process gives it at once (store.ts openNow). */
export type OpenStoredBody = () => Promise<Readable> | Readable;

/** The bytes `first..last` of a stored body; stops reading (and closes the source) past `last`. */
export async function* sliceBody(source: Readable, range: ByteRange): AsyncGenerator<Buffer> {
  let pos = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    const end = pos + chunk.length;
    if (end > range.first) yield chunk.subarray(Math.max(0, range.first - pos), Math.min(chunk.length, range.last + 1 - pos));
    pos = end;
    if (pos > range.last) break;
  }
}

export interface StoredAnswer {
  method: string;
  requestHeaders: HeaderList;
  status: number;
  /** Stored headers as the policy returns them (Age and Date current). */
  headers: HeaderList;
  size: number;
  open: OpenStoredBody;
}

/** Framing of the stored response: recomputed for what is served (a Set made once, not per hit). */
const FRAMING_FIELDS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding']);

export async function answerFromStore(a: StoredAnswer): Promise<ProxiedResponse> {
  // A stored 200 may carry the origin's own Content-Range (RFC 9111 §3.1: stored as received; cache-tests
  // headers-store-Content-Range): served whole it is kept, a 206/416 made here replaces it.
  let headers = withoutHeaders(a.headers, FRAMING_FIELDS);
  if (clientWantsNotModified(a.requestHeaders, a.headers)) return { head: { status: 304, headers: notModifiedHeaders(headers) }, body: null };
  // `headers` is this call's own copy and has no Content-Length: the whole answer's is pushed onto it (once).
  const full = (): HeaderList => { headers.push(['content-length', String(a.size)]); return headers; };
  const rangeValue = getHeader(a.requestHeaders, 'range');
  if (rangeValue !== undefined && a.status === 200 && storedIfRangeHolds(a.requestHeaders, a.headers)) {
    const parsed = parseRangeHeader(rangeValue);
    if (parsed.kind === 'ranges') {
      const resolved = resolveRanges(parsed.specs, a.size);
      if (resolved.kind === 'unsatisfiable') {
        headers = withHeader(withHeader(headers, 'content-range', formatUnsatisfiedRange(a.size)), 'content-length', '0');
        return { head: { status: 416, headers }, body: null };
      }
      if (resolved.kind === 'satisfiable') {
        const ranges = resolved.ranges;
        if (ranges.length === 1) {
          const r = ranges[0]!;
          headers = withHeader(withHeader(headers, 'content-range', formatContentRange(r, a.size)), 'content-length', String(r.last - r.first + 1));
          if (a.method === 'HEAD') return { head: { status: 206, headers }, body: null };
          return { head: { status: 206, headers }, body: Readable.from(sliceBody(await a.open(), r)) };
        }
        const type = getHeader(headers, 'content-type');
        const plan = planMultipart(ranges, a.size, type === undefined ? {} : { partContentType: type });
        headers = withHeader(withHeader(withoutHeaders(headers, ['content-range']), 'content-type', plan.contentType), 'content-length', String(plan.contentLength));
        if (a.method === 'HEAD') return { head: { status: 206, headers }, body: null };
        // Each part reads the stored body afresh (one open per part, parts are sequential).
        const body = Readable.from(multipartBody(plan, (r) => ({ async *[Symbol.asyncIterator]() { yield* sliceBody(await a.open(), r); } })));
        return { head: { status: 206, headers }, body };
      }
    }
  }
  if (a.method === 'HEAD') return { head: { status: a.status, headers: full() }, body: null };
  const bodiless = a.status === 204 || a.status === 304 || a.size === 0;
  const head = { status: a.status, headers: a.status === 204 ? headers : full() };
  if (bodiless) return { head, body: null };
  const body = a.open();
  return { head, body: body instanceof Promise ? await body : body };
}
