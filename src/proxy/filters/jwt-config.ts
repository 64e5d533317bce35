/**
 * @module Turns the JWT flags into JwtOptions once, at startup (RELIABILITY J2, J3). Reads the secret file or
 * FERRY_JWT_SECRET; every problem is a UsageError (exit 2) whose message never contains the secret.
 */
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../../errors.ts';
import { checkSecretLength, JWT_ALGORITHMS, parseExtraClaims, secretFromFileBytes, type JwtAlgorithm } from '../../http/jwt-claims.ts';
import type { Logger } from '../../server/logger.ts';
import { DEFAULT_JWT_HEADER, DEFAULT_JWT_USER, type JwtOptions } from '../options.ts';

export const JWT_SECRET_ENV = 'FERRY_JWT_SECRET';
/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Fields ferry strips or manages itself; a JWT there would be removed or would break the exchange. */
const FORBIDDEN_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'host', 'content-length', 'via', 'range']);

export interface JwtFlags {
  jwtSecretFile?: string;
  jwtHeader?: string;
  jwtAlg?: string;
  jwtUser?: string;
  jwtClaims?: string;
}

/** null when no secret is configured (JWT off). */
export function resolveJwtOptions(flags: JwtFlags, env: NodeJS.ProcessEnv, log?: Logger): JwtOptions | null {
  const secret = readSecret(flags.jwtSecretFile, env, log);
  if (secret === null) return null;
  const alg = (flags.jwtAlg ?? 'HS512') as JwtAlgorithm;
  if (!JWT_ALGORITHMS.includes(alg)) throw new UsageError(`--jwt-alg: "${alg}" is not one of ${JWT_ALGORITHMS.join(', ')}`);
  const check = checkSecretLength(secret, alg);
  if (!check.ok) throw new UsageError(check.reason);
  const header = (flags.jwtHeader ?? DEFAULT_JWT_HEADER).toLowerCase();
  if (!TOKEN.test(header)) throw new UsageError(`--jwt-header: "${header}" is not a valid header field name`);
  if (FORBIDDEN_HEADERS.has(header)) throw new UsageError(`--jwt-header: "${header}" is managed by ferry and cannot carry the JWT`);
  return { secret, alg, header, user: flags.jwtUser ?? DEFAULT_JWT_USER, extraClaims: readClaims(flags.jwtClaims) };
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
