/**
 * @module Flags → relay options, checked once: the secret (from --secret-file or env FERRY_RELAY_SECRET,
 * never argv, never logged), the store, SigV4 settings, sizes and windows.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import type { FlagValues } from '../cli/flags.ts';
import { MIN_MAX_MESSAGE } from './protocol.ts';

export const SECRET_ENV = 'FERRY_RELAY_SECRET';
export const MIN_SECRET_BYTES = 16;
/** API Gateway integrations end at 29-30 s: a long poll must return well before (RELIABILITY L10). */
export const MAX_POLL_TIMEOUT_MS = 25_000;

/** The shared secret, or undefined when none is configured. Bad files and short secrets are usage errors. */
export function loadRelaySecret(flags: FlagValues, env: NodeJS.ProcessEnv): Buffer | undefined {
  const file = flags.secretFile as string | undefined;
  let text: string | undefined;
  if (file !== undefined) {
    try { text = readFileSync(file, 'utf8'); } catch (err) {
      throw new UsageError(`--secret-file ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else if (env[SECRET_ENV] !== undefined) {
    text = env[SECRET_ENV];
  }
  if (text === undefined) return undefined;
  const secret = Buffer.from(text.replace(/\r?\n$/, ''), 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new UsageError(`the relay secret must be at least ${MIN_SECRET_BYTES} bytes (from ${file !== undefined ? '--secret-file' : SECRET_ENV})`);
  }
  return secret;
}

export interface CommonRelayOptions { maxMessage: number; sessionTtlMs: number; pollTimeoutMs: number; window: number; sessionMemory: number; statsPath: string }

export function resolveCommonRelayFlags(flags: FlagValues): CommonRelayOptions {
  const maxMessage = flags.maxMessage as number;
  if (maxMessage < MIN_MAX_MESSAGE) throw new UsageError(`--max-message must be at least ${MIN_MAX_MESSAGE / 1024}KiB (room for the relay's own head)`);
  const pollTimeoutMs = flags.pollTimeout as number;
  if (pollTimeoutMs < 100 || pollTimeoutMs > MAX_POLL_TIMEOUT_MS) throw new UsageError('--poll-timeout must be between 100ms and 25s (gateways cut requests at 29-30 s)');
  const sessionTtlMs = flags.sessionTtl as number;
  if (sessionTtlMs < 1000) throw new UsageError('--session-ttl must be at least 1s');
  const window = flags.window as number;
  if (window < 1 || window > 64) throw new UsageError('--window must be between 1 and 64');
  const sessionMemory = flags.sessionMemory as number;
  // Below two windows of full messages the window simply stays at --window (window-controller.ts maxWindow).
  if (!(sessionMemory >= MIN_MAX_MESSAGE)) throw new UsageError(`--session-memory must be at least ${MIN_MAX_MESSAGE / 1024}KiB`);
  return { maxMessage, sessionTtlMs, pollTimeoutMs, window, sessionMemory, statsPath: flags.statsPath as string };
}
