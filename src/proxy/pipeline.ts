/**
 * @module The proxy runner: the one place that orders the phases (see phases.ts), for every entry point.
 *
 *   IO: accept (check the raw head) → route → requestFilter → body → responseFilter → IO: send downstream → logging
 *
 * where the body of an ordinary request is cache( fetch: upstreamRequestFilter → IO: upstream → upstreamResponseFilter
 * ), and that of an upgrade or a CONNECT is its own (proxy/raw-entry.ts: upstreamRequestFilter for an upgrade, then
 * connect upstream and take the client socket over). A tunnel is a different body, not a different pipeline: the
 * same filters see it, the same fail-to-proxy answers its failures, the same logging phase writes its access line.
 * Writing to the client: proxy/downstream.ts; per-request state and the logging phase: proxy/run-state.ts. Any throw
 * goes to fail-to-proxy. Bodies are never phases: they stream with backpressure between the sockets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { FerryError } from '../errors.ts';
import { fromRawHeaders, getHeader, type HeaderList } from '../http/headers.ts';
import { isClosing, trackInFlight, untrackInFlight } from '../server/connection.ts';
import type { Logger } from '../server/logger.ts';
import { checkRequestHead } from '../server/request-guard.ts';
import { BodyMeter } from './body-meter.ts';
import { cut, fail, sendContinue, sendInterim, sendLocal, sendResponse } from './downstream.ts';
import { checkH2Head, h2RequestTrailers, isH2Request } from './h2-entry.ts';
import type { Fetch, ProxyFilter, RequestHead, ResponseHead } from './phases.ts';
import type { RawBody } from './raw-entry.ts';
import { CLIENT_GONE, createContext, finish, splitPhases, type Phases, type RunContext } from './run-state.ts';
import type { UpstreamCall, UpstreamClient } from './upstream-client.ts';
import { sendWithTries } from './routing/upstream-tries.ts';

export interface PipelineDeps {
  filters: readonly ProxyFilter[];
  /** null: no HTTP requests are forwarded by this pipeline (a CONNECT-only one). */
  client: UpstreamClient | null;
  log: Logger;
  maxBodyBytes: number | null;
  /** More fields than this → 431 (Node would silently drop the extra ones; RELIABILITY R2). */
  maxHeadersCount: number;
  /** ProxyOptions.onBodyBytes: told the size of every body chunk relayed; null = nobody asked. */
  onBodyBytes: ((bytes: number) => void) | null;
  /** The bodies of upgraded requests and CONNECT tunnels (null: that entry is not offered). */
  upgradeBody: RawBody | null;
  connectBody: RawBody | null;
}

/** Every entry point, each through the same phases. */
export interface Pipeline {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Build the entry points. Phase lists are split once here, not per request. */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const p = splitPhases(deps.filters, deps.log, deps.onBodyBytes, () => Promise.reject(new Error('no fetch yet')));
  // cache phases nest around the upstream fetch, the first filter in the list outermost
  let fetch = createUpstreamFetch(p, deps);
  for (const f of [...deps.filters].reverse()) {
    if (!f.cache) continue;
    const inner = fetch;
    fetch = (head, ctx) => f.cache!(head, ctx, inner);
  }
  p.fetch = fetch;
  return {
    request(req, res) {
      // A request the client pipelined behind one refused with Connection: close is never processed (nor
      // forwarded): the connection ends with that refusal, and its bytes may be the refused request's body read
      // another way (RFC 9112 §9.6; RELIABILITY S1, S13). Node closes the socket once the refusal is written.
      if (isClosing(req.socket)) return;
      const ctx = createContext(req, res, fromRawHeaders(req.rawHeaders), p);
      trackInFlight(ctx.run.socket, ctx, cancelForParseError);
      // one listener shared by every request, the context kept on the response (issue 18: no closure and no `once`
      // wrapper per request); a ServerResponse, or an h2 stream's, emits 'close' once
      (res as Tracked)[RUN] = ctx;
      res.on('close', onResponseClose);
      accept(p, deps, ctx);
    },
    upgrade(req, socket, head) { enterRaw(p, deps, req, socket, head, deps.upgradeBody); },
    connect(req, socket, head) { enterRaw(p, deps, req, socket, head, deps.connectBody); },
  };
}

const RUN = Symbol('ferry.run');
type Tracked = ServerResponse & { [RUN]?: RunContext };

/** The response went away, finished or not: cancel what is still running for it, then the logging phase. */
function onResponseClose(this: Tracked): void {
  const ctx = this[RUN]!;
  untrackInFlight(ctx.run.socket, ctx);
  if (!this.writableFinished) {
    ctx.run.abort.abort(CLIENT_GONE());
    ctx.run.body?.destroy();
  }
  finish(ctx.run.phases, ctx);
}

/** The innermost fetch: edit the head for the upstream, send it with the body, read the response head. */
function createUpstreamFetch(p: Phases, deps: PipelineDeps): Fetch {
  const { client, maxBodyBytes, onBodyBytes } = deps;
  return async (head, context) => {
    const ctx = context as RunContext;
    let out: RequestHead = head;
    for (const f of p.upstreamRequestFilter) {
      const r = f.upstreamRequestFilter!(out, ctx);
      out = r instanceof Promise ? await r : r; // most filters are synchronous: no microtask hop for them
    }
    const target = ctx.upstream;
    const res = ctx.res; // (never null here: upgrades and CONNECT have their own body, not this fetch)
    if (!target || client === null || res === null) throw new FerryError('FERRY_ERR_NO_ROUTE', 'no upstream for this request', { source: 'downstream', status: 404 });
    const expect = isExpectContinue(out.headers);
    const trailers = h2RequestTrailers(ctx.req, ctx.run.framing);
    const started = performance.now();
    // IO: send head upstream, stream the body, await the response head (headers timeout → 504)
    const call: UpstreamCall = {
      origin: target.origin,
      path: target.path,
      head: out,
      body: openRequestBody(ctx, maxBodyBytes, onBodyBytes),
      signal: ctx.run.abort,
      onInformation: (status, headers) => sendInterim(ctx, res, status, headers),
    };
    // (assigned only when present: no object spreads once per request)
    if (expect) call.onContinue = () => sendContinue(res);
    if (trailers) call.trailers = trailers;
    const response = await sendWithTries(client, call, ctx);
    ctx.upstreamTimeMs = performance.now() - started;
    let rhead: ResponseHead = response.head;
    for (const f of p.upstreamResponseFilter) rhead = f.upstreamResponseFilter!(rhead, ctx);
    return rhead === response.head ? response : { head: rhead, body: response.body };
  };
}

/**
 * IO: accept — the raw head is checked before any filter sees it (RFC 9112 §6, RELIABILITY S1–S7; shared with the
 * relay client: server/request-guard.ts), then the phases run.
 */
function accept(p: Phases, limits: PipelineDeps, ctx: RunContext): void {
  // an HTTP/2 stream: its header block translated to the HTTP/1.1 head (RFC 9113 §8; proxy/h2-entry.ts)
  const h2 = isH2Request(ctx.req) ? checkH2Head(ctx.req, limits) : null;
  const checked = h2 ?? checkRequestHead(ctx.request.httpVersion, ctx.request.headers, limits);
  if (checked.kind === 'reject') {
    ctx.error = new FerryError('FERRY_ERR_FRAMING', checked.reason, { source: 'downstream', status: checked.status });
    ctx.log.info({ event: 'client-error', requestId: ctx.id, status: checked.status, reason: checked.reason }, 'rejected request');
    sendLocal(p, ctx, { status: checked.status, body: `${checked.reason}\n`, close: true });
    return;
  }
  ctx.request.headers = checked.headers;
  if (h2?.kind === 'ok') { ctx.request.method = h2.method; ctx.request.target = h2.target; }
  ctx.run.framing = checked.body;
  void run(p, ctx); // never rejects: a failure of the failure path itself is caught there (no .catch closure per request)
}

/** route → requestFilter → body; a phase may answer instead (a local reply), any throw goes to fail-to-proxy. */
async function run(p: Phases, ctx: RunContext): Promise<void> {
  try {
    for (const f of p.route) {
      let r = f.route!(ctx);
      if (r instanceof Promise) r = await r;
      if (r.kind === 'respond') return sendLocal(p, ctx, r.reply);
    }
    for (const f of p.requestFilter) {
      let r = f.requestFilter!(ctx);
      if (r instanceof Promise) r = await r;
      if (r.kind === 'respond') return sendLocal(p, ctx, r.reply);
    }
    const { res } = ctx;
    if (res === null) return await startRawBody(p, ctx);
    const response = await p.fetch(ctx.request, ctx);
    sendResponse(p, ctx, res, response);
  } catch (err) {
    try {
      fail(p, ctx, err);
    } catch (failed) {
      p.log.error({ event: 'internal-error', err: failed }, 'proxy runner failed');
      cut(ctx);
    }
  }
}

/** An upgrade or a CONNECT enters: no ServerResponse exists, the runner writes to the socket (`run.raw`). */
function enterRaw(p: Phases, deps: PipelineDeps, req: IncomingMessage, socket: Duplex, early: Buffer, body: RawBody | null): void {
  if (body === null) { socket.destroy(); return; }
  socket.on('error', ignoreError); // reported through 'close'; never crash on a client reset
  const ctx = createContext(req, null, fromRawHeaders(req.rawHeaders), p);
  ctx.run.raw = { socket, early, body, tookOver: false };
  accept(p, deps, ctx);
}

function ignoreError(): void { /* see the caller */ }

/** Upgrade / CONNECT: the body connects upstream and takes the client socket over (proxy/raw-entry.ts). */
async function startRawBody(p: Phases, ctx: RunContext): Promise<void> {
  const raw = ctx.run.raw;
  if (raw === null) throw new FerryError('FERRY_ERR_INTERNAL', 'no ServerResponse and no raw socket', { source: 'internal' });
  let head = ctx.request;
  if (raw.body.kind === 'upgrade') for (const f of p.upstreamRequestFilter) head = await f.upstreamRequestFilter!(head, ctx);
  const gone = new AbortController();
  const onGone = (): void => gone.abort();
  raw.socket.once('close', onGone);
  try {
    await raw.body.start({
      ctx, head, client: raw.socket, early: raw.early, signal: gone.signal,
      tookOver: () => { raw.tookOver = true; },
      done: () => finish(p, ctx),
    });
  } catch (err) {
    if (!gone.signal.aborted) throw err;
    ctx.error ??= CLIENT_GONE();
    finish(p, ctx);
  } finally {
    raw.socket.off('close', onGone);
  }
}

/** The client's body, counted and limited as it streams; null when the request has none. */
function openRequestBody(ctx: RunContext, maxBodyBytes: number | null, onBodyBytes: ((bytes: number) => void) | null): Readable | null {
  const framing = ctx.run.framing;
  if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0)) return null;
  if (ctx.run.meter) throw new FerryError('FERRY_ERR_BODY_REUSED', 'the request body can be sent upstream only once', { source: 'internal' });
  const { req } = ctx;
  const meter = new BodyMeter(maxBodyBytes, onBodyBytes);
  ctx.run.meter = meter;
  // Not stream.pipeline: destroying an IncomingMessage destroys its socket, and a 413 still has to be written.
  req.pipe(meter);
  meter.once('error', () => req.unpipe(meter));
  req.once('close', () => { if (!req.complete) meter.destroy(CLIENT_GONE()); });
  return meter;
}

/**
 * The parser refused bytes on this request's connection after it was handed over (server/connection.ts
 * abortInFlight): the connection is answered 400 and closed, so cancel its upstream call.
 */
function cancelForParseError(ctx: RunContext): void {
  ctx.error ??= new FerryError('FERRY_ERR_FRAMING', 'malformed bytes after the request head', { source: 'downstream', status: 400 });
  ctx.run.abort.abort(CLIENT_GONE());
  ctx.run.body?.destroy();
}

function isExpectContinue(headers: HeaderList): boolean {
  const v = getHeader(headers, 'expect');
  return v !== undefined && v.trim().toLowerCase() === '100-continue';
}
