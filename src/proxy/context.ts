/** @module RequestContext: what the pipeline knows about one request as it moves through the phases. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RecordedOutcome } from '../cache/cache-status.ts';
import type { FerryError } from '../errors.ts';
import type { Logger } from '../server/logger.ts';
import type { RequestHead } from './phases.ts';

/** Where a request goes: the upstream origin (reverse mode) or the absolute-form target (forward mode). */
export interface UpstreamTarget {
  /** e.g. `http://127.0.0.1:8081` — scheme, host and port only. */
  origin: string;
  /** The request-target to send upstream (origin-form `/path?query`, byte-exact). */
  path: string;
}

export interface RequestContext {
  readonly id: string;
  /** Wall clock at accept (ms since epoch). */
  readonly startedAt: number;
  /** Monotonic clock at accept (performance.now(), ms). */
  readonly startedMono: number;
  readonly log: Logger;
  /** The client's head, validated; filters may replace it in requestFilter. */
  request: RequestHead;
  /** Peer address of the client socket. */
  readonly clientAddress: string;
  /** True when the client connection is TLS (ferry behind a TLS terminator reports false). */
  readonly secure: boolean;
  /** Set in route. Undefined means no upstream: the request gets 404/502 unless a filter answered. */
  upstream?: UpstreamTarget;
  /** Request body bytes read from the client, response body bytes written to it. */
  bytesIn: number;
  bytesOut: number;
  status?: number;
  /** ms from sending the head upstream to receiving the response head. */
  upstreamTimeMs?: number;
  /** Each upstream try of a pool-routed request, in order (routing/upstream-tries.ts): the access log shows them. */
  tries?: Array<{ target: string; outcome: string; status?: number; ms: number }>;
  /** What the cache did (set by the cache phase): Cache-Status, /stats, /metrics and the logs read it. */
  cache?: RecordedOutcome;
  error?: FerryError;
  /** Per-filter state, keyed by filter name. */
  readonly locals: Map<string, unknown>;
  /** Shell objects; filters should not need them (the runner owns the I/O). */
  readonly req: IncomingMessage;
  /** null for an upgrade or a CONNECT: no ServerResponse exists for them (proxy/raw-entry.ts). */
  readonly res: ServerResponse | null;
}

/**
 * The status the client was sent, at any entry point; 0 when no response head went out (the client left first). For
 * logging filters: an upgrade or a CONNECT has no ServerResponse to ask.
 */
export function sentStatus(ctx: RequestContext): number {
  const res = ctx.res;
  if (res === null) return ctx.status ?? 0;
  return res.headersSent ? ctx.status ?? res.statusCode : 0;
}
