/**
 * @module The JWKS endpoint (RFC 7517 §5; docs/features.md "JWKS"): GET/HEAD /.well-known/jwks.json is answered by
 * the proxy from the key ring — public keys only —, never forwarded, and not counted in the statistics (like
 * /stats). A route filter; put it before the stats filter.
 */
import { createHash } from 'node:crypto';
import type { JWK } from 'jose';
import { evaluatePreconditions } from '../../http/conditional.ts';
import { getJoinedHeader, type HeaderList } from '../../http/headers.ts';
import { markLocalEndpoint } from '../../stats/stats-filter.ts';
import { CONTINUE, type LocalReply, type PhaseResult, type ProxyFilter } from '../phases.ts';

export const JWKS_PATH = '/.well-known/jwks.json';
/** A verifier that only refreshes on expiry still sees a new key within this long. */
const MAX_AGE_CAP_S = 300;

/**
 * max-age = min(grace / 2, 5 min). A verifier caching the document by max-age alone then fetches it at least once
 * while a retired key is still listed, and never keeps a rotated-out key more than half a grace past its removal.
 * Verifiers such as jose's createRemoteJWKSet also refetch at once on an unknown kid.
 */
export function jwksMaxAgeSeconds(graceMs: number): number {
  return Math.max(0, Math.min(MAX_AGE_CAP_S, Math.floor(graceMs / 2000)));
}

export interface JwksSource {
  /** The public JWKs to publish now (current first). */
  publicKeys(): readonly JWK[];
  graceMs: number;
}

interface Doc { kids: string; body: string; etag: string }

function isJwksTarget(target: string): boolean {
  if (!target.startsWith('/')) return false; // absolute-form: a forward-proxy request for another host
  const q = target.indexOf('?');
  return (q < 0 ? target : target.slice(0, q)) === JWKS_PATH;
}

export function createJwksFilter(source: JwksSource): ProxyFilter {
  const cacheControl = `public, max-age=${jwksMaxAgeSeconds(source.graceMs)}`;
  let doc: Doc | null = null;
  const current = (): Doc => {
    const keys = source.publicKeys();
    const kids = keys.map((k) => k.kid).join(' ');
    if (doc?.kids !== kids) {
      const body = `${JSON.stringify({ keys })}\n`;
      // The document changes only with the set of keys: a strong tag from its bytes costs one hash per rotation.
      doc = { kids, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    }
    return doc;
  };
  return {
    name: 'jwks',
    route(ctx): PhaseResult {
      const { method, target, headers } = ctx.request;
      if (!isJwksTarget(target)) return CONTINUE;
      markLocalEndpoint(ctx);
      if (method !== 'GET' && method !== 'HEAD') {
        return { kind: 'respond', reply: { status: 405, headers: [['allow', 'GET, HEAD']], body: `${method} is not allowed here; use GET\n` } };
      }
      const d = current();
      const common: HeaderList = [['cache-control', cacheControl], ['etag', d.etag]];
      const ifNoneMatch = getJoinedHeader(headers, 'if-none-match');
      const pre = ifNoneMatch === undefined ? { kind: 'proceed' as const } : evaluatePreconditions(method, { ifNoneMatch }, { etag: { weak: false, opaque: d.etag.slice(1, -1) } });
      const reply: LocalReply = pre.kind === 'not-modified'
        ? { status: 304, headers: common }
        : { status: 200, headers: [['content-type', 'application/jwk-set+json'], ...common], body: d.body };
      return { kind: 'respond', reply };
    },
  };
}
