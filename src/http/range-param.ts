/**
 * @module The `?range=a-b[,c-d]` query parameter of the proxy (SPEC: ferry proxy, Range): finding it in a raw
 * request-target, removing it byte-exactly, and deciding how it meets a `Range` header. Pure; no I/O.
 *
 * The rest of the target is never decoded or re-encoded: other parameters keep their bytes and order.
 */
import { formatRangeHeader, MAX_RANGES, parseRangeHeader, parseRangeSet, sameByteSet, type RangeSpec } from './range.ts';

/** The parameter name, matched exactly (case-sensitive, not percent-decoded). */
export const RANGE_PARAM = 'range';

export type RangeParam =
  | { kind: 'absent' }
  /** Present but unusable: the proxy answers 400 with `reason`. */
  | { kind: 'invalid'; reason: string }
  /** `target` is the request-target with every `range` parameter removed. */
  | { kind: 'ranges'; specs: RangeSpec[]; target: string };

/**
 * Find `range=` parameters in a request-target. Several (`?range=0-9&range=20-29`) are joined in order, as if
 * written `range=0-9,20-29`. Removing them keeps every other byte of the query; when nothing is left the `?` goes
 * too, while a query that had other (even empty) elements keeps them exactly (`/p?&range=1-2` → `/p?`).
 */
export function parseRangeParam(target: string): RangeParam {
  const q = target.indexOf('?');
  if (q < 0) return { kind: 'absent' };
  const path = target.slice(0, q);
  const parts = target.slice(q + 1).split('&');
  const kept: string[] = [];
  const values: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (name !== RANGE_PARAM) {
      kept.push(part);
      continue;
    }
    if (eq < 0) return { kind: 'invalid', reason: 'the range parameter needs a value, e.g. ?range=0-99' };
    const decoded = decodeValue(part.slice(eq + 1));
    if (decoded === null) return { kind: 'invalid', reason: 'the range parameter has a bad percent-encoding' };
    values.push(decoded);
  }
  if (values.length === 0) return { kind: 'absent' };
  const parsed = parseRangeSet(values.join(','));
  if (parsed.kind !== 'ranges') {
    const why = parsed.kind === 'invalid' ? parsed.reason : 'empty';
    return { kind: 'invalid', reason: `the range parameter is not a byte range set (${why}); expected e.g. ?range=0-99, ?range=100-, ?range=-50 or ?range=0-9,20-29` };
  }
  if (parsed.specs.length > MAX_RANGES) return { kind: 'invalid', reason: `the range parameter asks for ${parsed.specs.length} ranges; at most ${MAX_RANGES}` };
  return { kind: 'ranges', specs: parsed.specs, target: kept.length === 0 ? path : `${path}?${kept.join('&')}` };
}

/** application/x-www-form-urlencoded value: `+` is a space, then percent-decoding (spaces are OWS in a range set). */
function decodeValue(raw: string): string | null {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

export type RangeDecision =
  /** Forward with `range` as the Range header value (none: leave the head as it is). */
  | { kind: 'forward'; range: string | null }
  /** Header and parameter ask for different bytes: 416 (with `bytes *∕size` if the size is known). */
  | { kind: 'conflict' }
  /** They agree unless the length makes them coincide (`0-` vs `0-99`): ask for the size, then call again. */
  | { kind: 'need-size' };

/**
 * How the parameter meets the client's Range header. `size` is the representation length when known.
 * RFC 9110 §14.2: a syntactically invalid Range is ignored by a server, so the parameter stands alone then.
 */
export function decideRangeParam(specs: readonly RangeSpec[], rangeHeader: string | undefined, size?: number): RangeDecision {
  const fromParam = formatRangeHeader(specs);
  const header = parseRangeHeader(rangeHeader);
  if (header.kind !== 'ranges') return { kind: 'forward', range: fromParam };
  if (sameByteSet(header.specs, specs)) return { kind: 'forward', range: null };
  if (size === undefined) return { kind: 'need-size' };
  return sameByteSet(header.specs, specs, size) ? { kind: 'forward', range: null } : { kind: 'conflict' };
}
