/**
 * @module What to answer for a GET/HEAD of a representation: the §13.2.2 precondition order, then
 * If-Range and Range (RFC 9110 §13.1.5, §14.2). Pure: plain request fields and metadata in, a tagged decision out.
 */
import { evaluatePreconditions, ifRangeHolds, type Preconditions } from '../http/conditional.ts';
import { formatEntityTag, type EntityTag } from '../http/etag.ts';
import type { HeaderList } from '../http/headers.ts';
import { formatHttpDate } from '../http/http-date.ts';
import { parseRangeHeader, resolveRanges, type ByteRange } from '../http/range.ts';

export interface RepresentationMeta {
  size: number;
  contentType: string;
  etag?: EntityTag;
  lastModifiedMs?: number;
}

export interface RepresentationRequest extends Preconditions {
  method: string;
  /** The Range field; `undefined` when absent. */
  range?: string;
  /** Several Range field lines make the request ambiguous: the Range is ignored. */
  rangeLines?: number;
  ifRange?: string;
}

export type ResponseDecision =
  | { kind: 'not-modified' }
  | { kind: 'precondition-failed' }
  | { kind: 'full'; rangeIgnored?: string }
  | { kind: 'partial'; range: ByteRange }
  | { kind: 'multipart'; ranges: ByteRange[] }
  | { kind: 'unsatisfiable' };

/**
 * HEAD is answered with the headers GET would get (RFC 9110 §9.3.2), so a Range on HEAD is
 * evaluated too (as nginx and Apache do); for other methods Range is ignored (§14.2).
 */
export function decideResponse(req: RepresentationRequest, meta: RepresentationMeta, maxRanges: number): ResponseDecision {
  const validators = { ...(meta.etag ? { etag: meta.etag } : {}), ...(meta.lastModifiedMs !== undefined ? { lastModifiedMs: meta.lastModifiedMs } : {}) };
  const pre = evaluatePreconditions(req.method, req, validators);
  if (pre.kind === 'not-modified') return { kind: 'not-modified' };
  if (pre.kind === 'precondition-failed') return { kind: 'precondition-failed' };
  if (req.range === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return { kind: 'full' };
  if ((req.rangeLines ?? 1) > 1) return { kind: 'full', rangeIgnored: 'several Range fields' };
  // §13.1.5: a failed If-Range means the whole representation, 200.
  if (!ifRangeHolds(req.ifRange, validators)) return { kind: 'full', rangeIgnored: 'If-Range does not match' };
  const parsed = parseRangeHeader(req.range);
  if (parsed.kind !== 'ranges') return { kind: 'full', rangeIgnored: parsed.kind === 'invalid' ? parsed.reason : 'absent' };
  const resolved = resolveRanges(parsed.specs, meta.size, { maxRanges });
  switch (resolved.kind) {
    case 'unsatisfiable': return { kind: 'unsatisfiable' };
    case 'ignore': return { kind: 'full', rangeIgnored: resolved.reason };
    case 'satisfiable': {
      const [only, ...rest] = resolved.ranges;
      if (only === undefined) return { kind: 'unsatisfiable' };
      return rest.length === 0 ? { kind: 'partial', range: only } : { kind: 'multipart', ranges: resolved.ranges };
    }
  }
}

/** Validator and type fields every answer about this representation carries (also 304, §15.4.5). */
export function formatValidatorHeaders(meta: RepresentationMeta): HeaderList {
  const out: HeaderList = [['accept-ranges', 'bytes']];
  if (meta.etag) out.push(['etag', formatEntityTag(meta.etag)]);
  if (meta.lastModifiedMs !== undefined) out.push(['last-modified', formatHttpDate(meta.lastModifiedMs)]);
  return out;
}
