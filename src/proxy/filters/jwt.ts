/**
 * @module JWT injection (SPEC: JWT; RELIABILITY J1, J5, J6; docs/features.md): an upstreamRequestFilter that removes
 * every incoming field of the configured name and adds exactly one freshly signed token. Claims come from
 * http/jwt-claims.ts; signing is jose's. HS256/384/512 sign with a secret; RS256/PS256/ES256/EdDSA with a private key
 * whose public half the JWKS filter publishes (kid = RFC 7638 thumbprint), rotated on reload or file change.
 */
import { randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { FerryError } from '../../errors.ts';
import { createJwtClaims, isAsymmetricAlgorithm, isHmacAlgorithm, type AsymmetricAlgorithm, type JwtAlgorithm, type StandardClaimOptions } from '../../http/jwt-claims.ts';
import { withoutHeaders } from '../../http/headers.ts';
import { createSilentLogger, type Logger } from '../../server/logger.ts';
import { DEFAULT_JWT_ROTATION_GRACE_MS, type JwtOptions } from '../options.ts';
import type { ProxyFilter, RequestHead } from '../phases.ts';
import { createJwksFilter } from './jwks-filter.ts';
import { readKeyFile, warnLooseKeyFile, watchKeyFile } from './jwt-key-source.ts';
import { loadSigningKey, type SigningKey } from './jwt-signing-key.ts';
import { createKeyRing, type KeyRing } from './jwt-keyring.ts';

export interface JwtSignerDeps {
  /** Wall clock in ms; injected so tests can stand at the UTC day boundary and past a rotation grace. */
  now?: () => number;
  /** UUID v4 source. */
  uuid?: () => string;
  /** Rotation and refused-key lines. */
  log?: Logger;
}

export type ReloadResult =
  | { kind: 'rotated'; kid: string; previousKid: string }
  | { kind: 'unchanged'; kid: string }
  | { kind: 'refused'; reason: string }
  /** HS* or a key given without a file: nothing to re-read. */
  | { kind: 'not-applicable' };

export interface JwtSigner {
  readonly alg: JwtAlgorithm;
  /** A fresh token: new jti, iat and date on every call. */
  sign(): Promise<string>;
  /** kid of the key signing now; undefined for HS* (their tokens keep the header {alg, typ}). */
  kid(): string | undefined;
  /** Public JWKs to publish now (none for HS*: a secret is never published). */
  publicKeys(): JWK[];
  /**
   * Re-read the key file; a broken key is refused and the current one kept. `ifChanged`: do nothing when the
   * bytes are those read last time (the watcher sees every change in the directory, not only this file's).
   */
  reload(ifChanged?: boolean): Promise<ReloadResult>;
}

const HASH_OF: Readonly<Record<string, string>> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

const configError = (msg: string) => new FerryError('FERRY_ERR_CONFIG', `invalid proxy option jwt: ${msg}`, { source: 'config' });

function standardClaims(options: JwtOptions): StandardClaimOptions {
  return {
    ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
  };
}

async function loadFromOptions(options: JwtOptions, alg: AsymmetricAlgorithm): Promise<{ key: SigningKey; bytes: Uint8Array | null }> {
  let pem: Uint8Array | string;
  if (options.keyFile !== undefined) {
    const read = readKeyFile(options.keyFile);
    if (!read.ok) throw configError(`keyFile: ${read.reason}`);
    pem = read.value.bytes;
  } else if (options.privateKey !== undefined) {
    pem = options.privateKey;
  } else {
    throw configError(`${alg} signs with a private key: give keyFile or privateKey (a secret is for HS256, HS384, HS512)`);
  }
  const key = await loadSigningKey(pem, alg);
  if (!key.ok) throw configError(`${options.keyFile ?? 'privateKey'} ${key.reason}`);
  return { key: key.value, bytes: typeof pem === 'string' ? null : pem };
}

/**
 * Keys are imported once as non-extractable CryptoKeys: jose would otherwise import them on every call. RFC 8725
 * §3.1–3.2: the algorithm is fixed by configuration, never `none`, and the key must be of its type.
 */
export async function createJwtSigner(options: JwtOptions, deps: JwtSignerDeps = {}): Promise<JwtSigner> {
  const alg = options.alg;
  const now = deps.now ?? Date.now;
  const uuid = deps.uuid ?? randomUUID;
  const log = deps.log ?? createSilentLogger();
  const std = standardClaims(options);
  const claims = () => createJwtClaims({ nowMs: now(), uuid: uuid(), user: options.user, extra: options.extraClaims, standard: std });
  if (isHmacAlgorithm(alg)) {
    if (options.secret === undefined) throw configError(`${alg} signs with a secret: give secret (a private key is for RS256, PS256, ES256, EdDSA)`);
    if (options.keyFile !== undefined || options.privateKey !== undefined) throw configError(`${alg} signs with a secret, not a private key: use RS256, PS256, ES256 or EdDSA with keyFile`);
    const key = await webcrypto.subtle.importKey('raw', options.secret, { name: 'HMAC', hash: HASH_OF[alg]! }, false, ['sign']);
    const header = { alg, typ: 'JWT' } as const;
    return {
      alg,
      sign: () => new SignJWT(claims()).setProtectedHeader(header).sign(key),
      kid: () => undefined,
      publicKeys: () => [],
      reload: async () => ({ kind: 'not-applicable' }),
    };
  }
  if (!isAsymmetricAlgorithm(alg)) throw new TypeError(`unsupported JWT algorithm ${String(alg)}`);
  if (options.secret !== undefined) throw configError(`${alg} signs with a private key, not a secret: give keyFile, or use HS256, HS384, HS512 with the secret`);
  const first = await loadFromOptions(options, alg);
  const ring: KeyRing<SigningKey> = createKeyRing(first.key, options.rotationGraceMs ?? DEFAULT_JWT_ROTATION_GRACE_MS);
  let header = { alg, typ: 'JWT', kid: ring.current().kid };
  /** The key file's bytes as last read, so that the watcher's events for other files cost no reload. */
  let lastBytes = first.bytes;
  return {
    alg,
    sign() {
      // the key and its header are read together, so a token is never signed by one key and labelled with another
      const key = ring.current();
      return new SignJWT(claims()).setProtectedHeader(header.kid === key.kid ? header : (header = { alg, typ: 'JWT', kid: key.kid })).sign(key.cryptoKey);
    },
    kid: () => ring.current().kid,
    publicKeys: () => ring.published(now()).map((k) => k.publicJwk),
    async reload(ifChanged = false) {
      const file = options.keyFile;
      if (file === undefined) return { kind: 'not-applicable' };
      const read = readKeyFile(file);
      if (read.ok) {
        if (ifChanged && lastBytes !== null && Buffer.from(lastBytes).equals(read.value.bytes)) return { kind: 'unchanged', kid: ring.current().kid };
        lastBytes = read.value.bytes;
      }
      const loaded = read.ok ? await loadSigningKey(read.value.bytes, alg) : read;
      if (!loaded.ok) {
        const reason = read.ok ? `${file} ${loaded.reason}` : loaded.reason;
        log.warn({ event: 'jwt-key-refused', file, reason, kid: ring.current().kid }, `new JWT key refused, still signing with the previous one: ${reason}`);
        return { kind: 'refused', reason };
      }
      if (read.ok && read.value.looseMode !== undefined) warnLooseKeyFile(log, file, read.value.looseMode);
      const previousKid = ring.current().kid;
      if (!ring.rotate(loaded.value, now())) return { kind: 'unchanged', kid: previousKid };
      log.info({ event: 'jwt-key-rotated', file, kid: loaded.value.kid, previousKid, graceMs: options.rotationGraceMs ?? DEFAULT_JWT_ROTATION_GRACE_MS }, 'JWT signing key rotated');
      return { kind: 'rotated', kid: loaded.value.kid, previousKid };
    },
  };
}

/** Replace every field named `name` (any case, repeated, empty: names are lowercase in a HeaderList) with one token. */
export function setJwtHeader(head: RequestHead, name: string, token: string): RequestHead {
  return { ...head, headers: [...withoutHeaders(head.headers, [name]), [name, token]] };
}

export type JwtSigningFilter = ProxyFilter & { reload(ifChanged?: boolean): Promise<ReloadResult>; close(): void; readonly signer: JwtSigner };

export async function createJwtFilter(options: JwtOptions, deps: JwtSignerDeps = {}): Promise<JwtSigningFilter> {
  const signer = await createJwtSigner(options, deps);
  const name = options.header.toLowerCase();
  let reloading: Promise<ReloadResult> | null = null;
  // one reload at a time; a change during a reload is picked up by one more
  let again = false;
  const reload = (ifChanged = false): Promise<ReloadResult> => {
    if (reloading) { again = true; return reloading; }
    reloading = signer.reload(ifChanged).finally(() => {
      reloading = null;
      if (again) { again = false; void reload(true); }
    });
    return reloading;
  };
  const stopWatching = options.keyFile !== undefined && options.watchKeyFile !== false && !isHmacAlgorithm(options.alg)
    ? watchKeyFile(options.keyFile, () => { void reload(true); })
    : () => {};
  const kid = signer.kid();
  if (kid !== undefined) deps.log?.info({ event: 'jwt-key', alg: signer.alg, kid, file: options.keyFile }, `signing JWTs with ${signer.alg} key ${kid}`);
  return {
    name: 'jwt',
    signer,
    // RELIABILITY J6: runs for every head sent upstream, so each request (and each retry) gets its own token.
    async upstreamRequestFilter(head) {
      return setJwtHeader(head, name, await signer.sign());
    },
    reload,
    close: stopWatching,
  };
}

/** The signing filter and, for the asymmetric algorithms, the JWKS route that publishes its public keys. */
export async function createJwtFilters(options: JwtOptions, deps: JwtSignerDeps = {}): Promise<{ sign: JwtSigningFilter; jwks: ProxyFilter }> {
  const sign = await createJwtFilter(options, deps);
  const jwks = isHmacAlgorithm(options.alg)
    ? { name: 'jwks' } // no route: HS* has no public key, and the path stays the upstream's
    : createJwksFilter({ publicKeys: () => sign.signer.publicKeys(), graceMs: options.rotationGraceMs ?? DEFAULT_JWT_ROTATION_GRACE_MS });
  return { sign, jwks };
}
