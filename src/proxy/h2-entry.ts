/**
 * @module The HTTP/2 side of the runner's I/O: how an h2 stream (node:http2's compatibility request/response, which
 * mirror IncomingMessage/ServerResponse) enters the same phases as an HTTP/1.1 request — its head checked and
 * translated (http/h2-translate.ts) instead of the HTTP/1.1 framing check — and what differs on the way out: no
 * connection-specific fields or reason phrase in a response head, interim responses as extra HEADERS frames.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Http2ServerRequest, Http2ServerResponse, OutgoingHttpHeaders } from 'node:http2';
import { loadHttp2 } from '../http/lazy-builtins.ts';
import type { BodyFraming, FramingResult } from '../http/framing.ts';
import { extendedConnectAsUpgrade, h2ResponseHeaders, translateH2Request, type H2Limits } from '../http/h2-translate.ts';
import { H2TunnelSocket } from './h2-tunnel.ts';
import type { HeaderList } from '../http/headers.ts';

/** An HTTP/2 compat request (or response) arriving through the node:http-typed entry points. */
export function isH2Request(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 2;
}

export function isH2Response(res: ServerResponse): boolean {
  return 'stream' in res; // a getter of Http2ServerResponse; ServerResponse has none
}

export type H2Checked = Extract<FramingResult, { kind: 'reject' }> | (Extract<FramingResult, { kind: 'ok' }> & { method: string; target: string });

/**
 * The accept step for an h2 stream: the translated head (request line from the pseudo-headers, Host from
 * :authority, cookies joined; an extended CONNECT as the HTTP/1.1 upgrade it stands for) or the refusal.
 */
export function checkH2Head(req: IncomingMessage, limits: H2Limits): H2Checked {
  const h2 = req as unknown as Http2ServerRequest;
  const t = translateH2Request(h2.rawHeaders, h2.stream.endAfterHeaders, limits);
  if (t.kind === 'reject') return t;
  const head = t.head.method === 'CONNECT' && t.head.protocol !== undefined ? extendedConnectAsUpgrade(t.head, randomBytes(16).toString('base64')) : t.head;
  return { kind: 'ok', headers: head.headers, body: head.body, method: head.method, target: head.target };
}

/**
 * `CONNECT` on an h2 stream (node:http2 emits it as 'connect' with a request/response pair): the stream becomes the
 * raw entry's client socket (proxy/h2-tunnel.ts) — a tunnel, or with `:protocol` (RFC 8441) an upgrade.
 */
export function enterH2Connect(req: IncomingMessage, res: ServerResponse, entries: { upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void; connect(req: IncomingMessage, socket: Duplex, head: Buffer): void }): void {
  const stream = (res as unknown as Http2ServerResponse).stream;
  const socket = new H2TunnelSocket(stream);
  if ((req as unknown as Http2ServerRequest).headers[':protocol'] !== undefined) entries.upgrade(req, socket, Buffer.alloc(0));
  else entries.connect(req, socket, Buffer.alloc(0));
}

export function isH2Connect(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 2 && req.method === 'CONNECT';
}

/** The flat header list for writeHead: on an h2 stream, without the fields HTTP/2 forbids (RFC 9113 §8.2.2). */
export function responseHeadersFor(res: ServerResponse, headers: HeaderList): HeaderList {
  return isH2Response(res) ? h2ResponseHeaders(headers) : headers;
}

/**
 * Cut a response (nothing honest can be written any more). On HTTP/1.1 the connection closes; on an h2 stream it is
 * RST_STREAM with INTERNAL_ERROR (RFC 9113 §8.1: a truncated body must not end with END_STREAM) — destroying the
 * compat response alone would reset it with NO_ERROR, which clients read as a clean end.
 */
export function cutResponse(res: ServerResponse): void {
  if (isH2Response(res)) {
    const stream = (res as unknown as Http2ServerResponse).stream;
    if (!stream.closed && !stream.destroyed) stream.close(loadHttp2().constants.NGHTTP2_INTERNAL_ERROR);
  }
  res.destroy();
}

/** An interim response (RFC 9113 §8.1: a HEADERS frame with a 1xx :status before the final one). */
export function sendH2Interim(res: ServerResponse, status: number, headers: HeaderList): void {
  const stream = (res as unknown as Http2ServerResponse).stream;
  if (stream.destroyed || stream.headersSent) return;
  const out: OutgoingHttpHeaders = { ':status': status };
  for (const [n, v] of h2ResponseHeaders(headers)) {
    const prev = out[n];
    out[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
  }
  stream.additionalHeaders(out);
}

/** Fields never relayed in a trailer section: framing, routing and connection fields (RFC 9110 §6.5.1, RFC 9113 §8.2.2). */
const NOT_IN_TRAILERS: ReadonlySet<string> = new Set(['content-length', 'content-type', 'content-encoding', 'content-range', 'host', 'trailer', 'te', 'authorization', 'set-cookie', 'cache-control', 'expires', 'date', 'location', 'retry-after', 'vary', 'age', 'www-authenticate', 'proxy-authenticate']);

/**
 * On an h2 stream, the upstream's trailer section follows the body as a trailing HEADERS frame (RFC 9113 §8.1):
 * `body.trailers` is read when the body ends, before `res.end` sends END_STREAM. HTTP/1.1 clients get no trailers
 * (ferry's HTTP/1.1 responses are not re-chunked for them).
 */
export function relayTrailersOnEnd(res: ServerResponse, body: { trailers: HeaderList | null; once(event: 'end', f: () => void): unknown }): void {
  if (!isH2Response(res)) return;
  body.once('end', () => addH2Trailers(res, body.trailers));
}

export function addH2Trailers(res: ServerResponse, trailers: HeaderList | null): void {
  if (trailers === null || !isH2Response(res)) return;
  const out: Record<string, string> = {};
  for (const [n, v] of h2ResponseHeaders(trailers)) if (!NOT_IN_TRAILERS.has(n)) out[n] = out[n] === undefined ? v : `${out[n]}, ${v}`;
  if (Object.keys(out).length > 0) res.addTrailers(out);
}

/**
 * Request trailers (RFC 9113 §8.1: a trailing HEADERS frame; RFC 9110 §6.5): for an h2 request whose body goes
 * upstream chunked, a reader of its trailer section once the body has ended, without the fields a trailer may not
 * carry; otherwise undefined, and the call keeps the undici path. Trailers arrive unannounced (the Trailer field is
 * only a SHOULD, RFC 9110 §6.6.2) after the head is already upstream, so every chunked h2 body takes the path that
 * can end with them. A body with Content-Length cannot carry them in HTTP/1.1: they are dropped there.
 */
export function h2RequestTrailers(req: IncomingMessage, body: BodyFraming): (() => HeaderList | null) | undefined {
  if (body.kind !== 'chunked' || !isH2Request(req)) return undefined;
  return () => {
    const raw = req.rawTrailers;
    const out: HeaderList = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const n = raw[i]!.toLowerCase();
      if (!n.startsWith(':') && !NOT_IN_TRAILERS.has(n)) out.push([n, raw[i + 1]!]);
    }
    const kept = h2ResponseHeaders(out);
    return kept.length > 0 ? kept : null;
  };
}
