/**
 * @module Turns the JWT flags into JwtOptions once, at startup (RELIABILITY J2, J3). Reads the secret file or
 * FERRY_JWT_SECRET (HS*), or checks the private key file against --jwt-alg (RS256, PS256, ES256, EdDSA); every
 * problem is a UsageError (exit 2) whose message never contains the secret or the key.
 */
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../../errors.ts';
import { isToken } from '../../http/grammar.ts';
import { checkSecretLength, conflictingClaims, isAsymmetricAlgorithm, isHmacAlgorithm, JWT_ALGORITHMS, parseExtraClaims, secretFromFileBytes, ttlSecondsFromMs, type JwtAlgorithm, type StandardClaimOptions } from '../../http/jwt-claims.ts';
import type { Logger } from '../../server/logger.ts';
import { DEFAULT_JWT_HEADER, DEFAULT_JWT_ROTATION_GRACE_MS, DEFAULT_JWT_USER, type JwtOptions } from '../options.ts';
import { algorithmsForKey, checkKeyForAlgorithm, describeKey, describeKeyObject, parsePrivateKeyPem } from './jwt-key.ts';
import { readKeyFile, warnLooseKeyFile } from './jwt-key-source.ts';

export const JWT_SECRET_ENV = 'FERRY_JWT_SECRET';
/** Fields ferry strips or manages itself; a JWT there would be removed or would break the exchange. */
const FORBIDDEN_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'host', 'content-length', 'via', 'range']);

export interface JwtFlags {
  jwtSecretFile?: string;
  jwtHeader?: string;
  jwtAlg?: string;
  jwtUser?: string;
  jwtClaims?: string;
  jwtKeyFile?: string;
  /** ms */
  jwtTtl?: number;
  jwtIssuer?: string;
  jwtAudience?: string[];
  /** ms */
  jwtRotationGrace?: number;
}

const DEFAULT_ALG = 'HS512';

/** null when neither a secret nor a key file is configured (JWT off). */
export function resolveJwtOptions(flags: JwtFlags, env: NodeJS.ProcessEnv, log?: Logger): JwtOptions | null {
  const given = flags.jwtAlg;
  if (given !== undefined && !(JWT_ALGORITHMS as readonly string[]).includes(given)) throw new UsageError(`--jwt-alg: "${given}" is not one of ${JWT_ALGORITHMS.join(', ')}`);
  const keyFile = flags.jwtKeyFile;
  if (keyFile !== undefined && flags.jwtSecretFile !== undefined) {
    throw new UsageError('give --jwt-secret-file (a shared secret, HS256/HS384/HS512) or --jwt-key-file (a private key, RS256/PS256/ES256/EdDSA), not both');
  }
  const keyPart = keyFile !== undefined ? checkKeyFile(keyFile, given, env, log) : null;
  let secretPart: { secret: Uint8Array; alg: JwtAlgorithm } | null = null;
  if (keyPart === null) {
    const secret = readSecret(flags.jwtSecretFile, env, log);
    if (secret === null) {
      if (given !== undefined && isAsymmetricAlgorithm(given)) throw new UsageError(`--jwt-alg ${given} signs with a private key: give it with --jwt-key-file FILE (PEM)`);
      return null;
    }
    const alg = (given ?? DEFAULT_ALG) as JwtAlgorithm;
    if (!isHmacAlgorithm(alg)) {
      throw new UsageError(`--jwt-alg ${alg} signs with a private key (--jwt-key-file), but a symmetric secret was given (${flags.jwtSecretFile !== undefined ? '--jwt-secret-file' : JWT_SECRET_ENV}); a secret signs HS256, HS384 or HS512`);
    }
    const check = checkSecretLength(secret, alg);
    if (!check.ok) throw new UsageError(check.reason);
    secretPart = { secret, alg };
  }
  const header = (flags.jwtHeader ?? DEFAULT_JWT_HEADER).toLowerCase();
  if (!isToken(header)) throw new UsageError(`--jwt-header: "${header}" is not a valid header field name`);
  if (FORBIDDEN_HEADERS.has(header)) throw new UsageError(`--jwt-header: "${header}" is managed by ferry and cannot carry the JWT`);
  const extraClaims = readClaims(flags.jwtClaims);
  const standard = readStandardClaims(flags);
  const conflicts = conflictingClaims(extraClaims, standard);
  if (conflicts.length > 0) throw new UsageError(`--jwt-claims ${flags.jwtClaims}: ${conflicts.join(', ')} also set by --jwt-ttl/--jwt-issuer/--jwt-audience; give each claim once`);
  return {
    ...(secretPart ?? keyPart!),
    header,
    user: flags.jwtUser ?? DEFAULT_JWT_USER,
    extraClaims,
    ...standard,
    rotationGraceMs: flags.jwtRotationGrace ?? DEFAULT_JWT_ROTATION_GRACE_MS,
  };
}

/** The key file must hold a PEM private key of --jwt-alg's type; read again by the filter (and on every rotation). */
function checkKeyFile(file: string, given: string | undefined, env: NodeJS.ProcessEnv, log?: Logger): { keyFile: string; alg: JwtAlgorithm } {
  const fromEnv = env[JWT_SECRET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    throw new UsageError(`${JWT_SECRET_ENV} (a shared secret, HS256/HS384/HS512) and --jwt-key-file (a private key) are both set; give one`);
  }
  const read = readKeyFile(file);
  if (!read.ok) throw new UsageError(`--jwt-key-file: ${read.reason}`);
  if (read.value.looseMode !== undefined && log) warnLooseKeyFile(log, file, read.value.looseMode);
  const parsed = parsePrivateKeyPem(read.value.bytes);
  if (!parsed.ok) throw new UsageError(`--jwt-key-file ${file} ${parsed.reason}`);
  const desc = describeKeyObject(parsed.value);
  const fits = algorithmsForKey(desc);
  if (given === undefined) {
    throw new UsageError(`--jwt-key-file needs --jwt-alg${fits.length > 0 ? ` (${describeKey(desc)} signs ${fits.join(' or ')})` : ' RS256, PS256, ES256 or EdDSA'}`);
  }
  if (!isAsymmetricAlgorithm(given)) {
    throw new UsageError(`--jwt-alg ${given} signs with a shared secret (--jwt-secret-file), but --jwt-key-file holds ${describeKey(desc)}; use --jwt-alg ${fits.length > 0 ? fits.join(' or ') : 'RS256, PS256, ES256 or EdDSA'} with it`);
  }
  const fit = checkKeyForAlgorithm(given, desc);
  if (!fit.ok) throw new UsageError(fit.reason);
  return { keyFile: file, alg: given };
}

function readStandardClaims(flags: JwtFlags): StandardClaimOptions {
  const out: StandardClaimOptions = {};
  if (flags.jwtTtl !== undefined) {
    const ttl = ttlSecondsFromMs(flags.jwtTtl);
    if (ttl === null) throw new UsageError('--jwt-ttl: a token must live at least 1s');
    out.ttlSeconds = ttl;
  }
  if (flags.jwtIssuer !== undefined) {
    if (flags.jwtIssuer === '') throw new UsageError('--jwt-issuer: expects a value');
    out.issuer = flags.jwtIssuer;
  }
  if (flags.jwtAudience !== undefined) {
    if (flags.jwtAudience.length === 0) throw new UsageError('--jwt-audience: expects one or more comma-separated values');
    out.audience = flags.jwtAudience.length === 1 ? flags.jwtAudience[0]! : flags.jwtAudience;
  }
  return out;
}

/** RELIABILITY J3: from a file (preferred) or the environment, never from argv. */
function readSecret(file: string | undefined, env: NodeJS.ProcessEnv, log?: Logger): Uint8Array | null {
  if (file !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
      const mode = statSync(file).mode;
      // Like OpenSSH with private keys, but a warning: containers often mount secrets 0644.
      if ((mode & 0o077) !== 0) log?.warn({ event: 'jwt-secret-permissions', file, mode: (mode & 0o777).toString(8) }, `JWT secret file ${file} is readable by group or others; chmod 600 it`);
    } catch (err) {
      throw new UsageError(`--jwt-secret-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const secret = secretFromFileBytes(bytes);
    if (secret.byteLength === 0) throw new UsageError(`--jwt-secret-file: ${file} is empty`);
    return secret;
  }
  const fromEnv = env[JWT_SECRET_ENV];
  if (fromEnv === undefined || fromEnv === '') return null;
  return new TextEncoder().encode(fromEnv);
}

function readClaims(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--jwt-claims: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const parsed = parseExtraClaims(text);
  if (!parsed.ok) throw new UsageError(`--jwt-claims ${file}: ${parsed.reason}`);
  return parsed.claims;
}
