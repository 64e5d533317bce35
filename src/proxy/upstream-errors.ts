/** @module Turning whatever the upstream I/O threw into the one FerryError with a code that fail-to-proxy maps. */
import { FerryError } from '../errors.ts';
import { tlsFailureReason } from './upstream-tls.ts';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const CLOSED = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Classify an error raised while talking to the upstream. FerryErrors (e.g. 413 from the body meter) pass through. */
export function toUpstreamError(err: unknown): FerryError {
  if (err instanceof FerryError) return err;
  const e = err as NodeJS.ErrnoException & { cause?: unknown };
  // undici wraps socket errors: look one level down for the errno code
  const inner = (e?.cause ?? null) as NodeJS.ErrnoException | null;
  const code = (UNREACHABLE.has(inner?.code ?? '') ? inner?.code : e?.code) ?? 'UNKNOWN';
  const message = e?.message ?? String(err);
  if (UNREACHABLE.has(code)) {
    return new FerryError('FERRY_ERR_UPSTREAM_UNREACHABLE', `upstream unreachable: ${code}`, { source: 'upstream', status: 502, cause: err });
  }
  // a refused certificate (expired, unknown CA, name mismatch) or handshake: the 502's log line says which
  const tlsCode = tlsFailureReason(e?.code ?? '') !== null ? e!.code! : inner?.code ?? '';
  const tlsReason = tlsFailureReason(tlsCode);
  if (tlsReason !== null) {
    return new FerryError('FERRY_ERR_UPSTREAM_TLS', `upstream TLS failed: ${tlsReason} (${tlsCode}): ${(tlsCode === e?.code ? e : inner)?.message ?? message}`, { source: 'upstream', status: 502, cause: err });
  }
  if (code === 'UND_ERR_MAX_ORIGINS_REACHED') {
    // forward mode bounds the origins pooled at once: a full pool is a temporary overload of ferry, not a bad upstream
    return new FerryError('FERRY_ERR_TOO_MANY_ORIGINS', 'Service Unavailable: too many upstream origins in use at once, retry shortly', { source: 'upstream', status: 503, cause: err });
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new FerryError('FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT', 'upstream connect timeout', { source: 'upstream', status: 502, cause: err });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'FERRY_ERR_UPSTREAM_TIMEOUT') {
    return new FerryError('FERRY_ERR_UPSTREAM_TIMEOUT', 'no response headers from upstream in time', { source: 'upstream', status: 504, cause: err });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new FerryError('FERRY_ERR_UPSTREAM_BODY_TIMEOUT', 'upstream body stalled', { source: 'upstream', status: 504, cause: err });
  }
  if (code === 'UND_ERR_ABORTED' || e?.name === 'AbortError') {
    return new FerryError('FERRY_ERR_CLIENT_GONE', 'client went away', { source: 'downstream', cause: err });
  }
  if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new FerryError('FERRY_ERR_UPSTREAM_BAD_RESPONSE', `invalid response from upstream: ${message}`, { source: 'upstream', status: 502, cause: err });
  }
  if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    return new FerryError('FERRY_ERR_CLIENT_GONE', 'client body ended early', { source: 'downstream', cause: err });
  }
  if (CLOSED.has(code)) {
    return new FerryError('FERRY_ERR_UPSTREAM_CLOSED', `upstream closed the connection: ${message}`, { source: 'upstream', status: 502, cause: err });
  }
  return new FerryError('FERRY_ERR_UPSTREAM', `upstream error: ${message}`, { source: 'upstream', status: 502, cause: err });
}
