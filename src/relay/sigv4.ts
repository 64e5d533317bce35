/**
 * @module AWS SigV4 signing of relay messages for gateways that check it (API Gateway IAM auth), via
 * aws4, and the standard credential chain: environment, then the shared credentials file and profile.
 *
 * Every message is signed with its own payload hash (`x-amz-content-sha256`), never
 * `UNSIGNED-PAYLOAD` (RELIABILITY L4). SigV4 has no nonce: replays inside its 5-minute window are made
 * harmless by the relay's own HMAC nonce and by chunk idempotency.
 */
import aws4 from 'aws4';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FerryError } from '../errors.ts';

export interface AwsCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

export interface SigV4Request {
  method: string;
  url: URL;
  /** Lowercase names; `host` is added from the URL. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body, sent and signed as `x-amz-content-sha256`; when absent, aws4 hashes `body`. */
  payloadHash?: string;
  body?: Buffer | string;
  region: string;
  service: string;
  /** `YYYYMMDDTHHMMSSZ`; from `nowMs` when absent. */
  amzDate?: string;
}

export function formatAmzDate(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/[:-]|\.\d{3}/g, '');
}

/** Headers to add to the request: Authorization, X-Amz-Date, X-Amz-Content-Sha256 and the session token. */
export function signSigV4(req: SigV4Request, creds: AwsCredentials, nowMs: number): Record<string, string> {
  const amzDate = req.amzDate ?? formatAmzDate(nowMs);
  const headers: Record<string, string> = {
    ...req.headers,
    host: req.url.host,
    'x-amz-date': amzDate,
    ...(req.payloadHash === undefined ? {} : { 'x-amz-content-sha256': req.payloadHash }),
    ...(creds.sessionToken === undefined ? {} : { 'x-amz-security-token': creds.sessionToken }),
  };
  const signer = new aws4.RequestSigner({
    method: req.method,
    host: req.url.host,
    path: `${req.url.pathname}${req.url.search}`,
    service: req.service,
    region: req.region,
    headers,
    ...(req.body === undefined ? {} : { body: req.body }),
    doNotModifyHeaders: true,
  }, creds);
  // The signer reads the clock itself unless told the time; the x-amz-date header must match it.
  (signer as unknown as { datetime: string }).datetime = amzDate;
  const signed = signer.sign();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers ?? {})) {
    const name = k.toLowerCase();
    if (name === 'authorization' || name.startsWith('x-amz-')) out[name] = String(v);
  }
  return out;
}

/** Minimal INI reading of ~/.aws/credentials: `[profile]` sections of `key = value`. */
export function parseCredentialsFile(text: string, profile: string): AwsCredentials | undefined {
  let section = '';
  const values: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (sec) { section = sec[1]!; continue; }
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (kv && section === profile) values[kv[1]!.toLowerCase()] = kv[2]!.trim();
  }
  const id = values.aws_access_key_id;
  const secret = values.aws_secret_access_key;
  if (!id || !secret) return undefined;
  return values.aws_session_token ? { accessKeyId: id, secretAccessKey: secret, sessionToken: values.aws_session_token } : { accessKeyId: id, secretAccessKey: secret };
}

/** Where a signer gets the credentials to use now (they may have been refreshed since the last call). */
export type CredentialSource = () => Promise<AwsCredentials>;

/** How long credentials without an expiry (static keys from the environment or the INI file) are reused. */
export const STATIC_CREDENTIALS_REFRESH_MS = 5 * 60_000;

/**
 * `--sigv4` credentials from the AWS SDK's default chain (environment, SSO, the shared files with profiles and
 * `credential_process`, web identity, ECS and EC2 roles), loaded only here, so only under `--sigv4`. Temporary
 * credentials carry an `expiration`; the SDK's memoised provider fetches new ones before it (5 min ahead). Static keys
 * have none, so the SDK would keep them for ever: they are re-read every `staticRefreshMs`, so a rotated key in the
 * credentials file is picked up without a restart. The first resolution happens here, so a missing credential is a
 * start-up error, not a failure on the first request.
 */
export async function awsCredentialSource(env: NodeJS.ProcessEnv, staticRefreshMs = STATIC_CREDENTIALS_REFRESH_MS, now: () => number = () => performance.now()): Promise<CredentialSource> {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const profile = env.AWS_PROFILE;
  // ignoreCache: the SDK otherwise caches the parsed shared files for the life of the process
  const provider = fromNodeProviderChain({ ignoreCache: true, ...(profile ? { profile } : {}) });
  let staticAt = 0;
  let last: AwsCredentials & { expiration?: Date } | undefined;
  const resolve = async (): Promise<AwsCredentials> => {
    const forceRefresh = last !== undefined && last.expiration === undefined && now() - staticAt >= staticRefreshMs;
    const c = await provider(forceRefresh ? { forceRefresh: true } : {});
    if (c.expiration === undefined && (forceRefresh || last === undefined)) staticAt = now();
    last = c;
    return c.sessionToken ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken } : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  };
  try {
    await resolve();
  } catch (err) {
    throw new FerryError('FERRY_ERR_AWS_CREDENTIALS', `--sigv4: no AWS credentials from the default chain (environment, ${env.AWS_SHARED_CREDENTIALS_FILE ?? '~/.aws/credentials'}, SSO, roles): ${(err as Error).message.split('\n')[0]}`, { source: 'config' });
  }
  return resolve;
}

/** Environment first (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN), then the shared file. */
export function loadAwsCredentials(env: NodeJS.ProcessEnv): AwsCredentials {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (id && secret) return env.AWS_SESSION_TOKEN ? { accessKeyId: id, secretAccessKey: secret, sessionToken: env.AWS_SESSION_TOKEN } : { accessKeyId: id, secretAccessKey: secret };
  const file = env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials');
  const profile = env.AWS_PROFILE ?? 'default';
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch {
    throw new FerryError('FERRY_ERR_AWS_CREDENTIALS', `--sigv4: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or create ${file})`, { source: 'config' });
  }
  const creds = parseCredentialsFile(text, profile);
  if (!creds) throw new FerryError('FERRY_ERR_AWS_CREDENTIALS', `--sigv4: profile "${profile}" in ${file} has no aws_access_key_id/aws_secret_access_key`, { source: 'config' });
  return creds;
}
