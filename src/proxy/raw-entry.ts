/**
 * @module The entries without a ServerResponse: an upgrade (RFC 9110 §7.8) and a CONNECT tunnel (RFC 9110 §9.3.6).
 * They run the same phases as every request (proxy/pipeline.ts): route → requestFilter → the body → responseFilter
 * (on ferry's own replies) → logging. Only the body differs: instead of fetch-and-send, a `RawBody` connects upstream
 * and takes the client socket over (upgrade relay, tunnel). Until it has, any failure is the pipeline's error reply.
 */
import type { Duplex } from 'node:stream';
import type { RequestContext } from './context.ts';
import type { RequestHead } from './phases.ts';

export interface RawEntry {
  socket: Duplex;
  /** Bytes the client sent after its head (already read by Node's parser). */
  early: Buffer;
  body: RawBody;
  /** The body took the socket over: the access line is written when it says `done`. */
  tookOver: boolean;
}

export interface RawBodyStart {
  ctx: RequestContext;
  /** The head for the upstream, after upstreamRequestFilter (upgrades; CONNECT sends no head). */
  head: RequestHead;
  client: Duplex;
  early: Buffer;
  /** Aborted when the client goes away before the body took over. */
  signal: AbortSignal;
  /** The body took the socket over (status and its head written): from now on it reports through `done`. */
  tookOver(): void;
  /** The exchange is over: `ctx.status`, `ctx.bytesIn/Out` and `ctx.error` are final; write the access line. */
  done(): void;
}

export interface RawBody {
  /** `upgrade` runs upstreamRequestFilter (a head goes upstream); `connect` does not. */
  readonly kind: 'upgrade' | 'connect';
  /**
   * Connect upstream and take the client socket over. Reject with a FerryError before writing anything to the
   * client to get the error reply (fail-to-proxy). Resolves once the socket is taken over or handed back.
   */
  start(s: RawBodyStart): Promise<void>;
  /** A reply of ferry's own (refusal, error) was written on this entry instead (counted by the tunnel stats). */
  onRefused?(ctx: RequestContext): void;
}
