/**
 * @module Which requests an embedded proxy takes when it is used as Connect/Express middleware with a `next`
 * (http-proxy-middleware's `pathFilter`, as its users know it). Pure.
 */
import type { IncomingMessage } from 'node:http';

/**
 * A path prefix (`'/api'` takes `/api`, `/api/x`, `/api?q`, not `/apix`), several prefixes, a RegExp tested against
 * the path (query excluded), or a function of the path and the request.
 */
export type PathFilter = string | readonly string[] | RegExp | ((path: string, req: IncomingMessage) => boolean);

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || prefix === '') return true;
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === p || (path.startsWith(p) && path[p.length] === '/');
}

export function validatePathFilter(filter: unknown): string | null {
  if (filter === undefined || filter instanceof RegExp || typeof filter === 'function') return null;
  const list = typeof filter === 'string' ? [filter] : filter;
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || !p.startsWith('/'))) {
    return 'pathFilter must be a path prefix starting with /, a list of them, a RegExp or a function';
  }
  return null;
}

/** A predicate over requests; undefined filter = every request. */
export function compilePathFilter(filter: PathFilter | undefined): (req: IncomingMessage) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === 'function') return (req) => filter(pathOf(req.url ?? '/'), req);
  if (filter instanceof RegExp) return (req) => { filter.lastIndex = 0; return filter.test(pathOf(req.url ?? '/')); };
  const prefixes = typeof filter === 'string' ? [filter] : [...filter];
  return (req) => {
    const path = pathOf(req.url ?? '/');
    return prefixes.some((p) => underPrefix(path, p));
  };
}
