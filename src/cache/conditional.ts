/**
 * @module The client's own conditionals, evaluated by the cache against a stored (or just stored) response
 * (RFC 9111 §4.3.2): adapters from heads to http/conditional.ts, which holds the RFC 9110 §13 rules. Pure.
 */
import { evaluatePreconditions, ifRangeHolds, type Validators } from '../http/conditional.ts';
import { parseEntityTag } from '../http/etag.ts';
import { getHeader, getJoinedHeader, type HeaderList } from '../http/headers.ts';
import { parseHttpDate } from '../http/http-date.ts';

function validatorsOf(stored: HeaderList): Validators {
  const out: Validators = {};
  const etag = getHeader(stored, 'etag');
  const tag = etag === undefined ? undefined : parseEntityTag(etag.trim());
  if (tag !== undefined) out.etag = tag;
  const lm = parseHttpDate(getHeader(stored, 'last-modified'));
  if (lm !== undefined) out.lastModifiedMs = lm;
  return out;
}

/** If-None-Match / If-Modified-Since (§13.2.2 steps 3–4) say the client already has it: answer 304 from the cache. */
export function clientWantsNotModified(reqHeaders: HeaderList, stored: HeaderList): boolean {
  const inm = getJoinedHeader(reqHeaders, 'if-none-match');
  const ims = getHeader(reqHeaders, 'if-modified-since');
  if (inm === undefined && ims === undefined) return false;
  const pre = { ...(inm === undefined ? {} : { ifNoneMatch: inm }), ...(ims === undefined ? {} : { ifModifiedSince: ims }) };
  return evaluatePreconditions('GET', pre, validatorsOf(stored)).kind === 'not-modified';
}

/** If-Range (RFC 9110 §13.1.5) against the stored response: true when the Range may be served. */
export function storedIfRangeHolds(reqHeaders: HeaderList, stored: HeaderList): boolean {
  return ifRangeHolds(getHeader(reqHeaders, 'if-range'), validatorsOf(stored));
}

/** Fields a 304 carries from the response it stands for (RFC 9110 §15.4.5), plus Age, Via and Cache-Status. */
const NOT_MODIFIED_FIELDS = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified', 'age', 'via', 'cache-status']);

export function notModifiedHeaders(stored: HeaderList): HeaderList {
  return stored.filter(([n]) => NOT_MODIFIED_FIELDS.has(n));
}
