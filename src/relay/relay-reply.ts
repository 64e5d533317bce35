/**
 * @module relay-server's I/O at the edges of a message: reading its body (exactly Content-Length bytes, into a slab
 * when one is given) and writing its answer: signed with the request's nonce (hmac.ts), digested (RFC 9530), always
 * `Cache-Control: no-store` (no gateway stage cache may keep a chunk; tus 1.0 does the same).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signRelayResponse } from './hmac.ts';
import { formatContentDigest, H } from './protocol.ts';
import type { Refusal } from './relay-decisions.ts';
import { releaseCopied } from './slab-pool.ts';

const EMPTY = Buffer.alloc(0);
const EMPTY_DIGEST = formatContentDigest(EMPTY);

export interface ReplyWriter {
  /** `digest`: the body's Content-Digest when already known (down chunks carry theirs), to hash each byte once. */
  reply(res: ServerResponse, status: number, nonce: string, fields: Record<string, string>, body?: Buffer | readonly Buffer[], digest?: string): void;
  /** A refusal: `x-ferry-error: code` and `{"error": reason}`, signed only when the message was authenticated. */
  refuse(res: ServerResponse, r: Refusal, nonce: string): void;
}

export function createReplyWriter(secret: Buffer | undefined, closing: () => boolean): ReplyWriter {
  function reply(res: ServerResponse, status: number, nonce: string, fields: Record<string, string>, body: Buffer | readonly Buffer[] = EMPTY, digest?: string): void {
    if (res.headersSent || res.destroyed) return;
    const pieces = Buffer.isBuffer(body) ? [body] : body;
    const length = pieces.reduce((n, p) => n + p.length, 0);
    const all: Record<string, string> = { ...fields, [H.digest]: digest ?? (length === 0 ? EMPTY_DIGEST : formatContentDigest(Buffer.concat(pieces))) };
    if (secret && nonce !== '') all[H.responseAuth] = signRelayResponse(secret, status, nonce, all);
    res.writeHead(status, {
      ...all,
      ...(closing() ? { connection: 'close' } : {}), // shutting down: let keep-alive connections go
      'cache-control': 'no-store',
      'content-type': length > 0 && fields[H.type] !== 'data' ? 'application/json' : 'application/octet-stream',
      'content-length': String(length),
    });
    for (const p of pieces) res.write(p);
    res.end();
  }
  return {
    reply,
    refuse(res, r, nonce) {
      reply(res, r.status, r.signed ? nonce : '', { [H.error]: r.code }, Buffer.from(JSON.stringify({ error: r.reason })));
    },
  };
}

/** Read a body of exactly `length` bytes (bounded by the caller); undefined if the client goes away. */
export function readBody(req: IncomingMessage, length: number, into?: Buffer): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const buf = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    let n = 0;
    req.on('data', (c: Buffer) => {
      if (n + c.length > length) { req.destroy(); return; }
      c.copy(buf, n);
      n += c.length;
      releaseCopied(c);
    });
    req.on('end', () => resolve(n === length ? buf : undefined));
    req.on('error', () => resolve(undefined));
    req.on('close', () => { if (!req.complete) resolve(undefined); });
  });
}
