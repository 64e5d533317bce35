/** @module The one error type of ferry. Where an error came from decides what the client sees (see proxy/fail-to-proxy). */

export type ErrorSource = 'upstream' | 'downstream' | 'internal' | 'config';

export interface FerryErrorOptions {
  source: ErrorSource;
  status?: number;
  cause?: unknown;
}

export class FerryError extends Error {
  readonly code: string;
  readonly source: ErrorSource;
  readonly status: number | undefined;

  constructor(code: string, message: string, options: FerryErrorOptions) {
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
