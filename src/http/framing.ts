/**
 * @module Request framing and field checks a proxy must make itself, on the raw header list (RFC 9112 §6, §3.2;
 * RELIABILITY S1–S7). Node's parser already rejects most malformed input; these rules cover what it lets through
 * (duplicate singleton fields, Connection naming framing fields, HTTP/1.0 with Transfer-Encoding) and produce the
 * canonical head that is forwarded. Pure.
 */
import { isFieldValue, isToken } from './grammar.ts';
import type { HeaderList } from './headers.ts';
import { PROTECTED_FROM_CONNECTION, parseConnectionTokens } from './hop-by-hop.ts';

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export type FramingResult =
  | { kind: 'ok'; headers: HeaderList; body: BodyFraming }
  | { kind: 'reject'; status: 400 | 413 | 431 | 501 | 505; reason: string };

/**
 * Fields that must appear at most once: Host (RFC 9112 §3.2 "MUST respond with 400"), Content-Length (RFC 9112 §6.3
 * item 5, identical duplicates refused too — RELIABILITY S3), and singletons whose duplicates Node's `req.headers`
 * silently drops, so a check on one copy could be bypassed by the other.
 */
export const SINGLETON_FIELDS: ReadonlySet<string> = new Set([
  'host', 'content-length', 'authorization', 'proxy-authorization', 'content-type', 'range', 'if-range',
]);

/** SINGLETON_FIELDS, each as one bit (checkRequestFraming's duplicate check). */
const SINGLETON_BITS: ReadonlyMap<string, number> = new Map([...SINGLETON_FIELDS].map((name, i) => [name, 1 << i]));
/** Connection values that are one option, a token that names no protected field (the exact spellings clients send). */
const PLAIN_CONNECTION: ReadonlySet<string> = new Set(['keep-alive', 'close', 'Keep-Alive', 'Close']);
const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });

/** RFC 9110 §4.2.3 / RFC 3986 §3.2: host [":" port], host = IP-literal / IPv4address / reg-name. */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{0,5})?$/;
const DIGITS = /^[0-9]+$/;

export function isValidHostHeader(value: string): boolean {
  return AUTHORITY.test(value);
}

/**
 * Check a request head as received and return the head to forward: Content-Length in plain decimal, a single
 * `chunked` coding (RFC 9112 §6.1), or a rejection. `maxBodyBytes` turns a too-large declared length into 413
 * before any body byte is read (RELIABILITY R11).
 */
export function checkRequestFraming(httpVersion: string, headers: HeaderList, maxBodyBytes: number | null = null): FramingResult {
  // RFC 9112 §2.3: ferry speaks HTTP/1.0 and 1.1 only. llhttp also accepts an HTTP/0.9 request-line (`GET /x`, no
  // version), and still reads field lines after it; forwarding that as HTTP/1.1 would be a reading no recipient shares.
  if (httpVersion !== '1.1' && httpVersion !== '1.0') return reject(505, `HTTP/${httpVersion} is not supported`);
  // (once per request: the singletons seen as bits, no Map; no codings list, Host closure or Connection token list
  // unless the head has something to check there: issue 13, bytes allocated per small request)
  let seen = 0;
  let contentLength: string | undefined;
  let codings: string[] | null = null;
  let host: string | undefined;
  let connection = false;
  for (const [name, value] of headers) {
    if (!isToken(name)) return reject(400, `invalid field name ${JSON.stringify(name)}`);
    if (!isFieldValue(value)) return reject(400, `invalid characters in field ${name}`);
    const bit = SINGLETON_BITS.get(name);
    if (bit !== undefined) {
      if ((seen & bit) !== 0) return reject(400, `duplicate ${name} field`);
      seen |= bit;
    }
    if (name === 'content-length') contentLength = value.trim();
    else if (name === 'transfer-encoding') {
      codings ??= [];
      for (const c of value.split(',')) codings.push(c.trim().toLowerCase());
    } else if (name === 'host') host ??= value;
    else if ((name === 'connection' || name === 'proxy-connection') && !PLAIN_CONNECTION.has(value)) connection = true;
  }
  if (host === undefined) {
    if (httpVersion !== '1.0') return reject(400, 'missing Host field'); // RFC 9112 §3.2
  } else if (!isValidHostHeader(host.trim())) {
    return reject(400, 'invalid Host field');
  }
  // a Connection line of one plain option (keep-alive, close) names nothing protected and is a token: no parse
  if (connection) {
    for (const option of parseConnectionTokens(headers)) {
      if (PROTECTED_FROM_CONNECTION.has(option)) return reject(400, `Connection may not name ${option}`);
      if (!isToken(option)) return reject(400, 'invalid Connection option');
    }
  }
  let body: BodyFraming = NO_BODY;
  if (codings !== null && codings.length > 0) {
    // RFC 9112 §6.1: TE in HTTP/1.0 means faulty framing; TE with CL is a smuggling attempt (§6.3 item 3).
    if (httpVersion === '1.0') return reject(400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (contentLength !== undefined) return reject(400, 'both Content-Length and Transfer-Encoding');
    if (codings[codings.length - 1] !== 'chunked') return reject(400, 'chunked is not the final transfer coding');
    if (codings.length > 1) return reject(501, `unsupported transfer coding ${codings[0]}`);
    body = { kind: 'chunked' };
  } else if (contentLength !== undefined) {
    if (!DIGITS.test(contentLength) || contentLength.length > 15) return reject(400, 'invalid Content-Length');
    const length = Number(contentLength);
    if (maxBodyBytes !== null && length > maxBodyBytes) return reject(413, `body of ${length} bytes exceeds the limit`);
    body = length === 0 ? { kind: 'length', length: 0 } : { kind: 'length', length };
  }
  return { kind: 'ok', headers: canonicalize(headers, body), body };
}

/** Rewrite the framing fields in their one canonical spelling (HTTP Garden transducer lesson, RELIABILITY S1). */
function canonicalize(headers: HeaderList, body: BodyFraming): HeaderList {
  if (body.kind === 'none') return headers;
  let changed = false;
  const out: HeaderList = headers.map((h): [string, string] => {
    if (body.kind === 'length' && h[0] === 'content-length' && h[1] !== String(body.length)) {
      changed = true;
      return ['content-length', String(body.length)];
    }
    if (body.kind === 'chunked' && h[0] === 'transfer-encoding' && h[1] !== 'chunked') {
      changed = true;
      return ['transfer-encoding', 'chunked'];
    }
    return h;
  });
  return changed ? out : headers;
}

function reject(status: 400 | 413 | 501 | 505, reason: string): FramingResult {
  return { kind: 'reject', status, reason };
}

/**
 * A message's body length as its one Content-Length field declares it (RFC 9110 §8.6: 1*DIGIT; at most 15 digits, as
 * checkRequestFraming reads it), or undefined without exactly one valid field. For a response ferry already took in
 * (the cache's fill, the relay client's prefetch bound): names compared case-insensitively, since a relayed head
 * keeps its sender's spelling.
 */
export function declaredContentLength(headers: ReadonlyArray<readonly [string, string]>): number | undefined {
  let value: string | undefined;
  for (const [n, v] of headers) {
    if (n.length !== 14 || n.toLowerCase() !== 'content-length') continue;
    if (value !== undefined) return undefined;
    value = v.trim();
  }
  return value !== undefined && value.length <= 15 && DIGITS.test(value) ? Number(value) : undefined;
}
