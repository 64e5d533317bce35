/**
 * @module HTTP/2 ↔ HTTP/1.1 translation at ferry's edge (RFC 9113 §8): an h2 request's header block becomes the
 * HTTP/1.1 head the phases see and the upstream gets, and a response head loses what HTTP/2 may not carry. Pure.
 *
 * - Pseudo-header fields (§8.3.1) become the request line; `:authority` becomes Host (an intermediary that makes an
 *   HTTP/1.1 request "MUST use the value from the :authority pseudo-header field as the value of the Host field").
 *   A Host naming another authority than `:authority` is malformed (§8.3.1, "SHOULD treat … as malformed").
 * - Connection-specific fields are refused (§8.2.2: Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding,
 *   Upgrade; TE other than "trailers"): such a request is malformed, and a malformed request is never forwarded
 *   (§8.1.1). Node's nghttp2 already resets most of them; this check does not rely on it.
 * - Cookie crumbs are joined with "; " into one field before it goes to HTTP/1.1 (§8.2.3).
 * - Body framing: Content-Length when sent (checked), none when the HEADERS frame ended the stream, otherwise the
 *   DATA frames go upstream as a chunked body (HTTP/1.1 needs a framing; §8.1 leaves it to the h1 side).
 * - Extended CONNECT (RFC 8441 §4): `:protocol` with CONNECT is kept for the runner, which turns it into an h1 Upgrade.
 */
import type { BodyFraming } from './framing.ts';
import { isValidHostHeader } from './framing.ts';
import { isFieldValue, isToken } from './grammar.ts';
import type { HeaderList } from './headers.ts';

/** RFC 9113 §8.2.2. */
export const H2_CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const PSEUDO_REQUEST: ReadonlySet<string> = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
const DIGITS = /^[0-9]+$/;

export interface H2RequestHead {
  method: string;
  /** origin-form `/path?query`, or the authority for CONNECT (RFC 9113 §8.5). */
  target: string;
  scheme: string | undefined;
  authority: string | undefined;
  /** RFC 8441 `:protocol` of an extended CONNECT (e.g. `websocket`). */
  protocol: string | undefined;
  /** Regular fields for HTTP/1.1: Host first, cookies joined, connection-specific ones absent. */
  headers: HeaderList;
  body: BodyFraming;
}

export type H2Translation = { kind: 'ok'; head: H2RequestHead } | { kind: 'reject'; status: 400 | 413 | 431; reason: string };

export interface H2Limits {
  maxHeadersCount: number;
  maxBodyBytes: number | null;
}

/**
 * Translate an h2 request header block (Node's `rawHeaders`: alternating names and values, pseudo-headers first);
 * `endStream`: the HEADERS frame carried END_STREAM (no body follows).
 */
export function translateH2Request(raw: readonly string[], endStream: boolean, limits: H2Limits): H2Translation {
  const pseudo = new Map<string, string>();
  const regular: HeaderList = [];
  const cookies: string[] = [];
  let host: string | undefined;
  let contentLength: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.startsWith(':')) {
      // §8.3: pseudo-headers only before regular fields, each at most once, only the defined ones
      if (!PSEUDO_REQUEST.has(name)) return reject(400, `unknown pseudo-header ${name}`);
      if (regular.length > 0 || cookies.length > 0 || host !== undefined) return reject(400, `pseudo-header ${name} after a regular field`);
      if (pseudo.has(name)) return reject(400, `duplicate ${name}`);
      pseudo.set(name, value);
      continue;
    }
    // §8.2: field names are lowercase in HTTP/2
    if (!isToken(name) || name !== name.toLowerCase()) return reject(400, `invalid field name ${JSON.stringify(name)}`);
    if (!isFieldValue(value)) return reject(400, `invalid characters in field ${name}`);
    if (H2_CONNECTION_SPECIFIC.has(name)) return reject(400, `connection-specific field ${name} in an HTTP/2 request`);
    if (name === 'te' && value.trim().toLowerCase() !== 'trailers') return reject(400, 'TE other than "trailers" in an HTTP/2 request');
    if (name === 'cookie') { cookies.push(value); continue; }
    if (name === 'host') {
      if (host !== undefined) return reject(400, 'duplicate host field');
      host = value.trim();
      continue;
    }
    if (name === 'content-length') {
      if (contentLength !== undefined && contentLength !== value.trim()) return reject(400, 'conflicting content-length fields');
      if (contentLength !== undefined) continue;
      contentLength = value.trim();
    }
    regular.push([name, value]);
  }
  const method = pseudo.get(':method');
  const scheme = pseudo.get(':scheme');
  const authority = pseudo.get(':authority');
  const path = pseudo.get(':path');
  const protocol = pseudo.get(':protocol');
  if (method === undefined || !isToken(method)) return reject(400, 'missing or invalid :method');
  const target = requestTarget(method, scheme, authority, path, protocol);
  if (typeof target !== 'string') return target;
  if (authority !== undefined) {
    if (!isValidHostHeader(authority)) return reject(400, 'invalid :authority');
    if (host !== undefined && host.toLowerCase() !== authority.toLowerCase()) return reject(400, 'Host differs from :authority');
  } else if (host !== undefined && !isValidHostHeader(host)) {
    return reject(400, 'invalid Host field');
  }
  const hostValue = authority ?? host;
  if (hostValue === undefined) return reject(400, 'missing :authority and Host');
  const headers: HeaderList = [['host', hostValue]];
  for (const h of regular) headers.push(h);
  if (cookies.length > 0) headers.push(['cookie', cookies.join('; ')]);
  if (headers.length > limits.maxHeadersCount) return reject(431, `more than ${limits.maxHeadersCount} header fields`);
  let body: BodyFraming;
  if (contentLength !== undefined) {
    if (!DIGITS.test(contentLength) || contentLength.length > 15) return reject(400, 'invalid Content-Length');
    const length = Number(contentLength);
    if (limits.maxBodyBytes !== null && length > limits.maxBodyBytes) return reject(413, `body of ${length} bytes exceeds the limit`);
    body = { kind: 'length', length };
  } else if (endStream || method === 'CONNECT') {
    body = { kind: 'none' };
  } else {
    body = { kind: 'chunked' };
    headers.push(['transfer-encoding', 'chunked']);
  }
  return { kind: 'ok', head: { method, target, scheme, authority, protocol, headers, body } };
}

/** The request-target the pseudo-headers name (§8.3.1), or the authority of a CONNECT (§8.5). */
function requestTarget(method: string, scheme: string | undefined, authority: string | undefined, path: string | undefined, protocol: string | undefined): string | H2Translation {
  if (method === 'CONNECT' && protocol === undefined) {
    // §8.5: only :method and :authority
    if (scheme !== undefined || path !== undefined) return reject(400, 'CONNECT with :scheme or :path');
    if (authority === undefined) return reject(400, 'CONNECT without :authority');
    return authority;
  }
  if (protocol !== undefined && method !== 'CONNECT') return reject(400, ':protocol without CONNECT');
  // §8.3.1: :method, :scheme and :path are required, :path non-empty
  if (scheme === undefined || path === undefined || path === '') return reject(400, 'missing :scheme or :path');
  if (path !== '*' && !path.startsWith('/')) return reject(400, 'invalid :path');
  if (/[\s\x00-\x1f\x7f]/.test(path)) return reject(400, 'invalid characters in :path');
  return path;
}

/**
 * RFC 8441 §5: an extended CONNECT becomes the HTTP/1.1 upgrade it stands for — `GET :path` with `Connection:
 * upgrade`, `Upgrade: <:protocol>` and, for WebSocket, a fresh Sec-WebSocket-Key (`key`: 16 random bytes, base64;
 * RFC 6455 §4.1), since HTTP/2 clients send none. The upstream's 101 is answered 200 on the stream.
 */
export function extendedConnectAsUpgrade(head: H2RequestHead, key: string): H2RequestHead {
  const protocol = head.protocol ?? '';
  const headers: HeaderList = head.headers.filter(([n]) => n !== 'sec-websocket-key');
  headers.push(['connection', 'upgrade'], ['upgrade', protocol]);
  if (protocol.toLowerCase() === 'websocket') headers.push(['sec-websocket-key', key]);
  return { ...head, method: 'GET', headers, body: { kind: 'none' } };
}

/**
 * A response head for an HTTP/2 stream: connection-specific fields removed (§8.2.2; Node throws on them), and the
 * fields a `Connection` line named with them. Returns the same list when nothing had to go.
 */
export function h2ResponseHeaders(headers: HeaderList): HeaderList {
  let named: Set<string> | null = null;
  for (const [n, v] of headers) {
    if (n !== 'connection') continue;
    named ??= new Set();
    for (const t of v.split(',')) if (t.trim()) named.add(t.trim().toLowerCase());
  }
  if (named === null && !headers.some(([n, v]) => H2_CONNECTION_SPECIFIC.has(n) || (n === 'te' && v.trim().toLowerCase() !== 'trailers'))) return headers;
  return headers.filter(([n, v]) => !H2_CONNECTION_SPECIFIC.has(n) && !(named?.has(n) ?? false) && !(n === 'te' && v.trim().toLowerCase() !== 'trailers'));
}

function reject(status: 400 | 413 | 431, reason: string): H2Translation {
  return { kind: 'reject', status, reason };
}
