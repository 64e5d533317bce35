/**
 * @module The one reply writer: every reply ferry writes itself (error pages, refusals, local endpoints, parser
 * rejections) goes out through here, on a `ServerResponse` or on a raw socket that no ServerResponse owns (parser
 * errors, upgrades, CONNECT). Field names are written as given: callers that pinned Title-Case bytes keep them.
 */
import type { ServerResponse } from 'node:http';
import { http } from '../http/node-http.ts';
import type { Duplex } from 'node:stream';
import { toFlatHeaders, type HeaderList } from '../http/headers.ts';

export interface PlainReply {
  status: number;
  /** In wire order; names as they should appear. */
  headers: HeaderList;
  body: string | Uint8Array;
}

/** Where a reply goes: the request's ServerResponse, or the raw client socket. */
export type ReplyTarget = ServerResponse | Duplex;

function hasField(headers: HeaderList, lowerName: string): boolean {
  for (const [n] of headers) if (n.length === lowerName.length && n.toLowerCase() === lowerName) return true;
  return false;
}

/** A `Connection: close` the caller already placed (e.g. Title-Case, in a pinned order) is left where it is. */
function closesAlready(headers: HeaderList): boolean {
  for (const [n, v] of headers) if (n.length === 10 && n.toLowerCase() === 'connection' && v === 'close') return true;
  return false;
}

/**
 * The framing fields a complete local reply needs (RFC 9112 §6.3): Content-Type for text, Content-Length for any
 * fixed body (0 for an empty one on a status that may carry a body), `Connection: close` when the connection ends.
 * `headers` is returned unchanged (no copy) when nothing is missing.
 */
export function completeReplyHeaders(status: number, headers: HeaderList, body: string | Uint8Array | undefined | null, close: boolean): HeaderList {
  let out = headers;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    if (typeof body === 'string' && !hasField(out, 'content-type')) out = [...out, ['content-type', 'text/plain; charset=utf-8']];
    if (!hasField(out, 'content-length')) out = [...out, ['content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength)]];
  } else if (body === undefined && !hasField(out, 'content-length') && status >= 200 && status !== 204 && status !== 304) {
    out = [...out, ['content-length', '0']];
  }
  if (close && !closesAlready(out)) out = [...out.filter(([n]) => n.toLowerCase() !== 'connection'), ['connection', 'close']];
  return out;
}

/** Status line, fields exactly as given, blank line, body. */
export function formatRawReply(status: number, headers: HeaderList, reason = http.STATUS_CODES[status] ?? 'Error'): string {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [n, v] of headers) head += `${n}: ${v}\r\n`;
  return `${head}\r\n`;
}

/**
 * Write a whole reply on a raw socket and close it once flushed: a client that never reads must not hold a half-open
 * socket forever. A socket that can no longer be written is destroyed.
 */
export function writeRawReply(socket: Duplex, reply: PlainReply): void {
  if (!socket.writable) { socket.destroy(); return; }
  socket.once('finish', () => socket.destroy());
  const head = formatRawReply(reply.status, reply.headers);
  if (typeof reply.body === 'string') socket.end(head + reply.body);
  else { socket.write(head); socket.end(reply.body); }
}

/** Write a whole reply on either target. */
export function writeReply(to: ReplyTarget, reply: PlainReply): void {
  if (!isServerResponse(to)) { writeRawReply(to, reply); return; }
  if (to.headersSent || to.destroyed) { to.destroy(); return; }
  to.writeHead(reply.status, toFlatHeaders(reply.headers));
  to.end(reply.body);
}

export function isServerResponse(to: ReplyTarget): to is ServerResponse {
  return typeof (to as ServerResponse).writeHead === 'function';
}
