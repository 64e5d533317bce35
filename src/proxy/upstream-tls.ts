/**
 * @module The TLS settings ferry connects out with (`--upstream-ca/-cert/-key/-servername/-insecure`): one secure
 * context built once, handed to every outgoing TLS connection (undici's connector, node:https, tls.connect).
 */
import { readFileSync } from 'node:fs';
import type { SecureContext } from 'node:tls';
import { loadTls } from '../http/lazy-builtins.ts';
import { FerryError } from '../errors.ts';

export interface UpstreamTlsInit {
  /** PEM files of CAs trusted in addition to the default store. */
  caFiles?: readonly string[];
  /** Client certificate and key for mutual TLS. */
  certFile?: string;
  keyFile?: string;
  /** SNI and the name the certificate is checked against, instead of the URL's host. */
  servername?: string;
  /** Do not verify upstream certificates (only when asked: --upstream-insecure). */
  insecure?: boolean;
}

/** Options spread into tls.connect / undici's `connect` / https.request. */
export interface UpstreamTls {
  secureContext?: SecureContext;
  servername?: string;
  rejectUnauthorized: boolean;
}

/**
 * Build the outgoing TLS settings; a file that cannot be read or parsed is a config error naming it. The trust store
 * is Node's default one (its bundled Mozilla CAs, NODE_EXTRA_CA_CERTS, and the OS store under --use-system-ca),
 * plus the --upstream-ca files; without any file the default context is used as is.
 */
export function buildUpstreamTls(init: UpstreamTlsInit): UpstreamTls {
  const read = (file: string, what: string): string => {
    try { return readFileSync(file, 'utf8'); } catch (err) {
      throw new FerryError('FERRY_ERR_CONFIG', `${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { source: 'config', cause: err });
    }
  };
  if ((init.certFile === undefined) !== (init.keyFile === undefined)) {
    throw new FerryError('FERRY_ERR_CONFIG', '--upstream-cert and --upstream-key go together (mutual TLS needs both)', { source: 'config' });
  }
  const out: UpstreamTls = { rejectUnauthorized: init.insecure !== true, ...(init.servername ? { servername: init.servername } : {}) };
  const extra = (init.caFiles ?? []).map((f) => read(f, '--upstream-ca'));
  if (extra.length === 0 && init.certFile === undefined) return out;
  try {
    const tls = loadTls();
    out.secureContext = tls.createSecureContext({
      ...(extra.length > 0 ? { ca: [...tls.getCACertificates('default'), ...extra] } : {}),
      ...(init.certFile !== undefined ? { cert: read(init.certFile, '--upstream-cert'), key: read(init.keyFile!, '--upstream-key') } : {}),
    });
  } catch (err) {
    if (err instanceof FerryError) throw err;
    throw new FerryError('FERRY_ERR_CONFIG', `upstream TLS settings: ${(err as Error).message.split('\n')[0]}`, { source: 'config', cause: err });
  }
  return out;
}

/** Node's certificate verification codes, in the words of a log line (why the upstream's certificate was refused). */
const CERT_REASONS: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown CA (self-signed certificate in chain)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown CA (self-signed certificate)',
  CERT_REVOKED: 'certificate revoked',
  CERT_SIGNATURE_FAILURE: 'bad certificate signature',
  ERR_TLS_CERT_ALTNAME_INVALID: 'name mismatch',
};

/** Why a TLS connection to the upstream failed, for the 502's log line; null when `code` is no TLS failure. */
export function tlsFailureReason(code: string): string | null {
  const reason = CERT_REASONS[code];
  if (reason) return reason;
  if (code.startsWith('ERR_SSL_') || code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'TLS handshake failed';
  return null;
}
