/**
 * @module Secret header fields hidden from the request inspector. Pure; no I/O. Redaction happens in the proxy
 * before a head leaves the process (the dashboard's event stream and JSON), never in the browser.
 */
import type { HeaderList } from '../http/headers.ts';

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Always redacted: credentials and session state (RFC 9110 §11.6.2, §11.7.2; RFC 6265 §4). */
export const ALWAYS_REDACTED: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/** Longer values are cut in the inspector (a head may be up to --max-header-size; the page needs the gist). */
export const MAX_SHOWN_VALUE_CHARS = 1024;

/**
 * The set of lowercase field names to redact: the fixed ones, the JWT header (whether or not signing is on: a client
 * may send one), and `--redact-headers`.
 */
export function redactionSet(options: { jwtHeader?: string; extra?: readonly string[] } = {}): ReadonlySet<string> {
  const names = new Set(ALWAYS_REDACTED);
  if (options.jwtHeader) names.add(options.jwtHeader.toLowerCase());
  for (const n of options.extra ?? []) names.add(n.trim().toLowerCase());
  names.delete('');
  return names;
}

/** A copy of `headers` with the value of every field in `names` replaced by REDACTED and long values shortened. */
export function redactHeaders(headers: readonly (readonly [string, string])[], names: ReadonlySet<string>): HeaderList {
  const out: HeaderList = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (names.has(lower)) out.push([lower, REDACTED]);
    else if (value.length > MAX_SHOWN_VALUE_CHARS) out.push([lower, `${value.slice(0, MAX_SHOWN_VALUE_CHARS)}… (${value.length} chars)`]);
    else out.push([lower, value]);
  }
  return out;
}

/**
 * An absolute-form request-target (forward proxy) may carry credentials in its userinfo (RFC 3986 §3.2.1, deprecated
 * by RFC 9110 §4.2.4 but still sent): shown as `[redacted]@host`. Other targets are returned as they are.
 */
export function redactTarget(target: string): string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)@/.exec(target);
  return m ? `${m[1]}${REDACTED}@${target.slice(m[0].length)}` : target;
}
