/**
 * @module The route table: an ordered list of host / path-prefix matches, each naming a pool. Pure, no sockets.
 * First match wins (docs/routing.md); a host is matched exactly or as `*.example.com` (any name ending in
 * `.example.com`, not the bare domain); a path prefix matches at a segment boundary (`/api` takes `/api`, `/api/x` and
 * `/api?q`, not `/apix`), and `strip-prefix` removes it before the request goes upstream.
 */

export interface RouteSpec {
  /** Shown in /stats, /metrics and the access log; default `route-N` (N from 1, in file order). */
  name: string;
  /** Lower case; `*.example.com` or an exact name; undefined = any host. */
  host?: string;
  /** Starts with `/`; undefined = any path. */
  pathPrefix?: string;
  stripPrefix: boolean;
  pool: string;
}

export interface RouteMatch {
  route: RouteSpec;
  /** The origin-form target to send upstream (prefix stripped when asked). */
  path: string;
}

/** The host a request names (Host field), lower case, without the port and the brackets of an IPv6 literal. */
export function requestHost(hostField: string | undefined): string {
  if (hostField === undefined) return '';
  const h = hostField.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return (colon === -1 ? h : h.slice(0, colon)).replace(/\.$/, '');
}

export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.length > pattern.length - 1 && host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** Does `prefix` match origin-form `target` at a segment boundary? */
export function prefixMatches(prefix: string, target: string): boolean {
  if (!target.startsWith(prefix)) return false;
  if (prefix.endsWith('/') || target.length === prefix.length) return true;
  const next = target[prefix.length];
  return next === '/' || next === '?';
}

/** `target` without `prefix` (which matched); the result is always origin-form (`/api` → `/`, `/api?q` → `/?q`). */
export function stripPrefix(prefix: string, target: string): string {
  const rest = target.slice(prefix.endsWith('/') ? prefix.length - 1 : prefix.length);
  return rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
}

/** The first route matching `host` and `target`, or null (→ the default pool, or 404). */
export function matchRoute(routes: readonly RouteSpec[], host: string, target: string): RouteMatch | null {
  for (const route of routes) {
    if (route.host !== undefined && !hostMatches(route.host, host)) continue;
    if (route.pathPrefix !== undefined && !prefixMatches(route.pathPrefix, target)) continue;
    const path = route.stripPrefix && route.pathPrefix !== undefined ? stripPrefix(route.pathPrefix, target) : target;
    return { route, path };
  }
  return null;
}
