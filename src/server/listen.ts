/** @module Binding a server to HOST:PORT and saying where it listens. Owns the socket bind, nothing else. */
import type { Server } from 'node:net';
import { FerryError } from '../errors.ts';
import { formatHostForUrl, type HostPort } from '../util/units.ts';
import type { Logger } from './logger.ts';

export interface ListeningAddress { host: string; port: number; url: string }

/** Listen and resolve with the bound address; a bind failure becomes a one-line FerryError (source config). */
export function listen(server: Server, at: HostPort): Promise<ListeningAddress> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const why = err.code === 'EADDRINUSE' ? 'address already in use'
        : err.code === 'EACCES' ? 'permission denied'
        : err.code === 'EADDRNOTAVAIL' ? 'address not available on this machine'
        : err.message;
      reject(new FerryError('FERRY_ERR_LISTEN', `cannot listen on ${formatHostForUrl(at.host)}:${at.port}: ${why}`, { source: 'config', cause: err }));
    };
    const onListening = () => {
      server.off('error', onError);
      const addr = server.address();
      if (addr === null || typeof addr === 'string') {
        resolve({ host: at.host, port: at.port, url: String(addr) });
        return;
      }
      resolve({ host: addr.address, port: addr.port, url: `${isTlsServer(server) ? 'https' : 'http'}://${formatHostForUrl(addr.address)}:${addr.port}` });
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(at.port, at.host);
  });
}

/**
 * A tls.Server (https's and http2's secure servers are ones) without loading node:tls to ask `instanceof`
 * (http/lazy-builtins.ts): only a TLS server has `setSecureContext`.
 */
function isTlsServer(server: Server): boolean {
  return typeof (server as Server & { setSecureContext?: unknown }).setSecureContext === 'function';
}

/** The line every server prints once bound; tests and people read `url` from it. */
export function logListening(log: Logger, role: string, address: ListeningAddress, extra: Record<string, unknown> = {}): void {
  // Printed even at --log-level warn/error/fatal (people and scripts need the address); only `silent` hides it.
  const out = log.isLevelEnabled('info') || log.level === 'silent' ? log : log.child({}, { level: 'info' });
  out.info({ event: 'listening', url: address.url, host: address.host, port: address.port, ...extra }, `ferry ${role} listening on ${address.url}`);
}
