/**
 * @module Byte ranges (RFC 9110 §14): parsing `Range`, resolving it against a representation
 * length, coalescing, comparing two range sets, and `Content-Range`. Pure; no I/O.
 *
 * Used by the origin (serving files and /bytes/N), by the proxy's `?range=` filter (does the
 * query ask for the same bytes as the header?) and by the cache (ranges from a stored full body).
 */
import { isToken } from './grammar.ts';

/** One range-spec as written (RFC 9110 §14.1.1). Positions are byte offsets, `last` inclusive. */
export type RangeSpec =
  | { kind: 'from-to'; first: number; last: number }
  | { kind: 'from'; first: number }
  | { kind: 'suffix'; length: number };

/** A resolved range: inclusive offsets, `0 <= first <= last < size`. */
export interface ByteRange { first: number; last: number }

export type ParsedRange =
  | { kind: 'absent' }
  /** Not a byte-range set we understand: §14.2 says ignore the header (200, whole body). */
  | { kind: 'invalid'; reason: string }
  | { kind: 'ranges'; specs: RangeSpec[] };

export type ResolvedRanges =
  /** 206: one range → single part; several → multipart/byteranges. Ascending, disjoint, non-adjacent. */
  | { kind: 'satisfiable'; ranges: ByteRange[] }
  /** 416 with `Content-Range: bytes *\/size` (RFC 9110 §15.5.17). */
  | { kind: 'unsatisfiable' }
  /** Too many ranges: serve the whole body with 200 (RFC 9110 §14.2 "MAY ignore"; RELIABILITY R8). */
  | { kind: 'ignore'; reason: string };

/** RELIABILITY R8: at most 100 ranges (Apache MaxRanges is 200); more → the whole body. */
export const MAX_RANGES = 100;

/** Longest digit string we take as a position; longer ones saturate (no file is 10^15 bytes). */
const MAX_DIGITS = 15;
const SATURATED = Number.MAX_SAFE_INTEGER;

/** 1*DIGIT → number, saturating huge values (still compared correctly: see compareDigits). */
function toPosition(digits: string): number {
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  return trimmed.length > MAX_DIGITS ? SATURATED : Number(trimmed);
}

/** Compare two digit strings numerically without overflow. */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

const INT_RANGE = /^(\d+)-(\d*)$/;
const SUFFIX_RANGE = /^-(\d+)$/;

/**
 * A range-set without the unit (`0-9,20-`, also the proxy's `?range=` value).
 * RFC 9110 §14.1.1: range-set = 1#range-spec; §5.6.1: empty list elements are allowed, OWS around commas.
 */
export function parseRangeSet(text: string): ParsedRange {
  const specs: RangeSpec[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const int = INT_RANGE.exec(item);
    if (int) {
      const [, first = '', last = ''] = int;
      if (last === '') {
        specs.push({ kind: 'from', first: toPosition(first) });
      } else {
        // §14.1.1: "invalid if the last-pos value is present and less than the first-pos".
        if (compareDigits(last, first) < 0) return { kind: 'invalid', reason: `last before first in "${item}"` };
        specs.push({ kind: 'from-to', first: toPosition(first), last: toPosition(last) });
      }
      continue;
    }
    const suffix = SUFFIX_RANGE.exec(item);
    if (suffix) {
      specs.push({ kind: 'suffix', length: toPosition(suffix[1]!) });
      continue;
    }
    return { kind: 'invalid', reason: `bad range-spec "${item.slice(0, 40)}"` };
  }
  if (specs.length === 0) return { kind: 'invalid', reason: 'empty range set' };
  return { kind: 'ranges', specs };
}

/** A `Range` field value (RFC 9110 §14.2). Only the `bytes` unit is understood (case-insensitive, §14.1). */
export function parseRangeHeader(value: string | undefined): ParsedRange {
  if (value === undefined) return { kind: 'absent' };
  const eq = value.indexOf('=');
  if (eq < 0) return { kind: 'invalid', reason: 'no "=" after the range unit' };
  const unit = value.slice(0, eq).trim();
  if (!isToken(unit)) return { kind: 'invalid', reason: 'bad range unit' };
  if (unit.toLowerCase() !== 'bytes') return { kind: 'invalid', reason: `unsupported range unit "${unit.slice(0, 20)}"` };
  return parseRangeSet(value.slice(eq + 1));
}

/** The range a spec selects in a representation of `size` bytes, or undefined if unsatisfiable (§14.1.1). */
export function resolveSpec(spec: RangeSpec, size: number): ByteRange | undefined {
  switch (spec.kind) {
    case 'from-to':
      return spec.first < size ? { first: spec.first, last: Math.min(spec.last, size - 1) } : undefined;
    case 'from':
      return spec.first < size ? { first: spec.first, last: size - 1 } : undefined;
    case 'suffix':
      // "-0" and any suffix of an empty representation select nothing.
      return spec.length > 0 && size > 0 ? { first: Math.max(0, size - spec.length), last: size - 1 } : undefined;
  }
}

/** Sort ascending and merge overlapping or adjacent ranges (jshttp/range-parser `combine`; RELIABILITY R8). */
export function coalesceRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first || a.last - b.last);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && r.first <= prev.last + 1) prev.last = Math.max(prev.last, r.last);
    else out.push({ first: r.first, last: r.last });
  }
  return out;
}

export interface ResolveOptions {
  /** More specs than this → `ignore` (whole body). Default MAX_RANGES. */
  maxRanges?: number;
}

/**
 * Decide what to send for `specs` against a representation of `size` bytes.
 * Overlapping and adjacent ranges are coalesced and sorted, so the parts never hold more bytes
 * than the representation (RFC 9110 §14.2, §17.15: "ignore, coalesce, or reject egregious range requests").
 */
export function resolveRanges(specs: readonly RangeSpec[], size: number, options: ResolveOptions = {}): ResolvedRanges {
  const maxRanges = options.maxRanges ?? MAX_RANGES;
  if (specs.length > maxRanges) return { kind: 'ignore', reason: `${specs.length} ranges (at most ${maxRanges})` };
  const picked: ByteRange[] = [];
  for (const spec of specs) {
    const r = resolveSpec(spec, size);
    if (r !== undefined) picked.push(r);
  }
  // §14.1.1/§15.5.17: 416 only when no range-spec is satisfiable.
  if (picked.length === 0) return { kind: 'unsatisfiable' };
  return { kind: 'satisfiable', ranges: coalesceRanges(picked) };
}

/** Total bytes of disjoint ranges. */
export function rangesLength(ranges: readonly ByteRange[]): number {
  let n = 0;
  for (const r of ranges) n += r.last - r.first + 1;
  return n;
}

/**
 * Do two range sets ask for the same bytes?
 * With `size`, compares the selected bytes of that representation. Without it, answers true only
 * when they select the same bytes whatever the length is (so `0-9` and `-10` differ, `0-` and `0-,-5` don't).
 */
export function sameByteSet(a: readonly RangeSpec[], b: readonly RangeSpec[], size?: number): boolean {
  if (size !== undefined) {
    const pick = (specs: readonly RangeSpec[]) => coalesceRanges(specs.flatMap((s) => resolveSpec(s, size) ?? []));
    return sameRanges(pick(a), pick(b));
  }
  const x = symbolicSet(a);
  const y = symbolicSet(b);
  return x.suffix === y.suffix && sameRanges(x.fixed, y.fixed);
}

/**
 * The byte set of `specs` for an unknown length n: `fixed ∩ [0,n)` ∪ the last `suffix` bytes.
 * Canonical: two sets are equal for every n iff both parts are equal (a fixed difference at offset p
 * shows once n > p + suffix; a suffix difference shows at n = the larger suffix unless fixed covers all).
 */
function symbolicSet(specs: readonly RangeSpec[]): { fixed: ByteRange[]; suffix: number } {
  let suffix = 0;
  const fixed: ByteRange[] = [];
  for (const s of specs) {
    if (s.kind === 'suffix') suffix = Math.max(suffix, s.length);
    else fixed.push({ first: s.first, last: s.kind === 'from' ? SATURATED : s.last });
  }
  const merged = coalesceRanges(fixed);
  const head = merged[0];
  if (head !== undefined && head.first === 0 && head.last === SATURATED) suffix = 0; // everything already
  return { fixed: merged, suffix };
}

function sameRanges(a: readonly ByteRange[], b: readonly ByteRange[]): boolean {
  return a.length === b.length && a.every((r, i) => r.first === b[i]!.first && r.last === b[i]!.last);
}

/** `bytes first-last/size` (RFC 9110 §14.4); size undefined → `*` (unknown complete length). */
export function formatContentRange(range: ByteRange, size: number | undefined): string {
  return `bytes ${range.first}-${range.last}/${size ?? '*'}`;
}

/** `bytes *\/size`, sent with 416 (RFC 9110 §14.4, §15.5.17). */
export function formatUnsatisfiedRange(size: number): string {
  return `bytes */${size}`;
}

/** `bytes=0-9,20-,-5`: the `Range` value for specs (the proxy turns `?range=` into this). */
export function formatRangeHeader(specs: readonly RangeSpec[]): string {
  return `bytes=${specs.map(formatSpec).join(',')}`;
}

export function formatSpec(spec: RangeSpec): string {
  switch (spec.kind) {
    case 'from-to': return `${spec.first}-${spec.last}`;
    case 'from': return `${spec.first}-`;
    case 'suffix': return `-${spec.length}`;
  }
}

export type ParsedContentRange =
  | { kind: 'range'; range: ByteRange; size: number | undefined }
  | { kind: 'unsatisfied'; size: number }
  | { kind: 'invalid' };

/** A `Content-Range` value (RFC 9110 §14.4), e.g. from a 206 a cache stores or a client reassembles. */
export function parseContentRange(value: string | undefined): ParsedContentRange {
  if (value === undefined) return { kind: 'invalid' };
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return { kind: 'invalid' };
  const size = m[3] === '*' ? undefined : toPosition(m[3]!);
  if (m[1] === undefined) return size === undefined ? { kind: 'invalid' } : { kind: 'unsatisfied', size };
  const first = toPosition(m[1]);
  const last = toPosition(m[2]!);
  // §14.4: invalid if last < first, or if the complete length is not greater than last.
  if (last < first || (size !== undefined && size <= last)) return { kind: 'invalid' };
  return { kind: 'range', range: { first, last }, size };
}
