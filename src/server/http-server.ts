/** @module The hardened node:http server every ferry role listens with: strict parser, bounded heads, prompt timeouts. */
import type { IncomingMessage, ServerResponse, Server, ServerOptions } from 'node:http';
import { http } from '../http/node-http.ts';
import type { Duplex } from 'node:stream';
import type { Logger } from './logger.ts';
import { createTlsServer, type TlsListenerOptions } from './tls-listener.ts';
import { writeRawReply } from './reply-writer.ts';

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** RELIABILITY R2: Envoy, HAProxy and Apache stop at about 100 fields. */
export const DEFAULT_MAX_HEADERS_COUNT = 100;
/** RELIABILITY R3: Apache's header=20; Node/nginx 60 s are the outer bound. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Node checks headersTimeout/requestTimeout only this often; the default 30 s makes the cut-off unpredictable. */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;
/** RELIABILITY R6: nginx keepalive_requests. */
export const MAX_REQUESTS_PER_SOCKET = 1_000;

export interface HardenedServerOptions {
  maxHeaderBytes?: number;
  maxHeadersCount?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
  /**
   * Node's own Host check (RFC 9112 §3.2: 400 without Host on HTTP/1.1). Default true; false only for a role whose
   * head check answers it instead (server/connection.ts acceptHooks).
   */
  requireHostHeader?: boolean;
  /** Runs first on every parser error; returns true when it handled the socket (no 4xx is written then). */
  onClientError?: ClientErrorHook;
  /** Listen over TLS (--tls-cert/--tls-key): the same handler and limits behind server/tls-listener.ts. */
  tls?: TlsListenerOptions;
  log: Logger;
}

/** A parser error on `socket`: return true if handled (socket answered or closed), false to let the server answer. */
export type ClientErrorHook = (err: NodeJS.ErrnoException, socket: Duplex) => boolean;

const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
};

/** Create the server; the handler and upgrade/connect listeners are attached by the role. */
export function createHardenedServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: HardenedServerOptions,
): Server {
  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const httpOptions: ServerOptions = {
    insecureHTTPParser: false, // RELIABILITY S11: never lenient
    maxHeaderSize: options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    headersTimeout,
    requestTimeout: Math.max(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout),
    keepAliveTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    requireHostHeader: options.requireHostHeader ?? true,
    joinDuplicateHeaders: false,
  };
  const server = options.tls ? createTlsServer(httpOptions, handler, options.tls, options.log) : http.createServer(httpOptions, handler);
  server.maxHeadersCount = options.maxHeadersCount ?? DEFAULT_MAX_HEADERS_COUNT;
  server.maxRequestsPerSocket = MAX_REQUESTS_PER_SOCKET;
  server.timeout = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const hook = options.onClientError;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (hook?.(err, socket) !== true) onClientError(err, socket, options.log);
  });
  return server;
}

/** Parser rejections never reach a handler: answer them here, log one line, close. */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex, log: Logger): void {
  const code = err.code ?? 'UNKNOWN';
  if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = CLIENT_ERROR_STATUS[code] ?? 400;
  log.info({ event: 'client-error', code, status, reason: err.message }, 'rejected malformed request');
  writeRawReply(socket, { status, headers: [['Connection', 'close'], ['Content-Length', '0']], body: '' });
}

/** Close helper for the Closable contract of server/shutdown. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
