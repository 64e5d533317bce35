/**
 * @module Tunnel figures for GET /stats and /metrics: CONNECT tunnels and upgraded (WebSocket) connections.
 * The stats module asks a provider for this process's counters, sums them over workers, and registers the
 * Prometheus series here (collected on scrape, so the relay code only bumps plain numbers).
 */
import type { Registry } from 'prom-client';
import { promClient } from '../../stats/prom-client.ts';
import type { TunnelStatsSnapshot } from './tunnel-stats.ts';

export interface TunnelTotals {
  connect: TunnelStatsSnapshot;
  upgrade: TunnelStatsSnapshot;
}

export type TunnelProvider = () => TunnelTotals;

/** The `tunnels` / `upgrades` objects of GET /stats. */
export interface TunnelStatsJson {
  open: number;
  total: number;
  refused: number;
  errored: number;
  bytes: { in: number; out: number };
}

const ZERO: TunnelStatsSnapshot = { open: 0, total: 0, refused: 0, errored: 0, bytesIn: 0, bytesOut: 0 };

function add(a: TunnelStatsSnapshot, b: TunnelStatsSnapshot): TunnelStatsSnapshot {
  return { open: a.open + b.open, total: a.total + b.total, refused: a.refused + b.refused, errored: a.errored + b.errored, bytesIn: a.bytesIn + b.bytesIn, bytesOut: a.bytesOut + b.bytesOut };
}

/** Sum over workers (parts without tunnel figures count as zero). */
export function sumTunnelTotals(parts: ReadonlyArray<TunnelTotals | undefined>): TunnelTotals {
  let connect = ZERO;
  let upgrade = ZERO;
  for (const p of parts) {
    if (!p) continue;
    connect = add(connect, p.connect);
    upgrade = add(upgrade, p.upgrade);
  }
  return { connect, upgrade };
}

export function formatTunnelJson(s: TunnelStatsSnapshot): TunnelStatsJson {
  return { open: s.open, total: s.total, refused: s.refused, errored: s.errored, bytes: { in: s.bytesIn, out: s.bytesOut } };
}

/** ferry_tunnels_open / ferry_tunnels_total / ferry_tunnel_bytes_total, label kind = connect | upgrade. */
export function registerTunnelMetrics(registry: Registry, provider: TunnelProvider): void {
  const { Counter, Gauge } = promClient();
  const registers = [registry];
  const kinds = ['connect', 'upgrade'] as const;
  new Gauge({
    name: 'ferry_tunnels_open', help: 'CONNECT tunnels and upgraded connections open now', labelNames: ['kind'], registers,
    collect() { const t = provider(); for (const k of kinds) this.set({ kind: k }, t[k].open); },
  });
  new Counter({
    name: 'ferry_tunnels_total', help: 'CONNECT tunnels and upgraded connections established', labelNames: ['kind'], registers,
    collect() { const t = provider(); this.reset(); for (const k of kinds) this.inc({ kind: k }, t[k].total); },
  });
  new Counter({
    name: 'ferry_tunnel_bytes_total', help: 'Bytes relayed through tunnels (in: client to target, out: target to client)', labelNames: ['kind', 'direction'], registers,
    collect() {
      const t = provider();
      this.reset();
      for (const k of kinds) { this.inc({ kind: k, direction: 'in' }, t[k].bytesIn); this.inc({ kind: k, direction: 'out' }, t[k].bytesOut); }
    },
  });
}
