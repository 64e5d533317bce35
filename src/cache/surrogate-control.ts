/**
 * @module Surrogate-Control (W3C Edge Architecture Specification 1.0, 2001): the older, pre-RFC 9213 way for an
 * origin to give caching directives to reverse proxies ("surrogates") such as ferry. ferry announces itself with
 * `Surrogate-Capability: ferry="Surrogate/1.0"` on requests it forwards; directives may then be targeted at it with
 * `;ferry` (`max-age=60;ferry`). Directives targeted at another device token are ignored. When any directive
 * applies, it replaces Cache-Control and Expires for ferry's own caching decision, like CDN-Cache-Control (which
 * wins when both are present). The field is forwarded unchanged. Pure.
 */
import { splitOutsideQuotes } from './cache-control.ts';
import { appendHeader, type HeaderList } from '../http/headers.ts';

/** ferry's device token in Surrogate-Capability (Edge Architecture §3.1) and in targeted directives. */
export const SURROGATE_TOKEN = 'ferry';
export const SURROGATE_CAPABILITY = `${SURROGATE_TOKEN}="Surrogate/1.0"`;

/**
 * The Cache-Control value ferry should obey, or null when the field is absent or nothing in it applies to ferry.
 * `max-age=N[+M]` → `max-age=N` (+M, the Edge Architecture's stale allowance, becomes stale-while-revalidate=M);
 * `no-store` and `no-store-remote` (ferry is a remote cache) → `no-store`; other directives (content=…, extensions)
 * do not concern caching and are dropped. A malformed max-age makes the response stale (as for Cache-Control).
 */
export function parseSurrogateControl(value: string | undefined): string | null {
  if (value === undefined) return null;
  const out: string[] = [];
  for (const member of splitOutsideQuotes(value)) {
    const semi = member.indexOf(';');
    const directive = (semi < 0 ? member : member.slice(0, semi)).trim();
    const target = semi < 0 ? undefined : member.slice(semi + 1).trim().toLowerCase();
    if (target !== undefined && target !== SURROGATE_TOKEN) continue;
    const m = /^([^=\s]+)(\s*=\s*)?(.*)$/.exec(directive);
    if (!m) continue;
    const name = m[1]!.toLowerCase();
    if (name === 'no-store' || name === 'no-store-remote') { out.push('no-store'); continue; }
    if (name !== 'max-age') continue;
    const age = m[2] === '=' ? /^(\d+)(?:\+(\d+))?$/.exec(m[3]!) : null;
    if (age === null) { out.push('max-age=0'); continue; }
    out.push(`max-age=${String(Math.min(Number(age[1]), 2 ** 31))}`);
    if (age[2] !== undefined) out.push(`stale-while-revalidate=${String(Math.min(Number(age[2]), 2 ** 31))}`);
  }
  return out.length === 0 ? null : out.join(', ');
}

/** The forwarded request with ferry's Surrogate-Capability appended (after any a downstream surrogate sent). */
export function withSurrogateCapability(headers: HeaderList): HeaderList {
  return appendHeader(headers, 'surrogate-capability', SURROGATE_CAPABILITY);
}
