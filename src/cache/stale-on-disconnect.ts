/**
 * @module Serving a stale stored response when the origin cannot be reached (RFC 9111 §4.2.4: a cache "MUST NOT
 * generate a stale response unless it is disconnected or doing so is explicitly permitted"). Pure: which upstream
 * failures count as being disconnected, and which stored responses and requests forbid it anyway.
 */
import type CachePolicy from 'http-cache-semantics';
import { FerryError } from '../errors.ts';
import type { HeaderList } from '../http/headers.ts';
import { requestDirectives } from './cache-control.ts';

/** Upstream failures where no answer came from the origin at all: refused, unreachable, closed, timed out. */
const DISCONNECTED: ReadonlySet<string> = new Set([
  'FERRY_ERR_UPSTREAM_UNREACHABLE', 'FERRY_ERR_UPSTREAM_CLOSED', 'FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT', 'FERRY_ERR_UPSTREAM_TIMEOUT',
]);

export function isDisconnected(err: unknown): boolean {
  return err instanceof FerryError && DISCONNECTED.has(err.code);
}

/**
 * Response directives that forbid serving the response stale even when disconnected (RFC 9111 §4.2.4, §5.2.2):
 * must-revalidate (§5.2.2.2), no-cache (§5.2.2.4), proxy-revalidate (§5.2.2.8), s-maxage (§5.2.2.10: "implies
 * proxy-revalidate" for a shared cache). A request with no-cache (§5.2.1.4) asked for a validated answer.
 */
const FORBIDDING: readonly string[] = ['must-revalidate', 'no-cache', 'proxy-revalidate', 's-maxage'];

export function staleOnDisconnectAllows(policy: CachePolicy, reqHeaders: HeaderList): boolean {
  const { rescc } = policy.toObject(); // toObject() shape of the pinned 4.3.0 (policy-kit.ts)
  if (FORBIDDING.some((d) => rescc[d] !== undefined)) return false;
  return !requestDirectives(reqHeaders).has('no-cache');
}
