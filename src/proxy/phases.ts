/**
 * @module The contract of the proxy pipeline: the heads that flow through it and the named phases a filter may
 * implement. Types only. The runner (proxy/pipeline.ts) is the one place that orders the phases:
 *
 *   accept → route → requestFilter → cache( fetch: upstreamRequestFilter → IO upstream → upstreamResponseFilter )
 *          → responseFilter → IO send downstream → logging
 *
 * A feature is a filter that implements one or more phases; `createProxy` composes the filter list from options.
 */
import type { Readable } from 'node:stream';
import type { HeaderList } from '../http/headers.ts';
import type { RequestContext } from './context.ts';

export interface RequestHead {
  method: string;
  /** The request-target exactly as received: origin-form `/p?q`, absolute-form `http://h/p?q`, authority-form, or `*`. */
  target: string;
  /** HTTP version as received: '1.0' or '1.1'. */
  httpVersion: string;
  headers: HeaderList;
}

export interface ResponseHead {
  status: number;
  statusText?: string;
  headers: HeaderList;
  /** HTTP version of the upstream response ('1.1', '1.0'); undefined for local replies. Used for Via. */
  httpVersion?: string;
}

/** An answer produced by ferry itself (stats page, 407, 416, a cache hit, an error page). */
export interface LocalReply {
  status: number;
  headers?: HeaderList;
  body?: string | Uint8Array | Readable;
  /** Close the client connection after this reply (framing errors). */
  close?: boolean;
}

export type PhaseResult = { kind: 'continue' } | { kind: 'respond'; reply: LocalReply };
export const CONTINUE: PhaseResult = Object.freeze({ kind: 'continue' });

/** A response on its way downstream: from the upstream, or from the cache. `body` is null for bodiless responses. */
export interface ProxiedResponse {
  head: ResponseHead;
  body: Readable | null;
}

/** Sends a head (plus the client's body, streamed by the runner) upstream and resolves with the response head. */
export type Fetch = (head: RequestHead, ctx: RequestContext) => Promise<ProxiedResponse>;

export type Awaitable<T> = T | Promise<T>;

export interface ProxyFilter {
  /** Short name used in logs and errors. */
  readonly name: string;
  /** route: local endpoints (/stats, /metrics, purge) and choice of the upstream (`ctx.upstream`). */
  route?(ctx: RequestContext): Awaitable<PhaseResult>;
  /** requestFilter: checks and edits of the client's head in `ctx.request` (auth 407, limits 413, ?range= → Range, 416). */
  requestFilter?(ctx: RequestContext): Awaitable<PhaseResult>;
  /**
   * cache: wraps the upstream fetch. Implementations may answer without calling `fetch` (hit), call it with a
   * conditional head (revalidation), or call it and tee the body into a store. Filters with this phase are nested
   * in list order, the first being outermost.
   */
  cache?(head: RequestHead, ctx: RequestContext, fetch: Fetch): Promise<ProxiedResponse>;
  /** upstreamRequestFilter: the head about to be sent upstream (hop-by-hop removal, Via, X-Forwarded-*, JWT). */
  upstreamRequestFilter?(head: RequestHead, ctx: RequestContext): Awaitable<RequestHead>;
  /** upstreamResponseFilter: the head just received from upstream, before any cache sees it (hop-by-hop, Via). */
  upstreamResponseFilter?(head: ResponseHead, ctx: RequestContext): ResponseHead;
  /** responseFilter: every head sent downstream, local replies included (X-Request-Id, Cache-Status). */
  responseFilter?(head: ResponseHead, ctx: RequestContext): ResponseHead;
  /** logging: exactly once per request, after the response ended or failed (access log, stats). */
  logging?(ctx: RequestContext): void;
}

export const PHASE_ORDER = [
  'route', 'requestFilter', 'cache', 'upstreamRequestFilter', 'upstreamResponseFilter', 'responseFilter', 'logging',
] as const;
