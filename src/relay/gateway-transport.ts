/**
 * @module The relay client's side of the gateway hop: one signed POST per relay message, with retries.
 *
 * The hop is at-least-once: a lost answer, a gateway 502/504, a reset or a corrupted chunk (460) is
 * simply sent again with a fresh nonce; the server's dedup on (session, direction, index, SHA-256)
 * makes the repeat harmless. Retries are bounded (`retries` attempts after the first, exponential
 * backoff 100 ms × 2ⁿ capped at 2 s, jittered); when they run out the transfer fails loudly.
 * A server saying "busy" (window full, long poll over) is not a failure and costs no retry.
 */
import type { UpstreamTls } from '../proxy/upstream-tls.ts';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent as UndiciAgent } from 'undici';
import { Agent, requestVia } from '../proxy/undici-lean.ts';
import { FerryError } from '../errors.ts';
import type { Logger } from '../server/logger.ts';
import { signRelayRequest, verifyRelayResponse } from './hmac.ts';
import { formatContentDigest, H, parseContentDigest, STATUS_CHECKSUM_MISMATCH, type RelayPath } from './protocol.ts';
import type { RelayCounters } from './relay-stats.ts';
import { releaseCopied } from './slab-pool.ts';
import { signSigV4, type AwsCredentials, type CredentialSource } from './sigv4.ts';

/** `credentials`: fixed, or a source asked before each message (refreshed credentials, issue 17). */
export interface SigV4Config { credentials: AwsCredentials | CredentialSource; region: string; service: string }

export interface GatewayTransportOptions {
  gateway: URL;
  secret: Buffer | undefined;
  sigv4: SigV4Config | undefined;
  retries: number;
  pollTimeoutMs: number;
  maxMessage: number;
  counters: RelayCounters;
  log: Logger;
  now?: () => number;
  /** TLS settings for an https gateway (--upstream-ca & co., proxy/upstream-tls.ts). */
  tls?: UpstreamTls;
}

export interface RelayReply {
  status: number;
  headers: Record<string, string>;
  /** The body as received, in pieces (not concatenated: a chunk is hashed and delivered without another copy). */
  parts: Buffer[];
  length: number;
}

export function replyText(r: RelayReply): string {
  return Buffer.concat(r.parts, r.length).toString('utf8');
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504, STATUS_CHECKSUM_MISMATCH]);
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;
/** Between two sends of a message refused `early` (its session's open is on its way): doubling from 20 ms to 640. */
const EARLY_RETRY_MS = 20;
const EARLY_RETRY_CAP_MS = 640;

class TransientError extends Error {}

/**
 * The reason a relay-server gave with a signed refusal (`{"error": "..."}`), e.g. "session store (Redis) unavailable:
 * Command timed out": it ends up in the application's 502 and the client's log line, so they name the real cause.
 */
function refusalDetail(r: RelayReply): string {
  if (r.headers[H.responseAuth] === undefined || r.length === 0 || r.length > 4096) return '';
  try {
    const error = (JSON.parse(replyText(r)) as { error?: unknown }).error;
    return typeof error === 'string' && error !== r.headers[H.error] ? `: ${error.slice(0, 200)}` : '';
  } catch { return ''; }
}

export class GatewayTransport {
  readonly #o: GatewayTransportOptions;
  readonly #agent: UndiciAgent;
  readonly #now: () => number;

  constructor(options: GatewayTransportOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#agent = new Agent({
      connections: 256,
      keepAliveTimeout: 30_000,
      headersTimeout: options.pollTimeoutMs + 15_000,
      bodyTimeout: 60_000,
      ...(options.tls ? { connect: { ...options.tls } } : {}),
    });
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  #url(endpoint: RelayPath): URL {
    const u = new URL(this.#o.gateway.href);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}${endpoint}`;
    return u;
  }

  /**
   * One attempt: sign, send, read the (bounded) answer, check its signature and digest. `into`: asked for a buffer
   * once a 200 answer's Content-Length is known (not while a long poll waits); an answer that fits is copied there
   * piece by piece as it arrives (its only part is then a view of that buffer):
   * the socket's pieces die young instead of being held, and promoted, until the whole answer is in (issue 18).
   */
  async once(endpoint: RelayPath, fields: Record<string, string>, body: Buffer, signal?: AbortSignal, bodyDigest?: string, into?: (length: number) => Buffer): Promise<RelayReply> {
    const url = this.#url(endpoint);
    const digest = bodyDigest ?? formatContentDigest(body);
    const signedFields: Record<string, string> = { ...fields, [H.digest]: digest };
    const headers: Record<string, string> = { ...signedFields, 'content-type': 'application/octet-stream', 'cache-control': 'no-store' };
    let nonce = '';
    if (this.#o.secret) {
      nonce = randomBytes(18).toString('base64url');
      headers[H.auth] = signRelayRequest(this.#o.secret, { method: 'POST', path: endpoint, fields: signedFields, nowMs: this.#now(), nonce });
    }
    if (this.#o.sigv4) {
      // The same SHA-256 as the Content-Digest, in hex: each byte is hashed once.
      const hex = Buffer.from(digest.slice('sha-256=:'.length, -1), 'base64').toString('hex');
      const creds = this.#o.sigv4.credentials;
      const current = typeof creds === 'function' ? await creds() : creds;
      Object.assign(headers, signSigV4({
        method: 'POST', url, headers: { 'content-type': headers['content-type']!, [H.digest]: digest }, payloadHash: hex,
        region: this.#o.sigv4.region, service: this.#o.sigv4.service,
      }, current, this.#now()));
    }
    let res;
    try {
      res = await requestVia(this.#agent, url, { method: 'POST', headers, body, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new TransientError(`gateway request failed: ${(err as Error).message}`);
    }
    const resHeaders: Record<string, string> = {};
    for (const [n, v] of Object.entries(res.headers)) if (v !== undefined) resHeaders[n] = Array.isArray(v) ? v.join(',') : v;
    const declared = Number(resHeaders['content-length'] ?? '0');
    if (declared > this.#o.maxMessage) {
      res.body.destroy();
      throw new TransientError(`answer of ${declared} bytes is over --max-message`);
    }
    const parts: Buffer[] = [];
    const hash = createHash('sha256');
    let length = 0;
    const target = into !== undefined && res.statusCode === 200 && resHeaders['content-length'] !== undefined && declared > 0 ? into(declared) : undefined;
    const sink = target !== undefined && declared <= target.length ? target : undefined;
    try {
      for await (const piece of res.body) {
        const b = piece as Buffer;
        if (sink) {
          if (length + b.length > declared) throw new Error('answer longer than its Content-Length');
          b.copy(sink, length);
        } else parts.push(b);
        length += b.length;
        if (length > this.#o.maxMessage) throw new Error('answer longer than --max-message');
        hash.update(b);
        if (sink) releaseCopied(b); // copied and hashed: freed now (slab-pool.ts)
      }
      if (sink) parts.push(sink.subarray(0, length));
    } catch (err) {
      if (signal?.aborted) throw err;
      res.body.destroy();
      throw new TransientError(`gateway answer broke: ${(err as Error).message}`);
    }
    const reply: RelayReply = { status: res.statusCode, headers: resHeaders, parts, length };
    const fromRelay = resHeaders[H.responseAuth] !== undefined || !this.#o.secret;
    if (this.#o.secret && fromRelay) {
      const ok = verifyRelayResponse(this.#o.secret, res.statusCode, nonce, Object.keys(resHeaders), (n) => resHeaders[n]);
      if (!ok) throw new TransientError('relay answer failed its signature check');
    }
    // Only a signed (or, without a secret, any) 2xx counts; a gateway cannot forge an acknowledgement.
    if (res.statusCode >= 200 && res.statusCode < 300 && this.#o.secret && !fromRelay) throw new TransientError(`unsigned ${res.statusCode} answer`);
    if (res.statusCode === 200 && parseContentDigest(resHeaders[H.digest]) !== `sha-256=:${hash.digest('base64')}:`) {
      throw new TransientError('answer body does not match its Content-Digest');
    }
    return reply;
  }

  /** Send until a definitive answer: 2xx or a non-retryable refusal. Throws FerryError when retries run out. */
  async call(endpoint: RelayPath, fields: Record<string, string>, body: Buffer, signal?: AbortSignal, into?: (length: number) => Buffer): Promise<RelayReply> {
    let failures = 0;
    let earlySince = 0;
    let earlyTries = 0;
    const digest = formatContentDigest(body); // once, not per attempt
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      let why: string;
      try {
        const r = await this.once(endpoint, fields, body, signal, digest, into);
        const kind = r.headers[H.error];
        if (r.status === 503 && kind === 'busy' && r.headers[H.responseAuth] !== undefined) continue; // long wait ended; not a failure
        // relay-server holds no more early messages now (relay-decisions.ts admitEarly): the message waits for its open,
        // which is in flight, costing no retry; sent again once the open has landed, it is taken at once. Bounded by
        // --poll-timeout, the longest an open may take to be answered; then it counts as a failure like any other.
        if (r.status === 503 && kind === 'early' && r.headers[H.responseAuth] !== undefined) {
          earlySince ||= performance.now();
          if (performance.now() - earlySince < this.#o.pollTimeoutMs) {
            // 20, 40, … 640 ms apart: quick once the open lands, ~40 messages at most over a 20 s --poll-timeout
            await pause(Math.min(EARLY_RETRY_CAP_MS, EARLY_RETRY_MS * 2 ** earlyTries++), signal);
            continue;
          }
        }
        if (r.status === 401 && kind === 'skew') {
          throw new FerryError('FERRY_ERR_RELAY_CLOCK', 'relay-server refused our timestamp: this clock is more than 300 s away from the server clock', { source: 'upstream', status: 502 });
        }
        if (!RETRYABLE.has(r.status) && !(r.status === 401 && kind === 'replay')) return r;
        why = `${endpoint} answered ${r.status}${kind ? ` (${kind}${refusalDetail(r)})` : ''}`;
      } catch (err) {
        if (!(err instanceof TransientError)) throw err;
        why = err.message;
      }
      failures++;
      if (failures > this.#o.retries) {
        throw new FerryError('FERRY_ERR_RELAY', `relay message failed after ${failures} attempts: ${why}`, { source: 'upstream', status: 502 });
      }
      this.#o.counters.retries++;
      this.#o.log.debug({ event: 'relay-retry', endpoint, attempt: failures, why }, 'retrying relay message');
      const delay = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
      await pause(delay / 2 + Math.random() * (delay / 2), signal);
    }
  }
}

/** Wait `ms`; an abort meanwhile rejects with why the session ended (node's AbortError only says "aborted"). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return sleep(ms, undefined, signal ? { signal } : undefined).catch((err: unknown) => { throw signal?.reason ?? err; });
}
