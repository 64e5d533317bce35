/** @module Sends a representation (a file, /bytes/N) per a ResponseDecision: heads, 206/multipart bodies, HEAD. I/O. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { getAllHeaders, type HeaderList, toFlatHeaders, fromRawHeaders, getJoinedHeader, getHeader } from '../http/headers.ts';
import { planMultipart } from '../http/multipart.ts';
import { pipeExactly, pipeMultipart } from '../http/range-streams.ts';
import { formatContentRange, formatUnsatisfiedRange, type ByteRange } from '../http/range.ts';
import { decideResponse, formatValidatorHeaders, type RepresentationMeta, type RepresentationRequest, type ResponseDecision } from './decide-response.ts';

export interface Representation extends RepresentationMeta {
  /** A stream of the bytes first..last (inclusive); called once per part. */
  open(range: ByteRange): Readable;
}

export interface SendOptions {
  maxRanges: number;
  randomBytes?: (n: number) => Uint8Array;
  /** Receives the decision (and why a Range was ignored) for the access line, before anything is written. */
  note?: Record<string, unknown>;
}

/** The fields of the request that decide the answer (RFC 9110 §13, §14). */
export function readRepresentationRequest(req: IncomingMessage): RepresentationRequest {
  const h = fromRawHeaders(req.rawHeaders);
  const out: RepresentationRequest = { method: req.method ?? 'GET', rangeLines: getAllHeaders(h, 'range').length };
  // Single-valued fields take the first line; If-Match/If-None-Match are lists, so their lines are joined (§5.3).
  const range = getHeader(h, 'range');
  const ifRange = getHeader(h, 'if-range');
  const ifMatch = getJoinedHeader(h, 'if-match');
  const ifNoneMatch = getJoinedHeader(h, 'if-none-match');
  const ifModifiedSince = getHeader(h, 'if-modified-since');
  const ifUnmodifiedSince = getHeader(h, 'if-unmodified-since');
  if (range !== undefined) out.range = range;
  if (ifRange !== undefined) out.ifRange = ifRange;
  if (ifMatch !== undefined) out.ifMatch = ifMatch;
  if (ifNoneMatch !== undefined) out.ifNoneMatch = ifNoneMatch;
  if (ifModifiedSince !== undefined) out.ifModifiedSince = ifModifiedSince;
  if (ifUnmodifiedSince !== undefined) out.ifUnmodifiedSince = ifUnmodifiedSince;
  return out;
}

function writeText(res: ServerResponse, status: number, head: HeaderList, text: string, isHead: boolean): void {
  const body = Buffer.from(text);
  res.writeHead(status, toFlatHeaders([...head, ['content-type', 'text/plain; charset=utf-8'], ['content-length', String(body.length)]]));
  res.end(isHead ? undefined : body);
}

/** Answer `req` with `rep`; resolves with the decision once the body is sent (rejects if the transfer broke). */
export async function sendRepresentation(req: IncomingMessage, res: ServerResponse, rep: Representation, options: SendOptions): Promise<ResponseDecision> {
  const decision = decideResponse(readRepresentationRequest(req), rep, options.maxRanges);
  if (options.note) {
    options.note.decision = decision.kind;
    if (decision.kind === 'full' && decision.rangeIgnored) options.note.rangeIgnored = decision.rangeIgnored;
  }
  const isHead = req.method === 'HEAD';
  const validators = formatValidatorHeaders(rep);
  switch (decision.kind) {
    case 'not-modified':
      res.writeHead(304, toFlatHeaders(validators));
      res.end();
      return decision;
    case 'precondition-failed':
      writeText(res, 412, [], 'precondition failed\n', isHead);
      return decision;
    case 'unsatisfiable':
      // §15.5.17: 416 carries the current length.
      writeText(res, 416, [['accept-ranges', 'bytes'], ['content-range', formatUnsatisfiedRange(rep.size)]], 'range not satisfiable\n', isHead);
      return decision;
    case 'full': {
      res.writeHead(200, toFlatHeaders([...validators, ['content-type', rep.contentType], ['content-length', String(rep.size)]]));
      if (isHead || rep.size === 0) res.end();
      else await pipeExactly(rep.open({ first: 0, last: rep.size - 1 }), rep.size, res);
      return decision;
    }
    case 'partial': {
      const { range } = decision;
      res.writeHead(206, toFlatHeaders([...validators, ['content-type', rep.contentType],
        ['content-range', formatContentRange(range, rep.size)], ['content-length', String(range.last - range.first + 1)]]));
      if (isHead) res.end();
      else await pipeExactly(rep.open(range), range.last - range.first + 1, res);
      return decision;
    }
    case 'multipart': {
      const plan = planMultipart(decision.ranges, rep.size, {
        partContentType: rep.contentType, ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}),
      });
      res.writeHead(206, toFlatHeaders([...validators, ['content-type', plan.contentType], ['content-length', String(plan.contentLength)]]));
      if (isHead) res.end();
      else await pipeMultipart(plan, (r) => rep.open(r), res);
      return decision;
    }
  }
}
