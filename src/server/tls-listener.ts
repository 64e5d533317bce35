/**
 * @module The TLS listener every role uses with `--tls-cert/--tls-key`: an HTTP/2-capable secure server (ALPN `h2`,
 * `http/1.1`) or an HTTPS/1.1 one, the certificate chosen by SNI (server/sni.ts), re-read on SIGHUP and when the
 * files change, a broken new pair refused with the old one kept.
 */
import { randomBytes } from 'node:crypto';
import { statSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import type http from 'node:http';
import type * as http2 from 'node:http2';
import { basename, dirname } from 'node:path';
import type * as tls from 'node:tls';
import type { SecureContext } from 'node:tls';
import { loadHttp2, loadHttps, loadTls } from '../http/lazy-builtins.ts';
import { FerryError } from '../errors.ts';
import type { Logger } from './logger.ts';
import { h2Settings } from './h2-server.ts';
import { guardH2Sessions } from './h2-guard.ts';
import { certificateNames, selectBySni, type NamedEntry } from './sni.ts';

export interface TlsPairFiles { certFile: string; keyFile: string }

export interface TlsListenerOptions {
  /** PEM files (certificate with its chain, key); the first pair is the default for unknown or absent SNI. */
  pairs: readonly TlsPairFiles[];
  /** Lowest protocol version accepted (default TLS 1.2). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Offer HTTP/2 by ALPN next to HTTP/1.1 (default true): an http2 secure server with allowHTTP1. */
  http2?: boolean;
  /** Re-read the pairs when their files change (fs.watch on their directories, debounced). */
  watch?: boolean;
  /** SETTINGS_MAX_CONCURRENT_STREAMS offered to h2 clients (`--h2-max-concurrent-streams`, default 100). */
  h2MaxConcurrentStreams?: number;
}

interface LoadedPair { cert: Buffer; key: Buffer; names: string[] }

/** Files changed within this many ms are read once (an editor or certbot writes cert and key one after the other). */
const WATCH_DEBOUNCE_MS = 200;

/** Read and check every pair (PEM parses, key matches certificate); throws a config FerryError saying which and why. */
function loadPairs(options: TlsListenerOptions, ticketKeys?: Buffer): { pairs: LoadedPair[]; entries: Array<NamedEntry<SecureContext>> } {
  if (options.pairs.length === 0) throw new FerryError('FERRY_ERR_CONFIG', 'TLS needs at least one --tls-cert/--tls-key pair', { source: 'config' });
  const pairs: LoadedPair[] = [];
  const entries: Array<NamedEntry<SecureContext>> = [];
  for (const { certFile, keyFile } of options.pairs) {
    try {
      const cert = readFileSync(certFile);
      const key = readFileSync(keyFile);
      const names = certificateNames(cert);
      // createSecureContext refuses a key that does not match the certificate ("key values mismatch")
      const context = loadTls().createSecureContext({ cert, key, minVersion: options.minVersion ?? 'TLSv1.2', ...(ticketKeys ? { ticketKeys } : {}) });
      pairs.push({ cert, key, names });
      entries.push({ names, value: context });
    } catch (err) {
      const why = (err as Error).message.split('\n')[0];
      throw new FerryError('FERRY_ERR_CONFIG', `TLS pair ${certFile} / ${keyFile}: ${why}`, { source: 'config', cause: err });
    }
  }
  return { pairs, entries };
}

/** Warn once per key file that group or others can read (as the JWT secret file does). */
function warnLooseKeys(options: TlsListenerOptions, log: Logger): void {
  for (const { keyFile } of options.pairs) {
    try {
      const mode = statSync(keyFile).mode;
      if ((mode & 0o077) !== 0) log.warn({ event: 'tls-key-permissions', file: keyFile, mode: (mode & 0o777).toString(8) }, `TLS key file ${keyFile} is readable by group or others; chmod 600 it`);
    } catch { /* unreadable files are reported by loadPairs */ }
  }
}

/** Check the pairs once, before any fork or listen: a UsageError-like config error names the bad file. */
export function checkTlsPairs(options: TlsListenerOptions, log: Logger): void {
  loadPairs(options);
  warnLooseKeys(options, log);
}

const RELOADERS = new WeakMap<object, () => boolean>();

/** Re-read `server`'s certificate pairs (SIGHUP); false when the new pairs were refused or it has no TLS. */
export function reloadTls(server: object): boolean {
  return RELOADERS.get(server)?.() ?? false;
}

/**
 * A secure server with the given node:http options and handler. The returned object is an http2 secure server (with
 * allowHTTP1) or an https server; both take the http options and emit the HTTP/1.1 events ('request', 'upgrade',
 * 'connect', 'checkContinue', 'clientError') the roles attach to, so it is typed as the http.Server they expect.
 */
export function createTlsServer(httpOptions: http.ServerOptions, handler: http.RequestListener, options: TlsListenerOptions, log: Logger): http.Server {
  // Session resumption (tickets, RFC 8446 §2.2 / RFC 5077): one key for the server's life, kept across reloads.
  const ticketKeys = randomBytes(48);
  let loaded = loadPairs(options, ticketKeys);
  const minVersion = options.minVersion ?? 'TLSv1.2';
  const secure = () => ({ cert: loaded.pairs[0]!.cert, key: loaded.pairs[0]!.key, minVersion, ticketKeys });
  const tlsOptions: tls.TlsOptions = {
    ...secure(),
    SNICallback: (servername, cb) => cb(null, selectBySni(loaded.entries, servername)),
  };
  const h2 = options.http2 !== false;
  const server = h2
    ? loadHttp2().createSecureServer({
      ...httpOptions, ...tlsOptions, allowHTTP1: true,
      // the same SETTINGS as every ferry h2 listener: stream limit, RFC 8441 extended CONNECT, header list size
      settings: h2Settings({
        ...(httpOptions.maxHeaderSize !== undefined ? { maxHeaderBytes: httpOptions.maxHeaderSize } : {}),
        ...(options.h2MaxConcurrentStreams !== undefined ? { maxConcurrentStreams: options.h2MaxConcurrentStreams } : {}),
      }),
    } as http2.SecureServerOptions, handler as never)
    : loadHttps().createServer({ ...httpOptions, ...tlsOptions, ALPNProtocols: ['http/1.1'] }, handler);
  if (h2) { addCloseAllConnections(server as tls.Server); guardH2Sessions(server, { log }); }

  const reload = (): boolean => {
    try {
      loaded = loadPairs(options, ticketKeys);
    } catch (err) {
      log.warn({ event: 'tls-reload-refused', reason: (err as Error).message }, `new TLS certificate refused, the previous one stays in use: ${(err as Error).message}`);
      return false;
    }
    (server as tls.Server).setSecureContext(secure());
    log.info({ event: 'tls-reloaded', names: loaded.pairs.map((p) => p.names) }, 'TLS certificates reloaded');
    return true;
  };
  RELOADERS.set(server, reload);
  if (options.watch) watchPairs(server as tls.Server, options.pairs, reload);
  return server as unknown as http.Server;
}

/** fs.watch on each directory holding a pair's file (a replaced file keeps no watch of its own); debounced reload. */
function watchPairs(server: tls.Server, pairs: readonly TlsPairFiles[], reload: () => boolean): void {
  const byDir = new Map<string, Set<string>>();
  for (const file of pairs.flatMap((p) => [p.certFile, p.keyFile])) {
    const names = byDir.get(dirname(file)) ?? new Set<string>();
    names.add(basename(file));
    byDir.set(dirname(file), names);
  }
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    const w = watch(dir, { persistent: false }, (_event, filename) => {
      if (filename !== null && !names.has(String(filename))) return;
      clearTimeout(timer);
      timer = setTimeout(reload, WATCH_DEBOUNCE_MS);
    });
    w.on('error', () => w.close()); // the directory went away: SIGHUP still reloads
    watchers.push(w);
  }
  server.once('close', () => { clearTimeout(timer); for (const w of watchers) w.close(); });
}

/** http2's secure server has closeIdleConnections (HTTP/1.1 side) but no closeAllConnections: the shutdown needs both. */
function addCloseAllConnections(server: tls.Server): void {
  const sockets = new Set<tls.TLSSocket>();
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  Object.assign(server, { closeAllConnections: () => { for (const s of sockets) s.destroy(); } });
}
