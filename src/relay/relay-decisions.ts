/**
 * @module What relay-server does with a message, decided without I/O (as the proxy's fail-to-proxy.ts decides
 * failures): route it, authenticate it, check its digest and its fields, and turn what the store answered into a
 * reply, a refusal or another wait. relay-server.ts and relay-endpoints.ts only carry these decisions out.
 *
 * Every refusal carries a code from the closed `RelayErrorCode` union: it travels as `x-ferry-error` and as the
 * JSON body's `error` (docs/relay.md). Statuses follow tus 1.0 and RFC 9110 (see protocol.ts).
 */
import { verifyRelayRequest, type FieldGetter } from './hmac.ts';
import {
  formatContentDigest, H, isSessionId, parseContentDigest, parseIndex, parseOpenRequest, RELAY_PATHS,
  STATUS_CHECKSUM_MISMATCH, type OpenRequest, type RelayPath,
} from './protocol.ts';
import { decideDownFetch, type SessionMeta } from './session.ts';
import type { PutUpResult } from './session-store.ts';

/** Every `x-ferry-error` relay-server sends. */
export type RelayErrorCode =
  | 'not-found' | 'method' | 'length' | 'auth' | 'skew' | 'replay' | 'checksum' | 'session' | 'open' | 'port'
  | 'index' | 'closing' | 'conflict' | 'gone' | 'target' | 'busy' | 'stale' | 'store' | 'internal' | 'unopened' | 'early';

export interface Refusal {
  kind: 'refuse'; code: RelayErrorCode; status: number; reason: string;
  /** Sign the refusal (the message was authenticated). */ signed: boolean;
  /** For the log only (which check failed), never sent. */ detail?: string;
}

export function refusal(code: RelayErrorCode, status: number, reason: string, signed = true): Refusal {
  return { kind: 'refuse', code, status, reason, signed };
}

/** What an authenticated message asks for, its fields parsed. */
export type RelayRequest =
  | { endpoint: typeof RELAY_PATHS.open; open: OpenRequest }
  | { endpoint: typeof RELAY_PATHS.up; index: number; fin: boolean; early: boolean }
  | { endpoint: typeof RELAY_PATHS.down; index: number; ack: number; early: boolean }
  | { endpoint: typeof RELAY_PATHS.close };

export type Dispatch = { kind: 'dispatch'; session: string; request: RelayRequest };

// ---- before the body is read ----

export type RouteDecision = { kind: 'stats' } | Refusal | { kind: 'read'; endpoint: RelayPath; length: number };

/**
 * The gateway may add a stage prefix (`/prod/relay/v1/up`): endpoints match by suffix, and the HMAC covers the
 * endpoint, not the prefix the client cannot know. A body must be announced by Content-Length within --max-message.
 */
export function decideRoute(method: string | undefined, path: string, contentLength: string | undefined, statsPath: string, maxMessage: number): RouteDecision {
  if (method === 'GET' && statsPath !== '' && path === statsPath) return { kind: 'stats' };
  const endpoint = Object.values(RELAY_PATHS).find((p) => path === p || path.endsWith(p));
  if (endpoint === undefined) return refusal('not-found', 404, `no relay endpoint ${path}`, false);
  if (method !== 'POST') return refusal('method', 405, 'relay endpoints take POST', false);
  const declared = Number(contentLength ?? 'NaN');
  if (!Number.isSafeInteger(declared) || declared > maxMessage) return refusal('length', declared > maxMessage ? 413 : 411, 'length', false);
  return { kind: 'read', endpoint, length: declared };
}

// ---- once the body is read ----

export type AcceptDecision = Refusal | { kind: 'accepted'; nonce: string; digest: string };

export interface MessageIn { endpoint: RelayPath; body: Buffer; names: readonly string[]; get: FieldGetter; secret: Buffer | undefined; nowMs: number }

/** Authenticate (HMAC and clock, hmac.ts) and check the body against its Content-Digest (RFC 9530). */
export function acceptMessage(m: MessageIn): AcceptDecision {
  let nonce = '';
  if (m.secret) {
    const v = verifyRelayRequest(m.secret, 'POST', m.endpoint, m.names, m.get, m.nowMs);
    if (v.kind === 'refused') {
      return v.reason === 'skew'
        ? refusal('skew', 401, 'timestamp more than 300 s from server clock', false)
        : { ...refusal('auth', 401, 'authentication failed', false), detail: v.reason };
    }
    nonce = v.nonce;
  }
  const digest = formatContentDigest(m.body);
  if (parseContentDigest(m.get(H.digest)) !== digest) return refusal('checksum', STATUS_CHECKSUM_MISMATCH, 'Checksum Mismatch: resend the chunk');
  return { kind: 'accepted', nonce, digest };
}

export const REPLAY_REFUSAL = refusal('replay', 401, 'nonce already used', false);

/** After the replay check: the session id and the endpoint's own fields (the open body, chunk indexes). */
export function decideDispatch(endpoint: RelayPath, get: FieldGetter, body: Buffer, connectPorts: readonly number[] | undefined): Dispatch | Refusal {
  const session = get(H.session);
  if (!isSessionId(session)) return refusal('session', 400, 'missing or invalid x-ferry-session');
  const request = parseRequest(endpoint, get, body, connectPorts);
  return 'kind' in request ? request : { kind: 'dispatch', session, request };
}

function parseRequest(endpoint: RelayPath, get: FieldGetter, body: Buffer, connectPorts: readonly number[] | undefined): RelayRequest | Refusal {
  switch (endpoint) {
    case RELAY_PATHS.open: {
      const parsed = parseOpenRequest(body);
      if (!parsed.ok) return refusal('open', 400, parsed.reason);
      const open = parsed.value;
      if (open.kind === 'connect' && connectPorts && !connectPorts.includes(open.port)) return refusal('port', 403, `CONNECT to port ${open.port} is not allowed`);
      return { endpoint, open };
    }
    case RELAY_PATHS.up: {
      const index = parseIndex(get(H.index));
      if (index === undefined) return refusal('index', 400, 'missing or invalid x-ferry-index');
      return { endpoint, index, fin: get(H.fin) === '1', early: get(H.early) === '1' };
    }
    case RELAY_PATHS.down: {
      const index = parseIndex(get(H.index));
      const ack = parseIndex(get(H.ack) ?? '0');
      if (index === undefined || ack === undefined || ack > index) return refusal('index', 400, 'missing or invalid x-ferry-index / x-ferry-ack');
      return { endpoint, index, ack, early: get(H.early) === '1' };
    }
    case RELAY_PATHS.close: return { endpoint };
  }
}

// ---- what the store answered ----

/** Long polls: answer, refuse, or wait at most `waitMs` more and ask the store again. */
export type Progress<T> = { kind: 'done'; value: T } | Refusal | { kind: 'wait'; waitMs: number };

const GONE = refusal('gone', 410, 'session expired or closed');

/**
 * A message sent before its session's open was answered (`x-ferry-early: 1`) may overtake the open: on the way through
 * the gateway, or to another instance. It waits for the session to exist, re-reading the store at least every
 * EARLY_RECHECK_MS (a lost notification costs no more), until its deadline (the same --poll-timeout as any long wait,
 * so under the gateway's integration timeout); then it is refused `unopened`: nothing was stored for it. Only
 * early messages wait: a message for a session that is gone (closed, expired) is still refused at once.
 */
export function decideArrival(meta: SessionMeta | undefined, leftMs: number, aborted: boolean): Progress<'arrived'> {
  if (meta) return { kind: 'done', value: 'arrived' };
  if (leftMs <= 0 || aborted) return refusal('unopened', 404, 'session not opened within the poll bound (its open never arrived)');
  return { kind: 'wait', waitMs: Math.min(leftMs, EARLY_RECHECK_MS) };
}

export const EARLY_RECHECK_MS = 100;

/**
 * How much one relay-server holds in early messages at once: at most EARLY_MAX_MESSAGES of them, and up-chunk bodies
 * of at most `maxBytes` together (2 × --session-memory: before its open is answered a client sends at most --window down
 * polls and an up window of chunks, itself within --session-memory, client-session.ts). Past either an early message
 * is refused `early` (503): the client sends it again shortly, without counting a retry, by when the open has usually
 * arrived (gateway-transport.ts; bounded by --poll-timeout). Without the caps held bodies would be bounded only by time.
 */
export const EARLY_MAX_MESSAGES = 512;

export function admitEarly(held: { messages: number; bytes: number }, bytes: number, maxBytes: number): boolean {
  return held.messages < EARLY_MAX_MESSAGES && held.bytes + bytes <= maxBytes;
}

/** An open waits until the owner connected to the target (or failed), within the poll deadline. */
export function decideOpenProgress(meta: SessionMeta | undefined, leftMs: number): Progress<'open'> {
  if (!meta) return GONE;
  if (meta.state === 'open') return { kind: 'done', value: 'open' };
  if (meta.state === 'failed') return refusal('target', meta.failStatus || 502, meta.failReason);
  if (leftMs <= 0) return refusal('busy', 503, 'target not connected yet; retry');
  return { kind: 'wait', waitMs: Math.min(leftMs, 250) };
}

/** An up chunk is acknowledged once stored (or recognised as a re-send); a full window waits. */
export function decideUpProgress(r: PutUpResult, index: number, leftMs: number, aborted: boolean): Progress<'stored' | 'duplicate'> {
  switch (r.kind) {
    case 'stored': case 'duplicate': return { kind: 'done', value: r.kind };
    case 'gone': return GONE;
    case 'conflict': return refusal('conflict', 409, `chunk ${index} was already received with a different digest`);
    case 'busy': return leftMs <= 0 || aborted ? refusal('busy', 503, 'window full; retry') : { kind: 'wait', waitMs: Math.min(leftMs, 250) };
  }
}

/** A down poll answers a produced chunk, refuses a confirmed one, or ends empty (204) at its deadline. */
export function decideDownProgress(meta: SessionMeta | undefined, index: number, leftMs: number, aborted: boolean): Progress<'ready' | 'empty'> {
  if (!meta) return GONE;
  const d = decideDownFetch(index, meta);
  if (d.kind === 'stale') return refusal('stale', 409, `chunk ${index} was already confirmed`);
  if (d.kind === 'ready') return { kind: 'done', value: 'ready' };
  if (leftMs <= 0 || aborted) return { kind: 'done', value: 'empty' };
  return { kind: 'wait', waitMs: Math.min(leftMs, 1000) };
}
