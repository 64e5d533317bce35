/**
 * @module The relay wire protocol: endpoints, metadata headers, message budget, the open request and
 * down-chunk descriptors. Pure; no I/O.
 *
 * One relay *session* carries one application exchange (an absolute-form HTTP request or a CONNECT
 * tunnel) as two byte streams: `up` (client → server) and `down` (server → client). Each stream is cut
 * into numbered chunks; every chunk is one small signed POST through the gateway. Vocabulary is
 * borrowed from tus 1.0 (offsets, 460 Checksum Mismatch, 409 on conflict, `Cache-Control: no-store`)
 * and S3 multipart (numbered parts, idempotent re-send), and the digest uses the RFC 9530
 * `Content-Digest` field.
 */
import { createHash } from 'node:crypto';
import type { HeaderList } from '../http/headers.ts';
import { isFieldValue, isToken } from '../http/grammar.ts';
import { parseConnectionTokens, PROTECTED_FROM_CONNECTION } from '../http/hop-by-hop.ts';
import { isItem, parseDictionaryField } from '../http/structured-fields.ts';

export const RELAY_PATHS = {
  open: '/relay/v1/open',
  up: '/relay/v1/up',
  down: '/relay/v1/down',
  close: '/relay/v1/close',
} as const;
export type RelayPath = (typeof RELAY_PATHS)[keyof typeof RELAY_PATHS];

export const H = {
  session: 'x-ferry-session',
  index: 'x-ferry-index',
  fin: 'x-ferry-fin',
  ack: 'x-ferry-ack',
  /** `1`: sent before the session's open was answered; relay-server holds it until the open arrives (bounded). */
  early: 'x-ferry-early',
  type: 'x-ferry-type',
  error: 'x-ferry-error',
  auth: 'x-ferry-auth',
  responseAuth: 'x-ferry-response-auth',
  digest: 'content-digest',
} as const;

/** tus 1.0 checksum extension: the chunk did not match its checksum; discarded, resend it. */
export const STATUS_CHECKSUM_MISMATCH = 460;

/**
 * Bytes of every relay message kept for the request line and headers (ours, the gateway's and SigV4's:
 * `Authorization`, `X-Amz-Date`, a 1-2 KB `X-Amz-Security-Token`). Real gateways cap the head on
 * its own (AWS HTTP APIs: 10 240 bytes), so the head budget stays under that whatever --max-message is.
 */
export const HEAD_BUDGET = 8 * 1024;
export const MIN_MAX_MESSAGE = 16 * 1024;

/** Largest chunk payload that keeps a whole message (head + body) under `maxMessage`. */
export function chunkPayloadSize(maxMessage: number): number {
  if (maxMessage < MIN_MAX_MESSAGE) throw new RangeError(`max-message must be at least ${MIN_MAX_MESSAGE} bytes`);
  return maxMessage - HEAD_BUDGET;
}

/** RFC 9530 §2: `Content-Digest: sha-256=:BASE64:`. */
export function formatContentDigest(body: Uint8Array): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

/** The sha-256 member of a Content-Digest value, or undefined (other algorithms are ignored, RFC 9530 §2). */
export function parseContentDigest(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // A Dictionary (RFC 9530 §2, RFC 8941 §3.2) parsed by the library: parameters and other members are allowed.
  const member = parseDictionaryField(value)?.get('sha-256');
  if (member === undefined || !isItem(member) || !(member[0] instanceof ArrayBuffer)) return undefined;
  return `sha-256=:${Buffer.from(member[0]).toString('base64')}:`;
}

export function isSessionId(text: string | undefined): text is string {
  return text !== undefined && /^[A-Za-z0-9_-]{16,64}$/.test(text);
}

/** A chunk index: a non-negative safe integer written in decimal without leading zeros. */
export function parseIndex(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0|[1-9]\d{0,14})$/.test(text)) return undefined;
  return Number(text);
}

/** What the client asks the server to open: the application's request head travels here, in the body. */
export type OpenRequest =
  | { kind: 'http'; method: string; url: string; headers: HeaderList; hasBody: boolean }
  | { kind: 'connect'; host: string; port: number };

export function formatOpenRequest(open: OpenRequest): Buffer {
  return Buffer.from(JSON.stringify(open), 'utf8');
}

/** Validate an open body: only well-formed heads reach a target (RFC 9110 §5.1 token names, §5.5 values). */
export function parseOpenRequest(body: Buffer): { ok: true; value: OpenRequest } | { ok: false; reason: string } {
  let data: unknown;
  try { data = JSON.parse(body.toString('utf8')); } catch { return { ok: false, reason: 'open body is not JSON' }; }
  if (data === null || typeof data !== 'object') return { ok: false, reason: 'open body is not an object' };
  const o = data as Record<string, unknown>;
  if (o.kind === 'connect') {
    if (typeof o.host !== 'string' || !/^[A-Za-z0-9.\-:]{1,253}$/.test(o.host)) return { ok: false, reason: 'bad CONNECT host' };
    if (typeof o.port !== 'number' || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) return { ok: false, reason: 'bad CONNECT port' };
    return { ok: true, value: { kind: 'connect', host: o.host, port: o.port } };
  }
  if (o.kind === 'http') {
    if (typeof o.method !== 'string' || !isToken(o.method)) return { ok: false, reason: 'bad method' };
    if (typeof o.url !== 'string') return { ok: false, reason: 'bad url' };
    let url: URL;
    try { url = new URL(o.url); } catch { return { ok: false, reason: 'bad url' }; }
    if (url.protocol !== 'http:') return { ok: false, reason: 'only http: URLs travel as requests (use CONNECT for https)' };
    if (!Array.isArray(o.headers)) return { ok: false, reason: 'bad headers' };
    const headers: HeaderList = [];
    for (const h of o.headers as unknown[]) {
      if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string' || typeof h[1] !== 'string') return { ok: false, reason: 'bad header entry' };
      if (!isToken(h[0]) || !isFieldValue(h[1])) return { ok: false, reason: `invalid header ${JSON.stringify(h[0])}` };
      headers.push([h[0].toLowerCase(), h[1]]);
    }
    // The proxy's rule (RELIABILITY S7): a Connection option may not remove a framing field or Host. The client
    // strips Connection before sending, so only a broken or hostile client gets here.
    for (const option of parseConnectionTokens(headers)) {
      if (PROTECTED_FROM_CONNECTION.has(option)) return { ok: false, reason: `Connection may not name ${option}` };
    }
    if (typeof o.hasBody !== 'boolean') return { ok: false, reason: 'bad hasBody' };
    return { ok: true, value: { kind: 'http', method: o.method, url: o.url, headers, hasBody: o.hasBody } };
  }
  return { ok: false, reason: 'unknown open kind' };
}

/** The kinds of down chunk: the target's response head (JSON), body bytes, or a failure (JSON). */
export type DownType = 'head' | 'data' | 'error';
export const DOWN_TYPES: readonly DownType[] = ['head', 'data', 'error'];

export interface ResponseHeadPayload { status: number; headers: HeaderList }
export interface ErrorPayload { status: number; reason: string }

/** A head has at most as many fields as node's parser accepts from the target (http.maxHeadersCount default). */
export const MAX_HEAD_FIELDS = 2000;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseJsonObject(body: Buffer, maxBytes: number, what: string): Parsed<Record<string, unknown>> {
  if (body.length > maxBytes) return { ok: false, reason: `${what} of ${body.length} bytes is larger than one chunk` };
  let data: unknown;
  try { data = JSON.parse(body.toString('utf8')); } catch { return { ok: false, reason: `${what} is not JSON` }; }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { ok: false, reason: `${what} is not an object` };
  return { ok: true, value: data as Record<string, unknown> };
}

/** RFC 9110 §15: a final status is a three-digit code; 1xx never travels as a head (node gives only final responses). */
function isFinalStatus(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 200 && v <= 599;
}

/**
 * Validate the response head relay-client receives before anything of it reaches the application: a final status and
 * a list of [name, value] pairs, names tokens and values field values (RFC 9110 §5.1, §5.5). Only own `status` and
 * `headers` are read, and a fresh object is returned: keys such as `__proto__` in the JSON reach nothing.
 */
export function parseResponseHead(body: Buffer, maxBytes: number): Parsed<ResponseHeadPayload> {
  const parsed = parseJsonObject(body, maxBytes, 'response head');
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  if (!Object.hasOwn(o, 'status') || !isFinalStatus(o.status)) return { ok: false, reason: 'response head has no valid status (200-599)' };
  if (!Object.hasOwn(o, 'headers') || !Array.isArray(o.headers)) return { ok: false, reason: 'response head has no header list' };
  if (o.headers.length > MAX_HEAD_FIELDS) return { ok: false, reason: `response head has more than ${MAX_HEAD_FIELDS} fields` };
  const headers: HeaderList = [];
  for (const h of o.headers as unknown[]) {
    if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string' || typeof h[1] !== 'string') return { ok: false, reason: 'response head field is not a [name, value] pair' };
    if (!isToken(h[0]) || !isFieldValue(h[1])) return { ok: false, reason: `response head field ${JSON.stringify(h[0].slice(0, 64))} is invalid` };
    headers.push([h[0], h[1]]);
  }
  return { ok: true, value: { status: o.status, headers } };
}

/** An error chunk's payload; anything malformed becomes a plain 502 (it is a failure either way). */
export function parseErrorPayload(body: Buffer, maxBytes: number): ErrorPayload {
  const parsed = parseJsonObject(body, maxBytes, 'error chunk');
  if (!parsed.ok) return { status: 502, reason: `relay error (${parsed.reason})` };
  const { status, reason } = parsed.value;
  return {
    status: typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502,
    reason: typeof reason === 'string' ? reason.slice(0, 1024) : 'relay error',
  };
}

