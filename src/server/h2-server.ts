/**
 * @module Cleartext HTTP/2 with prior knowledge beside HTTP/1.1 on a plain listener (`--h2c`), and what every ferry
 * HTTP/2 listener shares: its SETTINGS and the 'connect' dispatch (the TLS listener, h2 and http/1.1 by ALPN, is
 * server/tls-listener.ts). Requests arrive through node:http2's compatibility API, whose request/response objects
 * mirror node:http's, so every stream enters the same runner as an HTTP/1.1 request (proxy/h2-entry.ts).
 *
 * Node's `http2.createServer({ allowHTTP1 })` only falls back to HTTP/1.1 on TLS (ALPN); on a plain socket it would
 * answer an HTTP/1.1 request with a GOAWAY. So `attachH2c` reads the first bytes of each connection: the HTTP/2
 * connection preface (RFC 9113 §3.4) hands the socket to an HTTP/2 server, anything else to the HTTP/1.1 server.
 * node:http takes bytes pushed back with `unshift`; an HTTP/2 session reads the socket's native handle and would not
 * see them ("bad client magic"), so it gets the socket through a small Duplex (`PrefaceReplay`), which node:http2
 * drives from JavaScript; the client's address is copied onto the session's socket for the logs and X-Forwarded-For.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type * as http2 from 'node:http2';
import type { Http2Server, Settings } from 'node:http2';
import { loadHttp2 } from '../http/lazy-builtins.ts';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { guardH2Sessions } from './h2-guard.ts';
import type { Logger } from './logger.ts';

/** RFC 9113 §3.4: every HTTP/2 connection starts with these 24 octets. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const DEFAULT_H2_MAX_CONCURRENT_STREAMS = 100;

export interface H2Handlers {
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** HTTP/1.1 upgrades on the same listener (--h2c's HTTP/1.1 side). */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface H2Options {
  maxConcurrentStreams?: number;
  /** A session with no stream activity for this long is closed (GOAWAY). */
  idleTimeoutMs?: number;
  /** Bytes of header block per request (SETTINGS_MAX_HEADER_LIST_SIZE). */
  maxHeaderBytes?: number;
  /** Rapid-reset bound (server/h2-guard.ts): stream resets per session per second before GOAWAY. */
  maxResetsPerSecond?: number;
  /** Where the rapid-reset guard logs the session it closed. */
  log?: Logger;
}

/** The SETTINGS every ferry HTTP/2 listener sends (the TLS listener of server/tls-listener.ts included). */
export function h2Settings(o: H2Options): Settings {
  return {
    maxConcurrentStreams: o.maxConcurrentStreams ?? DEFAULT_H2_MAX_CONCURRENT_STREAMS,
    // RFC 8441 §3: extended CONNECT (WebSocket over HTTP/2) is offered
    enableConnectProtocol: true,
    ...(o.maxHeaderBytes !== undefined ? { maxHeaderListSize: o.maxHeaderBytes } : {}),
  };
}

function wire(server: Http2Server, h: H2Handlers, o: H2Options): void {
  const handler = h.handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  server.on('request', handler);
  // with a listener, the runner decides about 100 Continue (it asks the upstream first), as on HTTP/1.1
  server.on('checkContinue', handler);
  // an h2 CONNECT (RFC 9113 §8.5) comes as 'connect' with a request/response pair: the same runner takes it
  server.on('connect', handler as never);
  if (h.upgrade) server.on('upgrade', h.upgrade);
  if (o.idleTimeoutMs !== undefined) server.setTimeout(o.idleTimeoutMs);
  server.on('sessionError', () => { /* the session is destroyed by node; nothing to answer */ });
  guardH2Sessions(server, { ...(o.maxResetsPerSecond !== undefined ? { maxResetsPerSecond: o.maxResetsPerSecond } : {}), ...(o.log ? { log: o.log } : {}) });
}

/**
 * One 'connect' listener for a secure server that speaks both protocols: an HTTP/1.1 CONNECT arrives as node:http's
 * (req, socket, head), an h2 CONNECT (RFC 9113 §8.5) as the compatibility API's (req, res) — told apart by arity.
 */
export function connectDispatcher(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  connect: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): (req: IncomingMessage, second: unknown, head?: Buffer) => void {
  return (req, second, head) => {
    if (head !== undefined || req.httpVersionMajor !== 2) connect(req, second as Duplex, head ?? Buffer.alloc(0));
    else handler(req, second as ServerResponse);
  };
}

export interface H2c {
  readonly h2: Http2Server;
  /** Close every HTTP/2 session (GOAWAY, streams in flight finish) — the HTTP/1.1 server closes its own connections. */
  close(): void;
  /** Cut every HTTP/2 session now (end of a shutdown grace period). */
  destroy(): void;
}

/**
 * `--h2c`: the plain HTTP/1.1 `server` also takes HTTP/2 with prior knowledge (RFC 9113 §3.3). Its own connection
 * listener (node:http's) is kept for every connection that does not start with the preface.
 */
export function attachH2c(server: HttpServer, h: H2Handlers, o: H2Options = {}): H2c {
  const h2 = loadHttp2().createServer({ settings: h2Settings(o) });
  wire(h2, h, o);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    // node:http2 wraps a Duplex in a socket without a peer address: give it the TCP peer's (net.Socket's `_peername`,
    // what its remoteAddress getter falls back to without a native handle). 'session' is emitted synchronously
    // inside emit('connection'), so `accepting` is this session's TCP socket.
    const tcp = accepting;
    if (tcp) (s.socket as unknown as { _peername?: object })._peername = { address: tcp.remoteAddress, port: tcp.remotePort, family: tcp.remoteFamily };
    // and its local end, which net.Socket no longer reads from `_sockname` (proxy/forward/h2-forward-target.ts needs it)
    if (tcp) H2C_LOCAL.set(s, { address: tcp.localAddress ?? '', port: tcp.localPort });
  });
  let accepting: Socket | null = null;
  const h1Listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    let seen: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const isPrefix = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isPrefix && seen.length < H2_PREFACE.length) return; // not decided yet: wait for more
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('timeout', onSilent);
      socket.setTimeout(0);
      socket.pause();
      if (isPrefix) {
        accepting = socket;
        try { h2.emit('connection', new PrefaceReplay(socket, seen)); } finally { accepting = null; }
        return;
      }
      socket.unshift(seen);
      for (const l of h1Listeners) l.call(server, socket);
      socket.resume();
    };
    const onEnd = (): void => { socket.destroy(); };
    // a connection that sends nothing is closed after the idle timeout, as node:http would
    const onSilent = (): void => { socket.destroy(); };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.on('error', () => socket.destroy());
    if (o.idleTimeoutMs !== undefined) { socket.setTimeout(o.idleTimeoutMs); socket.once('timeout', onSilent); }
  });
  return {
    h2,
    close() { for (const s of sessions) s.close(); },
    destroy() { for (const s of sessions) s.destroy(); },
  };
}

const H2C_LOCAL = new WeakMap<http2.Http2Session, { address: string; port: number | undefined }>();

/** The local address and port of an HTTP/2 session's connection (an --h2c session's socket has none of its own). */
export function sessionLocalEnd(session: http2.Http2Session): { address: string; port: number | undefined } {
  return H2C_LOCAL.get(session) ?? { address: session.socket.localAddress ?? '', port: session.socket.localPort };
}

/** A TCP socket whose first bytes (the preface, already read) are given again first; then its bytes as they come. */
class PrefaceReplay extends Duplex {
  readonly #socket: Socket;
  constructor(socket: Socket, first: Buffer) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.push(first);
    socket.on('data', (c: Buffer) => { if (!this.push(c)) socket.pause(); });
    socket.once('end', () => this.push(null));
    socket.once('close', () => this.destroy());
    socket.resume();
  }
  override _read(): void { this.#socket.resume(); }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void { this.#socket.write(chunk, cb); }
  override _final(cb: (err?: Error | null) => void): void { this.#socket.end(); cb(); }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void { this.#socket.destroy(); cb(err); }
}
