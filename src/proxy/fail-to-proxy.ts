/**
 * @module The one place an error becomes what the client sees (after Pingora's fail_to_proxy): a short error reply
 * while no response head was sent, otherwise a cut connection, so that a truncated body can never look complete
 * (RFC 9112 §8: an incomplete message must not be passed on as complete). Pure.
 */
import { FerryError } from '../errors.ts';

export type FailureAction =
  | { kind: 'reply'; status: number; message: string; close: boolean }
  | { kind: 'cut' }
  /** The client is gone: nothing to say to anyone. */
  | { kind: 'none' };

/** Decide what to do with `err`, given whether the response head already went out. */
export function decideFailure(err: FerryError, headersSent: boolean): FailureAction {
  if (err.code === 'FERRY_ERR_CLIENT_GONE') return { kind: 'none' };
  if (headersSent) return { kind: 'cut' };
  const status = err.status ?? (err.source === 'downstream' ? 400 : err.source === 'upstream' ? 502 : 500);
  // A refused request body may still be arriving: close rather than read it (RFC 9112 §9.6, RELIABILITY R11).
  const close = err.source === 'downstream' || status === 413 || status === 400;
  return { kind: 'reply', status, message: publicMessage(err, status), close };
}

/** Never leak internals: upstream addresses and stack traces stay in the log. */
function publicMessage(err: FerryError, status: number): string {
  switch (err.code) {
    case 'FERRY_ERR_UPSTREAM_UNREACHABLE':
    case 'FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT':
      return 'Bad Gateway: upstream unreachable';
    case 'FERRY_ERR_UPSTREAM_TIMEOUT':
      return 'Gateway Timeout: upstream did not answer in time';
    case 'FERRY_ERR_UPSTREAM_BAD_RESPONSE':
      return 'Bad Gateway: invalid response from upstream';
    case 'FERRY_ERR_UPSTREAM_CLOSED':
      return 'Bad Gateway: upstream closed the connection';
    default:
      return status >= 500 && err.source === 'internal' ? 'Internal Server Error' : err.message;
  }
}

/** Wrap anything thrown by a filter or the runner (bugs included) as a FerryError. */
export function toFerryError(err: unknown): FerryError {
  if (err instanceof FerryError) return err;
  return new FerryError('FERRY_ERR_INTERNAL', err instanceof Error ? err.message : String(err), { source: 'internal', status: 500, cause: err });
}
