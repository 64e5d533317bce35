/**
 * @module An HTTP/2 stream as the client socket of a raw entry (proxy/raw-entry.ts): `CONNECT` on an h2 stream
 * (RFC 9113 §8.5) and RFC 8441 extended CONNECT (WebSocket over HTTP/2) run the same bodies as their HTTP/1.1
 * forms — the CONNECT tunnel and the upgrade relay — which write an HTTP/1.1 head and then raw bytes. This Duplex
 * turns that head into the stream's HEADERS frame (a 101 becomes the 200 that accepts an extended CONNECT, RFC 8441
 * §5; connection-specific fields and Sec-WebSocket-Accept go, §5 and RFC 9113 §8.2.2) and carries the bytes as
 * DATA frames with the stream's flow control as backpressure; END_STREAM is the half-close (RFC 9113 §8.5).
 */
import type { ServerHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import { loadHttp2 } from '../http/lazy-builtins.ts';
import { Duplex } from 'node:stream';
import { h2ResponseHeaders } from '../http/h2-translate.ts';
import type { HeaderList } from '../http/headers.ts';

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** A head written by ferry's own code (reply writer, tunnel, upgrade relay) is small; this bounds a broken one. */
const MAX_HEAD_BYTES = 64 * 1024;

/** Parse `HTTP/1.1 200 Reason\r\nName: value\r\n…` (ferry's own output) into status and fields. */
export function parseHeadForH2(head: string): { status: number; headers: HeaderList } | null {
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return null;
  const headers: HeaderList = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
  }
  return { status: Number(m[1]), headers };
}

export class H2TunnelSocket extends Duplex {
  readonly #stream: ServerHttp2Stream;
  #head: Buffer | null = Buffer.alloc(0);

  constructor(stream: ServerHttp2Stream) {
    super({ allowHalfOpen: true });
    this.#stream = stream;
    stream.on('data', (c: Buffer) => { if (!this.push(c)) stream.pause(); });
    stream.once('end', () => this.push(null));
    stream.once('close', () => { if (!this.destroyed) this.destroy(stream.rstCode !== undefined && stream.rstCode !== loadHttp2().constants.NGHTTP2_NO_ERROR ? new Error(`stream reset (${stream.rstCode})`) : undefined); });
    stream.on('error', (err: Error) => this.destroy(err));
  }

  override _read(): void { this.#stream.resume(); }

  /** The tunnel relay's idle timer (tunnel/relay.ts): the stream's own, which sees both directions. */
  setTimeout(ms: number, onTimeout?: () => void): this {
    this.#stream.setTimeout(ms, onTimeout);
    return this;
  }

  /** An error on the upstream TCP connection: RST_STREAM with CONNECT_ERROR (RFC 9113 §8.5). */
  resetAndDestroy(): this {
    if (!this.#stream.closed && !this.#stream.destroyed) this.#stream.close(loadHttp2().constants.NGHTTP2_CONNECT_ERROR);
    return this.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#head === null) { this.#stream.write(chunk, cb); return; }
    const buf = Buffer.concat([this.#head, chunk]);
    const end = buf.indexOf(HEAD_END);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) { cb(new Error('response head too large for the h2 stream')); return; }
      this.#head = buf;
      cb();
      return;
    }
    this.#head = null;
    const parsed = parseHeadForH2(buf.subarray(0, end).toString('latin1'));
    if (parsed === null) { cb(new Error('no HTTP/1.1 status line to translate for the h2 stream')); return; }
    const out: OutgoingHttpHeaders = { ':status': parsed.status === 101 ? 200 : parsed.status };
    for (const [n, v] of h2ResponseHeaders(parsed.headers)) {
      if (n === 'sec-websocket-accept' || n === 'content-length' && parsed.status < 300) continue;
      const prev = out[n];
      out[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    if (this.#stream.destroyed) { cb(new Error('stream closed')); return; }
    this.#stream.respond(out);
    const rest = buf.subarray(end + HEAD_END.length);
    if (rest.length > 0) this.#stream.write(rest, cb);
    else cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#head !== null && !this.#stream.headersSent && !this.#stream.destroyed) this.#stream.respond({ ':status': 502 });
    this.#stream.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const s = this.#stream;
    if (!s.closed && !s.destroyed) {
      if (err !== null || !s.writableEnded) s.close(loadHttp2().constants.NGHTTP2_CANCEL);
      else if (s.writableFinished) s.close();
      else s.once('finish', () => s.close());
    }
    cb(err);
  }
}
