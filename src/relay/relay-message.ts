/**
 * @module One message on relay-server, carried out step by step from the decisions of relay-decisions.ts: route,
 * read the body, accept (MAC, clock, digest), claim the nonce in the store (replays), dispatch to an endpoint.
 * A store that cannot answer (Redis stalled or down: every call is bounded) makes the message a retryable
 * 503 `x-ferry-error: store`, which the client repeats within its --retries (docs/relay.md, "When Redis stalls").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../server/logger.ts';
import { NONCE_TTL_MS } from './hmac.ts';
import { RELAY_PATHS } from './protocol.ts';
import { acceptMessage, decideDispatch, decideRoute, refusal, REPLAY_REFUSAL, type Refusal } from './relay-decisions.ts';
import { runEndpoint, type EndpointContext } from './relay-endpoints.ts';
import { readBody } from './relay-reply.ts';
import type { RelayCounters } from './relay-stats.ts';
import { StoreUnavailableError } from './session-store.ts';

export interface MessageContext extends EndpointContext {
  secret: Buffer | undefined;
  statsPath: string;
  maxMessage: number;
  connectPorts: readonly number[] | undefined;
  /** Requests that may be waiting (long polls, full windows): shutdown ends them at once instead of after a poll. */
  waiting: Set<AbortController>;
  sendStats(res: ServerResponse): Promise<void>;
}

export async function handleMessage(c: MessageContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const route = decideRoute(req.method, path, req.headers['content-length'], c.statsPath, c.maxMessage);
  if (route.kind === 'stats') return c.sendStats(res);
  if (route.kind === 'refuse') return c.refuse(res, route, '');
  const { endpoint, length } = route;
  // Up chunks (the large bodies) are read into reused slabs; the store gives them back once nothing reads them.
  const body = await readBody(req, length, length > 0 && endpoint === RELAY_PATHS.up ? c.slabs.take() : undefined);
  if (!body) return; // client went away
  const get = (n: string) => { const v = req.headers[n]; return Array.isArray(v) ? v.join(',') : v; };
  const remote = req.socket.remoteAddress;
  const accepted = acceptMessage({ endpoint, body, names: Object.keys(req.headers), get, secret: c.secret, nowMs: c.now() });
  if (accepted.kind === 'refuse') return c.refuse(res, accepted, '', undefined, remote);
  const { nonce, digest } = accepted;
  try {
    if (c.secret && !(await c.store.claimNonce(nonce, NONCE_TTL_MS))) return c.refuse(res, REPLAY_REFUSAL, nonce, undefined, remote);
    const d = decideDispatch(endpoint, get, body, c.connectPorts);
    if (d.kind === 'refuse') return c.refuse(res, d, nonce);
    const abort = new AbortController();
    c.waiting.add(abort);
    res.on('close', () => { c.waiting.delete(abort); abort.abort(); });
    await runEndpoint(c, res, d, { body, digest, nonce }, abort.signal);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    // (an up chunk's slab is left to the GC: the store may have given it back already)
    return c.refuse(res, refusal('store', 503, err.message), nonce);
  }
}

/** The one place a refusal is counted and logged, by its code (docs/relay.md, "Logs"). */
export function noteRefusal(counters: RelayCounters, log: Logger, r: Refusal, session?: string, remote?: string): void {
  switch (r.code) {
    case 'auth': case 'skew': counters.authRefused++; log.warn({ event: 'relay-auth-refused', reason: r.detail ?? r.code, remote }, 'relay message refused'); break;
    case 'replay': counters.replays++; log.warn({ event: 'relay-replay', remote }, 'replayed relay message refused'); break;
    case 'checksum': counters.corrupt++; log.info({ event: 'relay-checksum-mismatch' }, 'chunk digest mismatch; client will resend'); break;
    case 'port': log.info({ event: 'relay-connect-refused', reason: r.reason }, 'CONNECT port not allowed'); break;
    case 'conflict': counters.conflicts++; log.warn({ event: 'relay-conflict', session, reason: r.reason }, 'session or chunk re-sent with different bytes'); break;
    case 'target': counters.sessionsFailed++; break;
    default: break;
  }
}
