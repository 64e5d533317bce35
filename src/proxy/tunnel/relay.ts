/**
 * @module Relaying raw bytes between two connected sockets (CONNECT tunnels, upgraded connections): pipe both ways
 * with backpressure; a FIN from one side ends only that direction (half-close); one idle timer over both directions;
 * a reset on one side is passed on as a reset, so neither peer mistakes a cut stream for a complete one.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TunnelStats } from './tunnel-stats.ts';

export interface RelayOptions {
  /** No byte in either direction for this long closes both sides. 0 disables. */
  idleTimeoutMs: number;
  stats: TunnelStats;
  /** Called once, after both sockets closed. `error` is set when the relay did not end with two clean closes. */
  onDone(result: { bytesIn: number; bytesOut: number; error?: string }): void;
}

export interface Relay {
  destroy(): void;
}

/** `client` and `upstream` are connected; bytes written before this call have already been counted by the caller. */
export function relaySockets(client: Duplex, upstream: Duplex, options: RelayOptions): Relay {
  const { stats } = options;
  stats.open++;
  stats.total++;
  let bytesIn = 0;
  let bytesOut = 0;
  let error: string | undefined;
  let closed = 0;
  const onClosed = () => {
    if (++closed < 2) return;
    stats.open--;
    if (error !== undefined) stats.errored++;
    options.onDone({ bytesIn, bytesOut, ...(error !== undefined ? { error } : {}) });
  };
  client.on('data', (b: Buffer) => { bytesIn += b.length; stats.bytesIn += b.length; });
  upstream.on('data', (b: Buffer) => { bytesOut += b.length; stats.bytesOut += b.length; });
  upstream.on('error', (err: NodeJS.ErrnoException) => { error ??= `upstream ${err.code ?? err.message}`; resetOrDestroy(client); });
  client.on('error', (err: NodeJS.ErrnoException) => { error ??= `client ${err.code ?? err.message}`; resetOrDestroy(upstream); });
  // A side that closed without ending cleanly takes the other one with it.
  client.once('close', () => { if (!upstream.destroyed && !client.readableEnded) { error ??= 'client closed'; upstream.destroy(); } onClosed(); });
  upstream.once('close', () => { if (!client.destroyed && !upstream.readableEnded) { error ??= 'upstream closed'; client.destroy(); } onClosed(); });
  if (options.idleTimeoutMs > 0) {
    // Reads and writes of the client socket cover both directions, so one timer watches the whole relay.
    (client as Socket).setTimeout(options.idleTimeoutMs, () => {
      error ??= 'idle timeout';
      client.destroy();
      upstream.destroy();
    });
  } else {
    (client as Socket).setTimeout?.(0);
  }
  client.pipe(upstream);
  upstream.pipe(client);
  return { destroy() { client.destroy(); upstream.destroy(); } };
}

function resetOrDestroy(s: Duplex): void {
  const sock = s as Socket;
  if (typeof sock.resetAndDestroy === 'function' && !sock.destroyed && sock.readyState !== 'opening') sock.resetAndDestroy();
  else s.destroy();
}
