/**
 * @module User filters (`createProxy({ filters })`) placed among the built-in ones, phase by phase.
 *
 * One position in the list cannot suit every phase: a user's `route` must run before the reverse route picks an
 * upstream (so it can pick one itself), but a user's `upstreamRequestFilter` must run after hop-by-hop stripping,
 * or a client's `Connection: x-added` would remove the field the user just added (docs/reliability.md S7: strip
 * first, then add). So each user filter is split in two views that share the filter's own `this`:
 * - early (route, requestFilter, cache): after ferry's local endpoints and the forward proxy, before the reverse
 *   route and ferry's cache, in the order given;
 * - late (upstreamRequestFilter, upstreamResponseFilter, responseFilter, logging): after ferry's own edits (hop-by-hop,
 *   Via, X-Forwarded-*, X-Request-Id, JWT) and before the access log, in the order given.
 * See docs/library.md for the order as users read it.
 */
import type { ProxyFilter } from '../phases.ts';

const EARLY = ['route', 'requestFilter', 'cache'] as const;
const LATE = ['upstreamRequestFilter', 'upstreamResponseFilter', 'responseFilter', 'logging'] as const;

type PhaseName = (typeof EARLY)[number] | (typeof LATE)[number];

function view(filter: ProxyFilter, phases: readonly PhaseName[]): ProxyFilter | null {
  const out: Record<string, unknown> = { name: filter.name };
  let any = false;
  for (const phase of phases) {
    const fn = filter[phase] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof fn !== 'function') continue;
    out[phase] = fn.bind(filter);
    any = true;
  }
  return any ? (out as unknown as ProxyFilter) : null;
}

/** Check the user's filters once, at createProxy, with a message naming the filter. */
export function validateUserFilters(filters: readonly unknown[]): string | null {
  for (const [i, f] of filters.entries()) {
    if (f === null || typeof f !== 'object') return `filters[${i}] is not an object`;
    const name = (f as { name?: unknown }).name;
    if (typeof name !== 'string' || name === '') return `filters[${i}] needs a name (a non-empty string)`;
    for (const phase of [...EARLY, ...LATE]) {
      const fn = (f as Record<string, unknown>)[phase];
      if (fn !== undefined && typeof fn !== 'function') return `filter "${name}": ${phase} must be a function`;
    }
  }
  return null;
}

export function earlyViews(filters: readonly ProxyFilter[]): ProxyFilter[] {
  return filters.map((f) => view(f, EARLY)).filter((f): f is ProxyFilter => f !== null);
}

export function lateViews(filters: readonly ProxyFilter[]): ProxyFilter[] {
  return filters.map((f) => view(f, LATE)).filter((f): f is ProxyFilter => f !== null);
}
