/**
 * @module The upstream HTTP client: undici Agent (pooled keep-alive, strict llhttp parser, no pipelining) for ordinary
 * requests; node:http (proxy/upstream-node-http.ts) for `Expect: 100-continue` and for request bodies that end with
 * trailers, which undici cannot send. Bodies stream both ways with backpressure.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { Agent as UndiciAgent, EnvHttpProxyAgent, ProxyAgent } from 'undici';
import { Agent, fullUndici } from './undici-lean.ts';
import { proxyForOrigin, type UpstreamProxySetting } from './env-proxy.ts';
import { createUpstreamProxyDispatcher } from './upstream-proxy.ts';
import { FerryError } from '../errors.ts';
import { fromHeaderObject, fromParsedHeaders, hasHeader, toFlatHeaders, withoutHeaders, type HeaderList } from '../http/headers.ts';
import type { ProxiedResponse, RequestHead, ResponseHead } from './phases.ts';
import { toUpstreamError } from './upstream-errors.ts';
import { createNodeAgents, isBodilessStatus, sendNodeHttp } from './upstream-node-http.ts';
// (re-exported: the 100-continue wait is part of this client's contract)
export { CONTINUE_AFTER_MS } from './upstream-node-http.ts';
import type { GuardedLookup } from './forward/destination.ts';
import type { UpstreamTls } from './upstream-tls.ts';

export interface UpstreamClientOptions {
  connectTimeoutMs: number;
  /** No response head within this time → 504 (refreshed while the request body is still being sent). */
  headersTimeoutMs: number;
  /** Longest silence between two response body chunks. */
  bodyTimeoutMs: number;
  maxHeaderBytes: number;
  /** Send everything through this HTTP proxy (--upstream-proxy): absolute-form for http, CONNECT for https; `env`: per target. */
  upstreamProxy?: UpstreamProxySetting;
  /** Pool bounds (forward mode, where any origin may be asked): sockets per origin, and origins at once. */
  connectionsPerOrigin?: number;
  maxOrigins?: number;
  /** DNS for every upstream socket (forward mode with --deny: the guarded lookup). */
  lookup?: GuardedLookup;
  /** Outgoing TLS (--upstream-ca/-cert/-key/-servername/-insecure, proxy/upstream-tls.ts); default: verify against the default CAs. */
  tls?: UpstreamTls;
  /** Offer HTTP/2 by ALPN to HTTPS upstreams (--upstream-h2); HTTP/1.1 when they do not take it. */
  allowH2?: boolean;
}

/**
 * Cancels one upstream call: the runner aborts it when the client goes away. A plain object rather than an
 * AbortController, which costs an EventTarget per request and a DOMException with a stack trace when it fires.
 */
export class UpstreamAbort {
  done = false;
  reason: unknown = undefined;
  /** Set by the client while the call is in flight. */
  onAbort: ((reason: unknown) => void) | null = null;
  abort(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    this.reason = reason;
    this.onAbort?.(reason);
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
  /** UpstreamAbort on the hot path; a standard AbortSignal (e.g. AbortSignal.timeout) is accepted too. */
  signal: UpstreamAbort | AbortSignal;
  /** Expect: 100-continue: called once the upstream asks for the body (or stayed silent for CONTINUE_AFTER_MS). */
  onContinue?: () => void;
  /** Each interim response other than 100 and 101 (102 Processing, 103 Early Hints …), as it arrives. */
  onInformation?: (status: number, headers: HeaderList) => void;
  /**
   * The request's trailer section (RFC 9110 §6.5), read once the body has ended (an h2 client's trailing HEADERS,
   * proxy/h2-entry.ts). undici cannot send request trailers, so such a call goes over node:http, whose chunked body
   * can end with them (`addTrailers`); calls without it keep the undici path.
   */
  trailers?: () => HeaderList | null;
}

/** An UpstreamCall whose signal has been normalised. */
type Call = UpstreamCall & { signal: UpstreamAbort };

function fromAbortSignal(signal: AbortSignal): UpstreamAbort {
  const abort = new UpstreamAbort();
  if (signal.aborted) abort.abort(signal.reason);
  else signal.addEventListener('abort', () => abort.abort(signal.reason), { once: true });
  return abort;
}

export interface UpstreamClient {
  send(call: UpstreamCall): Promise<ProxiedResponse>;
  close(): Promise<void>;
  destroy(): void;
}

/** RFC 9110 §9.2.2 idempotent methods (undici RetryHandler's defaults). */
const RETRYABLE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** RELIABILITY R7: below the 5 s keep-alive of common origins (undici's default is 4 s). */
const POOL_IDLE_MS = 4_000;

/** undici's pooled dispatcher for the options: a keep-alive Agent, or one that reaches every origin through --upstream-proxy. */
function createDispatcher(options: UpstreamClientOptions): UndiciAgent | ProxyAgent | EnvHttpProxyAgent {
  const lookup = options.lookup ? { lookup: options.lookup } : {};
  const agentOptions = {
    connect: { timeout: options.connectTimeoutMs, ...lookup, ...options.tls },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: POOL_IDLE_MS,
    maxHeaderSize: options.maxHeaderBytes,
    pipelining: 1,
    ...(options.connectionsPerOrigin !== undefined ? { connections: options.connectionsPerOrigin } : {}),
    ...(options.maxOrigins !== undefined ? { maxOrigins: options.maxOrigins } : {}),
    // explicit: undici 8 offers h2 by ALPN unless told not to; ferry speaks HTTP/1.1 upstream unless --upstream-h2
    allowH2: options.allowH2 === true,
  };
  // --upstream-proxy (forward-proxy engineer): same pool options, every origin reached through the proxy
  const proxy = options.upstreamProxy ?? null;
  // (through an upstream proxy, undici's ProxyAgent takes the origin's TLS settings as requestTls)
  const requestTls = options.tls ? { requestTls: options.tls } : {};
  return proxy === null ? new Agent(agentOptions)
    : proxy instanceof URL ? createUpstreamProxyDispatcher(proxy, { ...agentOptions, ...requestTls })
    // --upstream-proxy env: undici's own per-target choice, fed the variables ferry read at startup ('' = none)
    : new (fullUndici().EnvHttpProxyAgent)({ ...agentOptions, ...requestTls, proxyTunnel: false, httpProxy: proxy.http?.href ?? '', httpsProxy: proxy.https?.href ?? '', noProxy: proxy.noProxy });
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const agent = createDispatcher(options);
  const nodeAgents = createNodeAgents(options);
  /** node:http cannot reach an https origin through the upstream proxy (undici's CONNECT tunnel does that), and it
   * writes field values UTF-8 encoded, so obs-text bytes (RFC 9110 §5.5) would reach the origin as other bytes. */
  const nodeHttpCannotCarry = (call: Call, h2: boolean): boolean =>
    (call.origin.startsWith('https:') && (h2 || proxyForOrigin(options.upstreamProxy ?? null, call.origin) !== null)) || hasObsText(call.head.headers);

  /**
   * `retryClosed`: RELIABILITY R7 — a pooled connection the origin closed just as it was reused fails before any
   * response byte; such a call (idempotent, no body) is dispatched once more, on a fresh connection. Decided in the
   * handler rather than with a `.catch` on the promise: no second promise and closure for every GET (issue 18).
   */
  function sendUndici(call: Call, retryClosed: boolean): Promise<ProxiedResponse> {
    return new Promise((resolve, reject) => { dispatchUndici(call, resolve, reject, retryClosed ? dispatchUndici : null); });
  }

  function dispatchUndici(call: Call, resolve: (r: ProxiedResponse) => void, reject: (e: unknown) => void, retry: Redispatch | null): void {
    const { head } = call;
    const handler = new ResponseHandler(head.method === 'HEAD', call, resolve, reject, retry);
    try {
      agent.dispatch({
        origin: call.origin,
        path: call.path,
        method: head.method,
        // undici's HTTP/1.1 client refuses Expect; a 100-continue request never takes this path
        headers: toFlatHeaders(hasHeader(head.headers, 'expect') ? withoutHeaders(head.headers, ['expect']) : head.headers),
        body: call.body,
        ...(call.origin.startsWith('https:') ? tlsServername(call.origin, options.tls?.servername) : {}),
      }, handler as never);
    } catch (err) {
      handler.failBeforeHead(toUpstreamError(err));
    }
  }

  return {
    send(given) {
      const call: Call = given.signal instanceof UpstreamAbort ? given as Call : { ...given, signal: fromAbortSignal(given.signal) };
      if (call.onContinue) {
        // Where the node:http path cannot carry the request faithfully, ferry lets the body flow itself (RFC 9110
        // §10.1.1 allows the intermediary to answer 100) and sends it through undici.
        if (nodeHttpCannotCarry(call, false)) {
          call.onContinue();
          return sendUndici({ ...call, onContinue: undefined }, false);
        }
        return sendNodeHttp(call, nodeAgents, options);
      }
      // request trailers need node:http's chunked writer; where that path cannot carry the call, they are dropped
      if (call.trailers && call.body && !nodeHttpCannotCarry(call, options.allowH2 === true)) return sendNodeHttp(call, nodeAgents, options);
      // RELIABILITY R7: an idempotent request without a body is sent once more when a reused connection was closed
      return sendUndici(call, call.body === null && RETRYABLE_METHODS.has(call.head.method));
    },
    async close() {
      nodeAgents.destroy();
      await agent.close();
    },
    destroy() {
      nodeAgents.destroy();
      void agent.destroy();
    },
  };
}

/**
 * SNI and the name the certificate is checked against: --upstream-servername, else the upstream URL's host. undici
 * would otherwise take them from the forwarded Host field, which in reverse mode is the client's name for ferry.
 * An IP-literal upstream sends no SNI (RFC 6066 §3), so undici's own choice is left.
 */
function tlsServername(origin: string, override: string | undefined): { servername?: string } {
  if (override) return { servername: override };
  let named = SERVERNAMES.get(origin);
  if (named === undefined) {
    const host = new URL(origin).hostname;
    named = isIP(host.replace(/^\[|\]$/g, '')) === 0 ? { servername: host } : {};
    if (SERVERNAMES.size >= 1024) SERVERNAMES.clear(); // forward mode may see any number of origins
    SERVERNAMES.set(origin, named);
  }
  return named;
}
const SERVERNAMES = new Map<string, { servername?: string }>();

/** Any byte outside ASCII in a field value (obs-text, RFC 9110 §5.5). */
function hasObsText(headers: HeaderList): boolean {
  for (const [, v] of headers) if (/[^\x00-\x7f]/.test(v)) return true;
  return false;
}


/**
 * The upstream response body. `complete` turns true once undici delivered its last byte: a small response usually
 * arrives whole (head, body and end in one socket read) before anyone reads it, and is then still buffered here.
 */
export class UpstreamBody extends Readable {
  complete = false;
  /** The upstream's trailer section (RFC 9110 §6.5), set before the end of the body when it sent one. */
  trailers: HeaderList | null = null;
  readonly #source: BodySource;

  /** `_read` and `_destroy` as methods that ask the source, not closures passed as options (two per response). */
  constructor(source: BodySource) {
    super();
    this.#source = source;
  }

  override _read(): void {
    this.#source.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#source.abandon(err);
    cb(err);
  }
}

/** What feeds an UpstreamBody: read on (the reader wants more), or give up (the reader went away). */
export interface BodySource {
  resume(): void;
  abandon(err: Error | null): void;
}

interface Controller {
  pause(): void;
  resume(): void;
  abort(reason: unknown): void;
  rawHeaders: Buffer[] | string[] | null;
}

/**
 * undici dispatch handler: resolves with the response head and a plain Readable fed with backpressure (push() false →
 * pause the socket; read() → resume). Leaner than undici.request(), whose body stream and promise plumbing cost
 * several microseconds per request.
 */
type Redispatch = (call: Call, resolve: (r: ProxiedResponse) => void, reject: (e: unknown) => void, retry: null) => void;

class ResponseHandler implements BodySource {
  #controller: Controller | null = null;
  #body: UpstreamBody | null = null;
  #settled = false;
  /** The final response head was handed over (the promise is resolved). */
  #responded = false;
  readonly #head: boolean;
  readonly #call: Call;
  readonly #signal: UpstreamAbort;
  readonly #resolve: (r: ProxiedResponse) => void;
  readonly #reject: (e: unknown) => void;
  readonly #onInformation: ((status: number, headers: HeaderList) => void) | undefined;
  /** Send the call once more when the reused connection turns out closed (R7); null: no second try. */
  readonly #retry: Redispatch | null;

  constructor(head: boolean, call: Call, resolve: (r: ProxiedResponse) => void, reject: (e: unknown) => void, retry: Redispatch | null) {
    this.#onInformation = call.onInformation;
    this.#head = head;
    this.#call = call;
    this.#signal = call.signal;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#retry = retry;
  }

  /** No response head will come: the call fails, or is tried once more (R7) on the next turn, as a rejection's handler would be. */
  failBeforeHead(fe: FerryError): void {
    const retry = this.#retry;
    if (retry !== null && fe.code === 'FERRY_ERR_UPSTREAM_CLOSED' && !this.#signal.done) {
      const call = this.#call;
      const resolve = this.#resolve;
      const reject = this.#reject;
      queueMicrotask(() => retry(call, resolve, reject, null));
      return;
    }
    this.#reject(fe);
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#signal.done) { controller.abort(this.#signal.reason); return; }
    this.#signal.onAbort = (reason) => controller.abort(reason);
  }

  onResponseStart(controller: Controller, status: number, parsed: Record<string, string | string[] | undefined>, statusText: string): void {
    const headers = responseHeaderList(controller.rawHeaders, parsed);
    // undici 8 hands interim responses (RFC 9110 §15.2) to onResponseStart too; the final one follows
    if (status < 200) { if (status !== 101) this.#onInformation?.(status, headers); return; }
    let body: UpstreamBody | null = null;
    if (!this.#head && !isBodilessStatus(status)) {
      this.#controller = controller;
      body = new UpstreamBody(this);
      this.#body = body;
    }
    this.#responded = true;
    // (no spread of a one-field object per response; the same fields in the same order)
    const head: ResponseHead = statusText ? { status, statusText, headers, httpVersion: '1.1' } : { status, headers, httpVersion: '1.1' };
    this.#resolve({ head, body });
  }

  /** The body's reader wants more (UpstreamBody._read). */
  resume(): void {
    this.#controller!.resume();
  }

  /** The body's reader gave up (client gone, cache tee failed): stop the upstream transfer too (UpstreamBody._destroy). */
  abandon(err: Error | null): void {
    if (!this.#settled) this.#controller!.abort(err ?? new FerryError('FERRY_ERR_CLIENT_GONE', 'response body abandoned', { source: 'downstream' }));
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#body && !this.#body.push(chunk)) controller.pause();
  }

  onResponseEnd(_controller: Controller, trailers?: Record<string, string | string[] | undefined> | null): void {
    this.#settled = true;
    this.#signal.onAbort = null;
    if (this.#body) {
      if (trailers) this.#body.trailers = trailerList(trailers);
      this.#body.complete = true;
      this.#body.push(null);
    }
  }

  onResponseError(_controller: Controller, err: Error): void {
    const first = !this.#settled;
    this.#settled = true;
    this.#signal.onAbort = null;
    const fe = toUpstreamError(err);
    if (this.#body) { if (first) this.#body.destroy(fe); }
    else if (!this.#responded) this.failBeforeHead(fe); // (after a bodiless head the promise is settled already)
  }
}

/**
 * The response head as a list: undici's parsed object when it holds every field in order (fromParsedHeaders), else
 * the raw pairs (HTTP/1.1: Buffers, a repeated field among others). An HTTP/2 upstream's head arrives as an object.
 */
function responseHeaderList(raw: Controller['rawHeaders'] | Record<string, string | string[] | undefined>, parsed: Record<string, string | string[] | undefined>): HeaderList {
  if (raw === null) return fromHeaderObject(parsed);
  if (!Array.isArray(raw)) return fromHeaderObject(raw);
  const fast = fromParsedHeaders(parsed, raw.length >> 1);
  if (fast !== null) return fast;
  const headers: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!.toString('latin1').toLowerCase(), raw[i + 1]!.toString('latin1')]);
  return headers;
}

function trailerList(t: Record<string, string | string[] | undefined>): HeaderList | null {
  const out: HeaderList = [];
  for (const [n, v] of Object.entries(t)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([n.toLowerCase(), one]);
  }
  return out.length > 0 ? out : null;
}
