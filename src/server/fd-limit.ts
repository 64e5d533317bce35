/**
 * @module How many client connections the open-file limit allows (docs/reliability.md R5). A proxied connection holds
 * two descriptors (the client's socket and an upstream one), and the process needs some for itself (the listening
 * socket, log output, DNS, stores). `--max-connections` defaults to 10 000, far above a common soft limit of 1 024:
 * past the limit, accept() fails with EMFILE and every descriptor-needing call in the process fails with it. Clamping
 * keeps the excess connections out (node:http closes them at once) while existing clients are still served.
 */
import { readFileSync } from 'node:fs';

/** Descriptors kept for the process itself, beside two per connection. */
export const RESERVED_DESCRIPTORS = 64;

/** The connections `softLimit` descriptors allow; `requested` when it fits. Pure. */
export function clampConnections(requested: number, softLimit: number | null): { value: number; clamped: boolean } {
  if (softLimit === null || !Number.isFinite(softLimit)) return { value: requested, clamped: false };
  const allowed = Math.max(1, Math.floor((softLimit - RESERVED_DESCRIPTORS) / 2));
  return requested > allowed ? { value: allowed, clamped: true } : { value: requested, clamped: false };
}

/** The soft "Max open files" of this process from /proc/self/limits (Linux); null where unknown or unlimited. */
export function parseOpenFileLimit(limits: string): number | null {
  const m = /^Max open files\s+(\S+)/m.exec(limits);
  if (!m || m[1] === 'unlimited') return null;
  const n = Number(m[1]);
  return Number.isInteger(n) && n > 0 ? n : null;
}

export function readOpenFileLimit(): number | null {
  try {
    return parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null; // not Linux: no clamp
  }
}
