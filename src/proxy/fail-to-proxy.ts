/**
 * @module The one place an error becomes what the client sees and what the log says (after Pingora's fail_to_proxy
 * and Caddy's error handling): a short error reply while no response head was sent, otherwise a cut connection, so
 * that a truncated body can never look complete (RFC 9112 §8: an incomplete message must not be passed on as
 * complete). Every entry point (requests, upgrades, CONNECT) uses it. Pure; table-tested in
 * test/proxy/fail-to-proxy.test.ts.
 */
import { FerryError, type FerryErrorCode } from '../errors.ts';

export type FailureAction =
  | { kind: 'reply'; status: number; message: string; close: boolean }
  | { kind: 'cut' }
  /** The client is gone: nothing to say to anyone. */
  | { kind: 'none' };

/** The log line an error earns beside the access line (which carries every error's code anyway), or none. */
export interface FailureLog {
  level: 'error' | 'warn' | 'info';
  event: string;
}

export interface FailureRule {
  /** Status when the error carries none (FerryError.status wins: framing errors are 400, 413, 431 or 501). */
  status: number;
  /** What the client reads; null: the error's own message (written for the client: downstream errors). */
  message: string | null;
  /**
   * Close the client connection after the reply: a refused request body may still be arriving, and must not be
   * parsed as the next request (RFC 9112 §9.6, RELIABILITY R11, S13).
   */
  close: boolean;
  log: FailureLog | null;
}

const UNREACHABLE = 'Bad Gateway: upstream unreachable';
const CLIENT_ERROR: FailureLog = { level: 'info', event: 'client-error' };
const INTERNAL_ERROR: FailureLog = { level: 'error', event: 'internal-error' };

/** THE TABLE: every FerryErrorCode (the compiler checks none is missing). */
export const FAILURE_RULES: Readonly<Record<FerryErrorCode, FailureRule>> = {
  FERRY_ERR_CLIENT_GONE: { status: 499, message: null, close: true, log: null },
  FERRY_ERR_FRAMING: { status: 400, message: null, close: true, log: CLIENT_ERROR },
  FERRY_ERR_BODY_TOO_LARGE: { status: 413, message: null, close: true, log: null },
  FERRY_ERR_NO_ROUTE: { status: 404, message: null, close: true, log: null },
  FERRY_ERR_FORWARD_DENIED: { status: 403, message: null, close: true, log: null },
  FERRY_ERR_DESTINATION_DENIED: { status: 403, message: null, close: true, log: null },
  FERRY_ERR_UPSTREAM: { status: 502, message: null, close: false, log: null },
  FERRY_ERR_UPSTREAM_UNREACHABLE: { status: 502, message: UNREACHABLE, close: false, log: null },
  FERRY_ERR_UPSTREAM_DNS: { status: 502, message: null, close: false, log: null },
  FERRY_ERR_UPSTREAM_CONNECT: { status: 502, message: null, close: false, log: null },
  FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT: { status: 502, message: UNREACHABLE, close: false, log: null },
  FERRY_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'Gateway Timeout: upstream did not answer in time', close: false, log: null },
  FERRY_ERR_UPSTREAM_BODY_TIMEOUT: { status: 504, message: null, close: false, log: null },
  FERRY_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, message: 'Bad Gateway: invalid response from upstream', close: false, log: null },
  FERRY_ERR_UPSTREAM_CLOSED: { status: 502, message: 'Bad Gateway: upstream closed the connection', close: false, log: null },
  FERRY_ERR_UPSTREAM_BODY: { status: 502, message: null, close: false, log: null },
  FERRY_ERR_UPSTREAM_PROXY: { status: 502, message: null, close: false, log: null },
  // the upstream's certificate was refused (expired, unknown CA, name mismatch): the log line says which; the client
  // learns no more than nginx's 502 tells it
  FERRY_ERR_UPSTREAM_TLS: { status: 502, message: 'Bad Gateway: upstream TLS failed', close: false, log: { level: 'warn', event: 'upstream-tls-error' } },
  FERRY_ERR_TOO_MANY_ORIGINS: { status: 503, message: null, close: false, log: null },
  FERRY_ERR_UPGRADE: { status: 502, message: null, close: false, log: { level: 'warn', event: 'upgrade-error' } },
  FERRY_ERR_RELAY: { status: 502, message: null, close: false, log: null },
  FERRY_ERR_RELAY_TARGET: { status: 502, message: null, close: false, log: null },
  FERRY_ERR_RELAY_CLOCK: { status: 502, message: null, close: false, log: null },
  FERRY_ERR_RELAY_EXPIRED: { status: 410, message: null, close: false, log: null },
  FERRY_ERR_RELAY_HEAD: { status: 502, message: null, close: false, log: null },
  FERRY_ERR_RELAY_BAD_HEAD: { status: 502, message: null, close: false, log: null },
  FERRY_ERR_AWS_CREDENTIALS: { status: 500, message: 'Internal Server Error', close: false, log: INTERNAL_ERROR },
  FERRY_ERR_INTERNAL: { status: 500, message: 'Internal Server Error', close: false, log: INTERNAL_ERROR },
  FERRY_ERR_BODY_REUSED: { status: 500, message: 'Internal Server Error', close: false, log: INTERNAL_ERROR },
  FERRY_ERR_CONFIG: { status: 500, message: 'Internal Server Error', close: false, log: INTERNAL_ERROR },
  FERRY_ERR_LISTEN: { status: 500, message: 'Internal Server Error', close: false, log: INTERNAL_ERROR },
};

/** Decide what to do with `err`, given whether the response head already went out. */
export function decideFailure(err: FerryError, headersSent: boolean): FailureAction {
  if (err.code === 'FERRY_ERR_CLIENT_GONE') return { kind: 'none' };
  if (headersSent) return { kind: 'cut' };
  const rule = FAILURE_RULES[err.code];
  const status = err.status ?? rule.status;
  // A status the error chose itself (a 413 or 400 from a check) closes like the table's refusals do (R11).
  const close = rule.close || status === 413 || status === 400;
  return { kind: 'reply', status, message: publicMessage(err, rule, status), close };
}

/** Never leak internals: upstream addresses and stack traces stay in the log. */
function publicMessage(err: FerryError, rule: FailureRule, status: number): string {
  if (rule.message !== null) return rule.message;
  return status >= 500 && err.source === 'internal' ? 'Internal Server Error' : err.message;
}

/** The log line `err` earns (beside the access line), or null. */
export function failureLog(err: FerryError): FailureLog | null {
  return FAILURE_RULES[err.code].log;
}

/** Wrap anything thrown by a filter or the runner (bugs included) as a FerryError. */
export function toFerryError(err: unknown): FerryError {
  if (err instanceof FerryError) return err;
  return new FerryError('FERRY_ERR_INTERNAL', err instanceof Error ? err.message : String(err), { source: 'internal', status: 500, cause: err });
}
