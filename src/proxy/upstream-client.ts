/**
 * @module The upstream HTTP client: undici Agent (pooled keep-alive, strict llhttp parser, no pipelining) for ordinary
 * requests, and node:http for `Expect: 100-continue` (undici's HTTP/1.1 client refuses the Expect field, and the
 * continue handshake must reach the origin: RFC 9110 §10.1.1). Bodies stream both ways with backpressure.
 */
import http from 'node:http';
import { EventEmitter } from 'node:events';
import { pipeline, type Readable } from 'node:stream';
import { Agent, type ProxyAgent } from 'undici';
import { createUpstreamProxyDispatcher } from './upstream-proxy.ts';
import { FerryError } from '../errors.ts';
import { hasHeader, toFlatHeaders, withoutHeaders, type HeaderList } from '../http/headers.ts';
import type { ProxiedResponse, RequestHead } from './phases.ts';
import { toUpstreamError } from './upstream-errors.ts';

export interface UpstreamClientOptions {
  connectTimeoutMs: number;
  /** No response head within this time → 504 (refreshed while the request body is still being sent). */
  headersTimeoutMs: number;
  /** Longest silence between two response body chunks. */
  bodyTimeoutMs: number;
  maxHeaderBytes: number;
  /** Send everything through this HTTP proxy (--upstream-proxy): absolute-form for http, CONNECT for https. */
  upstreamProxy?: URL | null;
  /** Pool bounds (forward mode, where any origin may be asked): sockets per origin, and origins at once. */
  connectionsPerOrigin?: number;
  maxOrigins?: number;
}

/**
 * Abort signal for one upstream call. An EventEmitter, which undici accepts as a signal, because an AbortController
 * per request costs an EventTarget and, when it fires, a DOMException with a stack trace.
 */
export class UpstreamAbort extends EventEmitter {
  /** Not named `aborted`: undici treats any object with that property as a native AbortSignal. */
  done = false;
  reason: unknown = undefined;
  abort(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    this.reason = reason;
    this.emit('abort');
  }
}

export interface UpstreamCall {
  /** `http://host:port` */
  origin: string;
  head: RequestHead;
  /** Origin-form path to send. */
  path: string;
  /** Request body, or null when the request has none. */
  body: Readable | null;
  signal: UpstreamAbort;
  /** Expect: 100-continue: called once the upstream asks for the body (or stayed silent for CONTINUE_AFTER_MS). */
  onContinue?: () => void;
}

export interface UpstreamClient {
  send(call: UpstreamCall): Promise<ProxiedResponse>;
  close(): Promise<void>;
  destroy(): void;
}

/** RELIABILITY S13: if the origin neither answers nor sends 100 within this time, ferry lets the body flow. */
export const CONTINUE_AFTER_MS = 1_000;
/** RELIABILITY R7: below the 5 s keep-alive of common origins (undici's default is 4 s). */
const POOL_IDLE_MS = 4_000;

const BODILESS_STATUS = (status: number) => status === 204 || status === 304 || (status >= 100 && status < 200);

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const agentOptions = {
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: POOL_IDLE_MS,
    maxHeaderSize: options.maxHeaderBytes,
    pipelining: 1,
    ...(options.connectionsPerOrigin !== undefined ? { connections: options.connectionsPerOrigin } : {}),
    ...(options.maxOrigins !== undefined ? { maxOrigins: options.maxOrigins } : {}),
  };
  // --upstream-proxy (forward-proxy engineer): same pool options, every origin reached through the proxy
  const agent: Agent | ProxyAgent = options.upstreamProxy ? createUpstreamProxyDispatcher(options.upstreamProxy, agentOptions) : new Agent(agentOptions);
  const nodeAgent = new http.Agent({ keepAlive: true, timeout: options.bodyTimeoutMs });

  async function sendUndici(call: UpstreamCall): Promise<ProxiedResponse> {
    const { head } = call;
    const res = await agent.request({
      origin: call.origin,
      path: call.path,
      method: head.method,
      // undici's HTTP/1.1 client refuses Expect; a 100-continue request never takes this path
      headers: toFlatHeaders(hasHeader(head.headers, 'expect') ? withoutHeaders(head.headers, ['expect']) : head.headers),
      body: call.body,
      signal: call.signal as unknown as AbortSignal, // undici takes EventEmitters as signals
      responseHeaders: 'raw',
    }).catch((err: unknown) => { throw toUpstreamError(err); });
    const headers = fromFlat(res.headers as unknown as string[]);
    let body: Readable | null = res.body;
    if (head.method === 'HEAD' || BODILESS_STATUS(res.statusCode)) {
      res.body.resume(); // nothing to read; frees the connection
      body = null;
    }
    const statusText = (res as { statusText?: string }).statusText;
    return { head: { status: res.statusCode, ...(statusText ? { statusText } : {}), headers, httpVersion: '1.1' }, body };
  }

  return {
    send(call) {
      return call.onContinue ? sendExpect(call, nodeAgent, options) : sendUndici(call);
    },
    async close() {
      nodeAgent.destroy();
      await agent.close();
    },
    destroy() {
      nodeAgent.destroy();
      void agent.destroy();
    },
  };
}

/** The 100-continue handshake over node:http: head first, body only after `continue` (or silence). */
function sendExpect(call: UpstreamCall, agent: http.Agent, options: UpstreamClientOptions): Promise<ProxiedResponse> {
  const url = new URL(call.origin);
  return new Promise((resolve, reject) => {
    const req = http.request({
      agent,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 80 : Number(url.port),
      method: call.head.method,
      path: call.path,
      headers: toFlatHeaders(call.head.headers) as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      insecureHTTPParser: false,
      maxHeaderSize: options.maxHeaderBytes,
    });
    const onAbort = () => req.destroy(call.signal.reason instanceof Error ? call.signal.reason : new Error('aborted'));
    if (call.signal.done) queueMicrotask(onAbort);
    else call.signal.once('abort', onAbort);
    req.once('close', () => call.signal.off('abort', onAbort));
    let bodyStarted = false;
    let settled = false;
    const startBody = () => {
      if (bodyStarted) return;
      bodyStarted = true;
      clearTimeout(silence);
      call.onContinue?.();
      if (call.body) pipeline(call.body, req, () => { /* errors surface on req */ });
      else req.end();
    };
    const headTimer = setTimeout(() => {
      req.destroy(new FerryError('FERRY_ERR_UPSTREAM_TIMEOUT', 'no response headers from upstream in time', { source: 'upstream', status: 504 }));
    }, options.headersTimeoutMs);
    let silence: NodeJS.Timeout | undefined;
    req.on('socket', (socket) => {
      const arm = () => { silence = setTimeout(startBody, CONTINUE_AFTER_MS); };
      if (socket.connecting) socket.once('connect', arm);
      else arm();
    });
    req.on('continue', startBody);
    req.on('response', (res) => {
      settled = true;
      clearTimeout(headTimer);
      clearTimeout(silence);
      if (!bodyStarted) {
        // Final answer before the body (RFC 9110 §10.1.1): the body is never sent, so this connection cannot be reused.
        bodyStarted = true;
        res.once('end', () => req.destroy());
      }
      const headers = fromRaw(res.rawHeaders);
      const status = res.statusCode ?? 502;
      let body: Readable | null = res;
      if (call.head.method === 'HEAD' || BODILESS_STATUS(status)) {
        res.resume();
        body = null;
      }
      resolve({ head: { status, statusText: res.statusMessage ?? '', headers, httpVersion: res.httpVersion }, body });
    });
    req.on('error', (err) => {
      clearTimeout(headTimer);
      clearTimeout(silence);
      if (!settled) { settled = true; reject(toUpstreamError(err)); }
    });
    req.flushHeaders();
  });
}

function fromFlat(flat: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!.toLowerCase(), flat[i + 1]!]);
  return out;
}

function fromRaw(raw: string[]): HeaderList {
  return fromFlat(raw);
}
