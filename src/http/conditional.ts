/**
 * @module Conditional requests (RFC 9110 §13): evaluate If-Match, If-Unmodified-Since,
 * If-None-Match, If-Modified-Since in the §13.2.2 order, and If-Range (§13.1.5). Pure; no I/O.
 */
import { parseEntityTag, parseEntityTagList, strongMatch, weakMatch, type EntityTag } from './etag.ts';
import { parseHttpDate } from './http-date.ts';

/** What the selected representation currently has. */
export interface Validators {
  etag?: EntityTag;
  /** Last-Modified in ms since the epoch (compared at whole seconds, as sent). */
  lastModifiedMs?: number;
}

/** The request's precondition fields (undefined when absent; several field lines joined with ", "). */
export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

export type PreconditionOutcome =
  | { kind: 'proceed' }
  /** 304 (only for GET/HEAD). */
  | { kind: 'not-modified' }
  /** 412. */
  | { kind: 'precondition-failed'; field: 'if-match' | 'if-unmodified-since' | 'if-none-match' };

const seconds = (ms: number) => Math.floor(ms / 1000);

/** RFC 9110 §13.2.2 steps 1–4 (step 5, If-Range, is ifRangeHolds). */
export function evaluatePreconditions(method: string, pre: Preconditions, current: Validators): PreconditionOutcome {
  const isGetOrHead = method === 'GET' || method === 'HEAD';
  // Step 1: If-Match (§13.1.1): strong comparison; `*` matches any current representation.
  if (pre.ifMatch !== undefined) {
    const list = parseEntityTagList(pre.ifMatch);
    const tag = current.etag;
    const ok = list.kind === 'any' ? true
      : list.kind === 'tags' && tag !== undefined && list.tags.some((t) => strongMatch(t, tag));
    if (!ok) return { kind: 'precondition-failed', field: 'if-match' };
  } else if (pre.ifUnmodifiedSince !== undefined) {
    // Step 2 (§13.1.4): ignored when the date is invalid or no Last-Modified is known.
    const date = parseHttpDate(pre.ifUnmodifiedSince);
    if (date !== undefined && current.lastModifiedMs !== undefined && seconds(current.lastModifiedMs) > seconds(date)) {
      return { kind: 'precondition-failed', field: 'if-unmodified-since' };
    }
  }
  // Step 3: If-None-Match (§13.1.2): weak comparison.
  if (pre.ifNoneMatch !== undefined) {
    const list = parseEntityTagList(pre.ifNoneMatch);
    const tag = current.etag;
    const matched = list.kind === 'any' ? true
      : list.kind === 'tags' && tag !== undefined && list.tags.some((t) => weakMatch(t, tag));
    if (matched) return isGetOrHead ? { kind: 'not-modified' } : { kind: 'precondition-failed', field: 'if-none-match' };
  } else if (pre.ifModifiedSince !== undefined && isGetOrHead) {
    // Step 4 (§13.1.3): only GET/HEAD; ignored when the date is invalid.
    const date = parseHttpDate(pre.ifModifiedSince);
    if (date !== undefined && current.lastModifiedMs !== undefined && seconds(current.lastModifiedMs) <= seconds(date)) {
      return { kind: 'not-modified' };
    }
  }
  return { kind: 'proceed' };
}

/**
 * If-Range (§13.1.5): true when the Range may be honoured. An entity-tag must match strongly;
 * a date must equal Last-Modified exactly (a date is only a strong validator then). Anything
 * else — a weak tag, a bad value, no validator to compare — means "send the whole representation".
 */
export function ifRangeHolds(ifRange: string | undefined, current: Validators): boolean {
  if (ifRange === undefined) return true;
  const text = ifRange.trim();
  if (text.startsWith('"') || text.startsWith('W/')) {
    const tag = parseEntityTag(text);
    return tag !== undefined && current.etag !== undefined && strongMatch(tag, current.etag);
  }
  const date = parseHttpDate(text);
  return date !== undefined && current.lastModifiedMs !== undefined && seconds(date) === seconds(current.lastModifiedMs);
}
