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
import type { FramingResult } from '../http/framing.ts';
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
