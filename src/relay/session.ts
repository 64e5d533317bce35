/**
 * @module Relay session state and the decisions on it: chunk idempotency, the window, acks. Pure; no I/O.
 *
 * The gateway hop is at-least-once (the client, the gateway or a balancer may repeat any message); the
 * relay makes it effectively-once by deduplicating on (session, direction, index) with the chunk's
 * SHA-256 as fingerprint, like Kafka's idempotent producer or S3 part numbers (RELIABILITY §5).
 */

export type SessionKind = 'http' | 'connect';
export type SessionState = 'opening' | 'open' | 'failed';

export interface SessionMeta {
  id: string;
  kind: SessionKind;
  /** SHA-256 of the open body: a repeated open must be the same open (draft-ietf-httpapi-idempotency-key). */
  openDigest: string;
  /** Instance holding the target connection. */
  owner: string;
  state: SessionState;
  failStatus: number;
  failReason: string;
  /** Up chunks written to the target, in order (the tus offset, counted in chunks). */
  upDelivered: number;
  /** Down chunks the owner has produced. */
  downProduced: number;
  /** Down chunks the client has confirmed (it asked for index >= this with ack = this). */
  downAcked: number;
  /** One past the highest down index the client has polled for: its window (window-controller.ts) in effect. */
  downWanted: number;
}

export function newSessionMeta(id: string, kind: SessionKind, openDigest: string, owner: string): SessionMeta {
  return { id, kind, openDigest, owner, state: 'opening', failStatus: 0, failReason: '', upDelivered: 0, downProduced: 0, downAcked: 0, downWanted: 0 };
}

/** Counters only grow: a late or repeated update never moves a session backwards. */
export const MONOTONIC_FIELDS = ['upDelivered', 'downProduced', 'downAcked', 'downWanted'] as const;
export type SessionPatch = Partial<Pick<SessionMeta, 'state' | 'failStatus' | 'failReason' | (typeof MONOTONIC_FIELDS)[number]>>;

export function applyPatch(meta: SessionMeta, patch: SessionPatch): SessionMeta {
  const next = { ...meta };
  for (const f of MONOTONIC_FIELDS) {
    const v = patch[f];
    if (v !== undefined && v > next[f]) next[f] = v;
  }
  if (patch.state !== undefined) next.state = patch.state;
  if (patch.failStatus !== undefined) next.failStatus = patch.failStatus;
  if (patch.failReason !== undefined) next.failReason = patch.failReason;
  return next;
}

/** Fingerprint of an up chunk: its digest plus whether it ends the stream. */
export function upFingerprint(digest: string, fin: boolean): string {
  return fin ? `${digest};fin` : digest;
}

export function parseUpFingerprint(fp: string): { digest: string; fin: boolean } {
  return fp.endsWith(';fin') ? { digest: fp.slice(0, -4), fin: true } : { digest: fp, fin: false };
}

export type UpDecision =
  /** New and inside the window: store it and acknowledge. */
  | { kind: 'store' }
  /** Seen before with the same bytes: acknowledge again, deliver nothing (S3 part re-send). */
  | { kind: 'duplicate' }
  /** Seen before with other bytes: 409, nothing delivered (tus offset conflict; stricter than S3 overwrite
   * because the first bytes may already be on their way to the target). */
  | { kind: 'conflict' }
  /** Too far ahead of what the target has taken: wait (bounded memory, backpressure to the client). */
  | { kind: 'busy' };

export function decideUpChunk(previousFingerprint: string | undefined, fingerprint: string, index: number, upDelivered: number, window: number): UpDecision {
  if (previousFingerprint !== undefined) return previousFingerprint === fingerprint ? { kind: 'duplicate' } : { kind: 'conflict' };
  if (index >= upDelivered + window) return { kind: 'busy' };
  return { kind: 'store' };
}

export type DownDecision =
  | { kind: 'ready' }
  /** Already confirmed by the client and freed: a stale repeat. */
  | { kind: 'stale' }
  /** Not produced yet: long-poll. */
  | { kind: 'wait' };

export function decideDownFetch(index: number, meta: Pick<SessionMeta, 'downAcked' | 'downProduced'>): DownDecision {
  if (index < meta.downAcked) return { kind: 'stale' };
  if (index < meta.downProduced) return { kind: 'ready' };
  return { kind: 'wait' };
}

/**
 * May the owner produce chunk `index` now? At most `window` unconfirmed chunks are kept (RELIABILITY L11), and only
 * chunks the client has polled for (`downWanted`): relay-server's window is the most a session may hold
 * (--session-memory), the client's adaptive window what it actually asks for. Undefined `downWanted` (a session
 * record written by an older relay-server) leaves the window alone.
 */
export function mayProduce(index: number, downAcked: number, window: number, downWanted?: number): boolean {
  return index < downAcked + window && (downWanted === undefined || Number.isNaN(downWanted) || index < downWanted);
}
