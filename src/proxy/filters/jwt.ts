/**
 * @module JWT injection (SPEC: JWT; RELIABILITY J1, J5, J6): an upstreamRequestFilter that removes every incoming
 * field of the configured name and adds exactly one freshly signed token. Claims come from http/jwt-claims.ts;
 * signing is jose's. Key loading and validation live in jwt-config.ts.
 */
import { randomUUID, webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import { createJwtClaims, type JwtAlgorithm } from '../../http/jwt-claims.ts';
import { withoutHeaders } from '../../http/headers.ts';
import type { JwtOptions } from '../options.ts';
import type { ProxyFilter, RequestHead } from '../phases.ts';

export interface JwtSignerDeps {
  /** Wall clock in ms; injected so tests can stand at the UTC day boundary. */
  now?: () => number;
  /** UUID v4 source. */
  uuid?: () => string;
}

export interface JwtSigner {
  readonly alg: JwtAlgorithm;
  /** A fresh token: new jti, iat and date on every call. */
  sign(): Promise<string>;
}

const HASH_OF: Readonly<Record<JwtAlgorithm, string>> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

/**
 * The key is imported once as a non-extractable CryptoKey: jose would otherwise import raw bytes on every call, and
 * the secret bytes need not stay reachable from the signer. RFC 8725 §3.1–3.2: the algorithm is fixed by
 * configuration (HS256/384/512 only), never `none`.
 */
export async function createJwtSigner(options: JwtOptions, deps: JwtSignerDeps = {}): Promise<JwtSigner> {
  const alg = options.alg;
  if (!(alg in HASH_OF)) throw new TypeError(`unsupported JWT algorithm ${String(alg)}`);
  const key = await webcrypto.subtle.importKey('raw', options.secret, { name: 'HMAC', hash: HASH_OF[alg] }, false, ['sign']);
  const now = deps.now ?? Date.now;
  const uuid = deps.uuid ?? randomUUID;
  const header = { alg, typ: 'JWT' } as const;
  return {
    alg,
    sign() {
      const claims = createJwtClaims({ nowMs: now(), uuid: uuid(), user: options.user, extra: options.extraClaims });
      return new SignJWT(claims).setProtectedHeader(header).sign(key);
    },
  };
}

/** Replace every field named `name` (any case, repeated, empty: names are lowercase in a HeaderList) with one token. */
export function setJwtHeader(head: RequestHead, name: string, token: string): RequestHead {
  return { ...head, headers: [...withoutHeaders(head.headers, [name]), [name, token]] };
}

export async function createJwtFilter(options: JwtOptions, deps: JwtSignerDeps = {}): Promise<ProxyFilter> {
  const signer = await createJwtSigner(options, deps);
  const name = options.header.toLowerCase();
  return {
    name: 'jwt',
    // RELIABILITY J6: runs for every head sent upstream, so each request (and each retry) gets its own token.
    async upstreamRequestFilter(head) {
      return setJwtHeader(head, name, await signer.sign());
    },
  };
}
