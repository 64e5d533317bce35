/**
 * @module The upstream client's node:http path (proxy/upstream-client.ts picks it): the `Expect: 100-continue`
 * handshake, which must reach the origin (RFC 9110 §10.1.1) and which undici's HTTP/1.1 client refuses, and request
 * bodies that end with a trailer section (RFC 9112 §7.1.2), which undici cannot send.
 */
import type { Agent, ClientRequest, InformationEvent, OutgoingHttpHeaders } from 'node:http';
import { http } from '../http/node-http.ts';
import type { Agent as HttpsAgent } from 'node:https';
import { loadHttps } from '../http/lazy-builtins.ts';
import { pipeline, type Readable } from 'node:stream';
import { proxyForOrigin } from './env-proxy.ts';
import { FerryError } from '../errors.ts';
import { fromRawHeaders, toFlatHeaders, type HeaderList } from '../http/headers.ts';
import type { ProxiedResponse } from './phases.ts';
import { toUpstreamError } from './upstream-errors.ts';
import type { UpstreamAbort, UpstreamCall, UpstreamClientOptions } from './upstream-client.ts';

/** Without an answer to `Expect: 100-continue` in this time, the body is sent anyway (RFC 9110 §10.1.1). */
export const CONTINUE_AFTER_MS = 1_000;

/** Responses that never carry content (RFC 9110 §6.4.1). */
export const isBodilessStatus = (status: number): boolean => status === 204 || status === 304 || (status >= 100 && status < 200);

/** The https agent is made (and node:https loaded, http/lazy-builtins.ts) by the first call to an https origin. */
export interface NodeAgents { http: Agent; https(): HttpsAgent; destroy(): void }

export function createNodeAgents(options: UpstreamClientOptions): NodeAgents {
  const lookup = options.lookup ? { lookup: options.lookup } : {};
  const plain = new http.Agent({ keepAlive: true, timeout: options.bodyTimeoutMs, ...lookup });
  let secure: HttpsAgent | undefined;
  return {
    http: plain,
    https: () => secure ??= new (loadHttps().Agent)({ keepAlive: true, timeout: options.bodyTimeoutMs, ...lookup, ...options.tls }),
    destroy() { plain.destroy(); secure?.destroy(); },
  };
}

type Call = UpstreamCall & { signal: UpstreamAbort };

/**
 * A call over node:http: the 100-continue handshake (head first, body only after `continue` or silence), or, without
 * `onContinue`, a body with request trailers (sent at once, the trailer section after its last chunk).
 */
// About 80 lines: one handshake whose timers, settle flag and body start must share one scope (RFC 9110 §10.1.1).
export function sendNodeHttp(call: Call, agents: NodeAgents, options: UpstreamClientOptions): Promise<ProxiedResponse> {
  const origin = new URL(call.origin);
  // --upstream-proxy with a plain-http origin: the request goes to the proxy in absolute-form (RFC 9112 §3.2.2).
  const proxy = origin.protocol === 'http:' ? proxyForOrigin(options.upstreamProxy ?? null, origin) : null;
  const peer = proxy ?? origin;
  const tls = peer.protocol === 'https:';
  const headers = toFlatHeaders(call.head.headers);
  // A body without Content-Length goes chunked whatever the method: node:http frames only some methods by default and
  // would write a GET/DELETE/OPTIONS body raw, which the origin then reads as the next request (RELIABILITY S8).
  if (call.body && !call.head.headers.some(([n]) => n === 'content-length')) headers.push('transfer-encoding', 'chunked');
  if (proxy && proxy.username !== '') {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers.push('proxy-authorization', `Basic ${Buffer.from(credentials).toString('base64')}`);
  }
  return new Promise((resolve, reject) => {
    const req = (tls ? loadHttps() : http).request({
      agent: tls ? agents.https() : agents.http,
      host: peer.hostname.replace(/^\[|\]$/g, ''),
      port: peer.port === '' ? (tls ? 443 : 80) : Number(peer.port),
      ...(tls ? { servername: (proxy ? undefined : options.tls?.servername) ?? peer.hostname } : {}),
      method: call.head.method,
      path: proxy ? `${call.origin}${call.path}` : call.path,
      headers: headers as unknown as OutgoingHttpHeaders,
      setHost: false,
      insecureHTTPParser: false,
      maxHeaderSize: options.maxHeaderBytes,
    });
    const onAbort = () => req.destroy(call.signal.reason instanceof Error ? call.signal.reason : new Error('aborted'));
    if (call.signal.done) queueMicrotask(onAbort);
    else call.signal.onAbort = onAbort;
    req.once('close', () => { call.signal.onAbort = null; });
    let bodyStarted = false;
    let settled = false;
    const startBody = () => {
      if (bodyStarted) return;
      bodyStarted = true;
      clearTimeout(silence);
      call.onContinue?.();
      if (call.body) {
        sendBody(call.body, req, call.trailers);
        // the head timeout counts from the end of the body: a long upload is not an upstream that stays silent
        call.body.on('data', () => headTimer.refresh());
      } else req.end();
    };
    const headTimer = setTimeout(() => {
      req.destroy(new FerryError('FERRY_ERR_UPSTREAM_TIMEOUT', 'no response headers from upstream in time', { source: 'upstream', status: 504 }));
    }, options.headersTimeoutMs);
    let silence: NodeJS.Timeout | undefined;
    req.on('socket', (socket) => {
      if (call.onContinue === undefined) return;
      const arm = () => { silence = setTimeout(startBody, CONTINUE_AFTER_MS); };
      if (socket.connecting) socket.once('connect', arm);
      else arm();
    });
    req.on('continue', startBody);
    // node:http reports every 1xx but 101 as 'information', 100 included (that one is the 'continue' above)
    req.on('information', (info: InformationEvent) => {
      if (info.statusCode !== 100) call.onInformation?.(info.statusCode, fromRawHeaders(info.rawHeaders));
    });
    req.on('response', (res) => {
      settled = true;
      clearTimeout(headTimer);
      clearTimeout(silence);
      if (!bodyStarted) {
        // Final answer before the body (RFC 9110 §10.1.1): the body is never sent, so this connection cannot be reused.
        bodyStarted = true;
        res.once('end', () => req.destroy());
      }
      const headers = fromRawHeaders(res.rawHeaders);
      const status = res.statusCode ?? 502;
      let body: Readable | null = res;
      if (call.head.method === 'HEAD' || isBodilessStatus(status)) {
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
    if (call.onContinue === undefined) startBody();
  });
}

/** Stream `body` into the request; with `trailers`, end it with the trailer section (RFC 9112 §7.1.2). */
function sendBody(body: Readable, req: ClientRequest, trailers: (() => HeaderList | null) | undefined): void {
  if (trailers === undefined) { pipeline(body, req, () => { /* errors surface on req */ }); return; }
  body.pipe(req, { end: false });
  body.once('error', (err) => req.destroy(err));
  body.once('end', () => {
    const t = trailers();
    if (t !== null && t.length > 0) req.addTrailers(t as [string, string][]);
    req.end();
  });
}
