/**
 * @module The TLS flags every role shares: the listener's (`--tls-cert/--tls-key` pairs, `--tls-min-version`,
 * `--http2`) and the outgoing connections' (`--upstream-ca/-cert/-key/-servername/-insecure`), with their checks.
 */
import { UsageError, FerryError } from '../../errors.ts';
import type { Logger } from '../../server/logger.ts';
import { checkTlsPairs, type TlsListenerOptions } from '../../server/tls-listener.ts';
import { buildUpstreamTls, type UpstreamTls } from '../../proxy/upstream-tls.ts';
import type { FlagSpec, FlagValues } from '../flags.ts';

export const TLS_LISTENER_FLAGS: readonly FlagSpec[] = [
  { name: 'tls-cert', type: 'path', repeatable: true, help: 'listen over TLS with this PEM certificate chain (pairs with --tls-key, in order; the first pair is the default, the others are chosen by SNI)', placeholder: 'FILE' },
  { name: 'tls-key', type: 'path', repeatable: true, help: 'PEM private key of the --tls-cert given at the same position', placeholder: 'FILE' },
  { name: 'tls-min-version', type: 'enum', help: 'lowest TLS version accepted', default: '1.2', choices: ['1.2', '1.3'] },
  { name: 'http2', type: 'bool', help: 'on a TLS listener, offer HTTP/2 by ALPN next to HTTP/1.1', default: true },
  { name: 'h2-max-concurrent-streams', type: 'int', help: 'most HTTP/2 streams open at once per client connection (SETTINGS_MAX_CONCURRENT_STREAMS; TLS listener and --h2c)', default: '100' },
];

export const UPSTREAM_TLS_FLAGS: readonly FlagSpec[] = [
  { name: 'upstream-ca', type: 'path', repeatable: true, help: 'trust this PEM CA for https upstreams, besides the default CAs', placeholder: 'FILE' },
  { name: 'upstream-cert', type: 'path', help: 'client certificate (PEM) presented to https upstreams (mutual TLS; with --upstream-key)', placeholder: 'FILE' },
  { name: 'upstream-key', type: 'path', help: 'private key (PEM) of --upstream-cert', placeholder: 'FILE' },
  { name: 'upstream-servername', type: 'string', help: 'TLS server name (SNI, and the name the certificate must carry) for https upstreams instead of the URL host', placeholder: 'NAME' },
  { name: 'upstream-insecure', type: 'bool', help: 'do NOT verify https upstream certificates (testing only; logged as a warning)', default: false },
];

function asConfigUsage<T>(f: () => T): T {
  try { return f(); } catch (err) {
    if (err instanceof FerryError && err.source === 'config') throw new UsageError(err.message);
    throw err;
  }
}

/** The listener's TLS settings, or null without --tls-cert; the pairs are read and checked here, before listening. */
export function resolveTlsListenerFlags(flags: FlagValues, log: Logger): TlsListenerOptions | null {
  const certs = (flags.tlsCert as string[] | undefined) ?? [];
  const keys = (flags.tlsKey as string[] | undefined) ?? [];
  if (certs.length !== keys.length) throw new UsageError(`--tls-cert and --tls-key come in pairs: ${certs.length} certificate(s), ${keys.length} key(s)`);
  if (certs.length === 0) return null;
  const options: TlsListenerOptions = {
    pairs: certs.map((certFile, i) => ({ certFile, keyFile: keys[i]! })),
    minVersion: flags.tlsMinVersion === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
    http2: flags.http2 !== false,
    watch: true,
    h2MaxConcurrentStreams: resolveH2MaxConcurrentStreams(flags),
  };
  asConfigUsage(() => checkTlsPairs(options, log));
  return options;
}

/** `--h2-max-concurrent-streams`: at least 1 (a listener that allows no stream could serve nothing). */
export function resolveH2MaxConcurrentStreams(flags: FlagValues): number {
  const n = (flags.h2MaxConcurrentStreams as number | undefined) ?? 100;
  if (n < 1 || n > 2 ** 31 - 1) throw new UsageError(`--h2-max-concurrent-streams: expected 1 to ${2 ** 31 - 1}, got ${n}`);
  return n;
}

/** The outgoing TLS settings, or null when every flag is at its default (verification on, default CAs). */
export function resolveUpstreamTlsFlags(flags: FlagValues, log: Logger): UpstreamTls | null {
  const caFiles = (flags.upstreamCa as string[] | undefined) ?? [];
  const insecure = flags.upstreamInsecure === true;
  const certFile = flags.upstreamCert as string | undefined;
  const keyFile = flags.upstreamKey as string | undefined;
  const servername = flags.upstreamServername as string | undefined;
  if (caFiles.length === 0 && !insecure && certFile === undefined && keyFile === undefined && servername === undefined) return null;
  if (insecure) log.warn({ event: 'upstream-insecure' }, '--upstream-insecure: upstream TLS certificates are NOT verified');
  return asConfigUsage(() => buildUpstreamTls({
    caFiles, insecure,
    ...(certFile !== undefined ? { certFile } : {}),
    ...(keyFile !== undefined ? { keyFile } : {}),
    ...(servername !== undefined ? { servername } : {}),
  }));
}
