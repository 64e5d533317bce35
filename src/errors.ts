/** @module The one error type of ferry. Where an error came from decides what the client sees (see proxy/fail-to-proxy). */

export type ErrorSource = 'upstream' | 'downstream' | 'internal' | 'config';

/**
 * Every error code ferry raises: a closed set, so that the one mapping from code to status, public message and log
 * line (proxy/fail-to-proxy.ts, table-tested in test/proxy/fail-to-proxy.test.ts) cannot miss one. A new code is
 * added here and in that table.
 */
export const FERRY_ERROR_CODES = [
  // the client, or what it asked for
  'FERRY_ERR_CLIENT_GONE', 'FERRY_ERR_FRAMING', 'FERRY_ERR_BODY_TOO_LARGE', 'FERRY_ERR_NO_ROUTE',
  'FERRY_ERR_FORWARD_DENIED', 'FERRY_ERR_DESTINATION_DENIED',
  // the upstream (origin, upstream proxy, CONNECT target)
  'FERRY_ERR_UPSTREAM', 'FERRY_ERR_UPSTREAM_UNREACHABLE', 'FERRY_ERR_UPSTREAM_DNS', 'FERRY_ERR_UPSTREAM_CONNECT',
  'FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT', 'FERRY_ERR_UPSTREAM_TIMEOUT', 'FERRY_ERR_UPSTREAM_BODY_TIMEOUT',
  'FERRY_ERR_UPSTREAM_BAD_RESPONSE', 'FERRY_ERR_UPSTREAM_CLOSED', 'FERRY_ERR_UPSTREAM_BODY', 'FERRY_ERR_UPSTREAM_PROXY',
  'FERRY_ERR_TOO_MANY_ORIGINS', 'FERRY_ERR_UPGRADE', 'FERRY_ERR_UPSTREAM_TLS',
  // the relay (src/relay)
  'FERRY_ERR_RELAY', 'FERRY_ERR_RELAY_TARGET', 'FERRY_ERR_RELAY_CLOCK', 'FERRY_ERR_RELAY_EXPIRED', 'FERRY_ERR_RELAY_HEAD',
  'FERRY_ERR_RELAY_BAD_HEAD',
  'FERRY_ERR_AWS_CREDENTIALS',
  // ferry itself
  'FERRY_ERR_INTERNAL', 'FERRY_ERR_BODY_REUSED', 'FERRY_ERR_CONFIG', 'FERRY_ERR_LISTEN',
] as const;

export type FerryErrorCode = (typeof FERRY_ERROR_CODES)[number];

export interface FerryErrorOptions {
  source: ErrorSource;
  status?: number;
  cause?: unknown;
}

export class FerryError extends Error {
  readonly code: FerryErrorCode;
  readonly source: ErrorSource;
  readonly status: number | undefined;

  constructor(code: FerryErrorCode, message: string, options: FerryErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FerryError';
    this.code = code;
    this.source = options.source;
    this.status = options.status;
  }
}

/** A bad flag, config value or file: the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
