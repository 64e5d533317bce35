/** @module Counters of CONNECT tunnels, read by the statistics page (src/stats) and tests. Plain numbers; no I/O. */

export interface TunnelStatsSnapshot {
  /** Tunnels established and not yet closed. */
  open: number;
  /** Tunnels established since start. */
  total: number;
  /** CONNECT requests answered with an error instead of a tunnel (400/403/407/502/504). */
  refused: number;
  /** Tunnels that ended with an error (reset, idle timeout) rather than two clean closes. */
  errored: number;
  /** Bytes from clients to targets, and from targets to clients (tunnel payload only). */
  bytesIn: number;
  bytesOut: number;
}

export interface TunnelStats extends TunnelStatsSnapshot {
  snapshot(): TunnelStatsSnapshot;
}

export function createTunnelStats(): TunnelStats {
  return {
    open: 0, total: 0, refused: 0, errored: 0, bytesIn: 0, bytesOut: 0,
    snapshot() {
      return { open: this.open, total: this.total, refused: this.refused, errored: this.errored, bytesIn: this.bytesIn, bytesOut: this.bytesOut };
    },
  };
}
