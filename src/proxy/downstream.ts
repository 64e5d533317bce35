/**
 * @module IO towards the client, for the runner (proxy/pipeline.ts): ferry's own replies (any entry point: through
 * the ServerResponse, or the raw socket of an upgrade or CONNECT — server/reply-writer.ts), proxied responses with
 * backpressure, interim responses, and what a failure becomes (proxy/fail-to-proxy.ts). Every head sent downstream
 * passes the responseFilter phase first.
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { FerryError } from '../errors.ts';
import type { HeaderList } from '../http/headers.ts';
import { toFlatHeaders } from '../http/headers.ts';
import { formatInterimHead, interimToRelay } from '../http/interim.ts';
import { WholeBody } from './whole-body.ts';
import { continueAlreadySent, markClosing, requestLimitReached } from '../server/connection.ts';
import { completeReplyHeaders, writeRawReply } from '../server/reply-writer.ts';
import { addH2Trailers, cutResponse, isH2Response, relayTrailersOnEnd, responseHeadersFor, sendH2Interim } from './h2-entry.ts';
import { decideFailure, failureLog, toFerryError } from './fail-to-proxy.ts';
import type { LocalReply, ProxiedResponse, ResponseHead } from './phases.ts';
import { finish, type Phases, type RunContext } from './run-state.ts';
import { UpstreamBody } from './upstream-client.ts';

function applyResponseFilters(p: Phases, head: ResponseHead, ctx: RunContext): ResponseHead {
  let h = head;
  for (const f of p.responseFilter) h = f.responseFilter!(h, ctx);
  return h;
}

/** A reply of ferry's own (local endpoint, refusal, error page). */
export function sendLocal(p: Phases, ctx: RunContext, reply: LocalReply): void {
  const { req, res } = ctx;
  if (res === null) { sendLocalRaw(p, ctx, reply); return; }
  const body = reply.body;
  if (res.headersSent || res.destroyed) { cutResponse(res); return; }
  // An unread request body must not be parsed as the next request: close instead (RELIABILITY S13).
  const unreadBody = ctx.run.framing.kind !== 'none' && !req.complete && ctx.run.meter === null;
  const close = reply.close === true || unreadBody;
  if (close) markClosing(req.socket);
  const headers = completeReplyHeaders(reply.status, reply.headers ?? [], body instanceof Readable ? null : body, close);
  const head = applyResponseFilters(p, { status: reply.status, headers }, ctx);
  ctx.status = head.status;
  closeAtRequestLimit(res);
  res.writeHead(head.status, toFlatHeaders(responseHeadersFor(res, head.headers)));
  ctx.bytesOut += typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : 0;
  if (body instanceof Readable) {
    if (ctx.request.method === 'HEAD') { body.destroy(); res.end(); return; }
    ctx.run.body = body;
    body.on('data', (c: Buffer) => { ctx.bytesOut += c.length; });
    body.once('error', (err: Error) => { ctx.error ??= toFerryError(err); cutResponse(res); });
    body.pipe(res);
    return;
  }
  if (ctx.request.method === 'HEAD' || body === undefined) res.end();
  else res.end(body);
}

/** Upgrade / CONNECT: no ServerResponse; the connection closes after the reply, and the access line follows. */
function sendLocalRaw(p: Phases, ctx: RunContext, reply: LocalReply): void {
  const raw = ctx.run.raw;
  const body = reply.body;
  if (raw === null) { if (body instanceof Readable) body.destroy(); return; } // (never: res is null only for raw entries)
  const bytes = typeof body === 'string' || body instanceof Uint8Array ? body : '';
  if (body instanceof Readable) body.destroy();
  const head = applyResponseFilters(p, { status: reply.status, headers: completeReplyHeaders(reply.status, reply.headers ?? [], bytes, true) }, ctx);
  ctx.status = head.status;
  ctx.bytesOut += typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  raw.body.onRefused?.(ctx);
  if (raw.socket.destroyed) finish(p, ctx);
  else raw.socket.once('close', () => finish(p, ctx));
  writeRawReply(raw.socket, { status: head.status, headers: head.headers, body: bytes });
}

/** IO: send the proxied head downstream, then the body with backpressure. */
export function sendResponse(p: Phases, ctx: RunContext, res: ServerResponse, response: ProxiedResponse): void {
  const head = applyResponseFilters(p, response.head, ctx);
  const body = response.body;
  if (res.destroyed) { body?.destroy(); return; }
  ctx.status = head.status;
  closeAtRequestLimit(res);
  try {
    // HTTP/2 has no reason phrase (RFC 9113 §8.3.2) and no connection-specific fields (§8.2.2)
    if (head.statusText && !isH2Response(res)) res.writeHead(head.status, head.statusText, toFlatHeaders(head.headers));
    else res.writeHead(head.status, toFlatHeaders(responseHeadersFor(res, head.headers)));
  } catch (err) {
    // Node refused a field or reason phrase it would not put on the wire: release the upstream body, answer 502
    body?.destroy();
    // writeHead kept the refused reason phrase; the 502 must not inherit it (it would throw again: issue 17)
    res.statusMessage = '';
    throw new FerryError('FERRY_ERR_UPSTREAM_BAD_RESPONSE', `response head not relayable: ${(err as Error).message}`, { source: 'upstream', status: 502, cause: err });
  }
  if (body === null) { res.end(); return; }
  if (ctx.request.method === 'HEAD') { body.destroy(); res.end(); return; }
  const onBodyBytes = p.onBodyBytes;
  if (body instanceof UpstreamBody && body.complete && !body.readableFlowing) {
    // The whole body already arrived and sits in the stream's buffer (bounded by its highWaterMark plus one socket
    // read, since the handler pauses the upstream beyond it): hand it to res.end at once. Same bytes on the wire;
    // spares the pipe's listeners and the flowing-mode ticks on the small-response path.
    const chunk = body.read() as Buffer | null;
    addH2Trailers(res, body.trailers);
    if (chunk !== null) { ctx.bytesOut += chunk.length; onBodyBytes?.(chunk.length); res.end(chunk); } else res.end();
    return;
  }
  if (body instanceof WholeBody && body.readableLength === 0 && !body.readableFlowing && !body.readableEnded) {
    // A stored body, all in memory (whole-body.ts): one write, as above; the stream itself is never read.
    const bytes = body.bytes;
    ctx.bytesOut += bytes.length; onBodyBytes?.(bytes.length); res.end(bytes);
    return;
  }
  // (before pipe: its own 'end' listener ends the response)
  if (body instanceof UpstreamBody) relayTrailersOnEnd(res, body);
  // body.pipe rather than stream.pipeline: pipeline costs an AbortController and a DOMException per request, and
  // every outcome is handled here anyway: client gone → body destroyed (close handler), body error → cut.
  ctx.run.body = body;
  body.on('data', (c: Buffer) => { ctx.bytesOut += c.length; onBodyBytes?.(c.length); });
  body.once('error', (err: Error) => {
    // Mid-body failure: the head is out, so the only honest signal left is cutting the connection (S10).
    ctx.error ??= err instanceof FerryError ? err : new FerryError('FERRY_ERR_UPSTREAM_BODY', `response body failed: ${err.message}`, { source: 'upstream', cause: err });
    cutResponse(res);
  });
  body.pipe(res);
}

/** Any throw of any phase, at any entry point: the one mapping (fail-to-proxy) decides reply, cut or nothing. */
export function fail(p: Phases, ctx: RunContext, err: unknown): void {
  const fe = toFerryError(err);
  ctx.error ??= fe;
  const line = failureLog(fe);
  if (line !== null) ctx.log[line.level]({ event: line.event, requestId: ctx.id, err }, fe.message);
  const action = decideFailure(fe, ctx.res === null ? ctx.run.raw?.tookOver === true : ctx.res.headersSent);
  if (action.kind === 'reply') sendLocal(p, ctx, { status: action.status, body: `${action.message}\n`, close: action.close });
  else cut(ctx);
}

/** Cut the client connection (nothing honest can be written any more). */
export function cut(ctx: RunContext): void {
  if (ctx.res === null) ctx.run.raw?.socket.destroy();
  else cutResponse(ctx.res);
}

/**
 * At server.maxRequestsPerSocket Node only writes `Connection: close` and then answers 503 to every further request
 * on that connection, which it keeps open (documented behaviour). Really closing it (RELIABILITY R6) spares clients
 * that ignore the header an endless run of 503s.
 */
function closeAtRequestLimit(res: ServerResponse): void {
  if (requestLimitReached(res)) res.shouldKeepAlive = false;
}

/**
 * IO: relay an interim response (102, 103 …) to the client before the final head (RFC 9110 §15.2; what is relayed:
 * http/interim.ts). Only while this response is the one on the socket and its head is not out: a background
 * revalidation's origin answers after the client's reply was sent are dropped, and so are a pipelined request's
 * that is still queued behind another (its socket is assigned later).
 */
export function sendInterim(ctx: RunContext, res: ServerResponse, status: number, headers: HeaderList): void {
  if (isH2Response(res)) {
    const interim = interimToRelay(status, headers, ctx.request.httpVersion, ctx.run.interims);
    if (interim !== null && !res.headersSent && !res.destroyed) { ctx.run.interims++; sendH2Interim(res, interim.status, interim.headers); }
    return;
  }
  // a client that does not read gets no more of them (the final head and body still flow with backpressure)
  if (res.headersSent || res.destroyed || res.writableEnded || res.socket === null || res.socket.destroyed || res.socket.writableNeedDrain) return;
  const interim = interimToRelay(status, headers, ctx.request.httpVersion, ctx.run.interims);
  if (interim === null) return;
  ctx.run.interims++;
  res.socket.write(formatInterimHead(interim), 'latin1');
}

/** 100 Continue once; Node may already have sent it when the handler is embedded without a checkContinue listener. */
export function sendContinue(res: ServerResponse): void {
  if (continueAlreadySent(res) || res.headersSent || res.destroyed) return;
  res.writeContinue();
}
