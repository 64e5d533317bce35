/** @module Parsing of the flag value syntax shared by every command (durations, sizes, host:port). Pure; no I/O. */

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** `250ms`, `2s`, `5m`, `1h`, `1.5s`; a bare `0` means zero. A unit is required otherwise. */
export function parseDuration(text: string): Parsed<number> {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return { ok: false, reason: `invalid duration "${text}" (use a unit: 250ms, 2s, 5m, 1h)` };
  const n = Number(m[1]);
  if (m[2] === undefined) {
    if (n === 0) return { ok: true, value: 0 };
    return { ok: false, reason: `duration "${text}" needs a unit (ms, s, m, h)` };
  }
  return { ok: true, value: Math.round(n * DURATION_UNITS_MS[m[2]]!) };
}

/** `16KiB`, `1MiB`, `2MB`, `512` (bytes). */
export function parseSize(text: string): Parsed<number> {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m?.[2]?.toLowerCase();
  if (!m || unit === undefined || !(unit in SIZE_UNITS)) {
    return { ok: false, reason: `invalid size "${text}" (examples: 512, 16KiB, 1MiB, 2MB)` };
  }
  const value = Math.floor(Number(m[1]) * SIZE_UNITS[unit]!);
  if (!Number.isSafeInteger(value)) return { ok: false, reason: `size "${text}" is too large` };
  return { ok: true, value };
}

export interface HostPort { host: string; port: number }

/** `HOST:PORT`, `[::1]:PORT`, or `:PORT` / `PORT` (host defaults to 127.0.0.1). Port 0 = any free port. */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): Parsed<HostPort> {
  const t = text.trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(t);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (/^\d+$/.test(t)) {
    host = defaultHost;
    portText = t;
  } else {
    const i = t.lastIndexOf(':');
    if (i < 0) return { ok: false, reason: `invalid address "${text}" (use HOST:PORT)` };
    host = t.slice(0, i) || defaultHost;
    portText = t.slice(i + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return { ok: false, reason: `invalid port "${portText}" in "${text}" (0-65535)` };
  }
  if (!/^[A-Za-z0-9.\-:]+$/.test(host)) return { ok: false, reason: `invalid host "${host}" in "${text}"` };
  return { ok: true, value: { host, port: Number(portText) } };
}

export function formatHostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
