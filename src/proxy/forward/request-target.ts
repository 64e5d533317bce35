/**
 * @module Forward-proxy request-targets: absolute-form (RFC 9112 §3.2.2) and authority-form (RFC 9112 §3.2.3).
 * Pure; no I/O. Paths and queries are kept byte for byte (no re-encoding), hosts are lowercased.
 */

/** A host and port a forward proxy may connect to. `host` is a lowercase reg-name or IP literal (no brackets). */
export interface Authority {
  host: string;
  port: number;
}

export type AbsoluteTarget =
  | { kind: 'absolute'; scheme: 'http' | 'https'; authority: Authority; /** `host[:port]` for the Host field. */ hostHeader: string; /** `scheme://host:port` */ origin: string; /** origin-form `/p?q` */ path: string }
  | { kind: 'not-absolute' }
  | { kind: 'invalid'; reason: string };

export type AuthorityTarget = { kind: 'authority'; authority: Authority } | { kind: 'invalid'; reason: string };

const DEFAULT_PORTS = { http: 80, https: 443 } as const;
/** reg-name without pct-encoding (RFC 3986 §3.2.2 unreserved; sub-delims refused: no host needs them). */
const REG_NAME = /^[a-z0-9](?:[a-z0-9\-_.~]*[a-z0-9_~])?$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_CHARS = /^[0-9a-f:.]+$/;
/** RFC 9110 §4.2.4 forbids userinfo in http(s) URIs; a reasonable bound keeps logs and DNS sane. */
const MAX_HOST_LENGTH = 253;

/** Split `host[:port]` (IPv6 in brackets). `defaultPort` null means the port is required (authority-form). */
export function parseAuthority(text: string, defaultPort: number | null): { kind: 'ok'; authority: Authority } | { kind: 'invalid'; reason: string } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { kind: 'invalid', reason: 'unterminated IPv6 literal' };
    host = text.slice(1, close).toLowerCase();
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return { kind: 'invalid', reason: 'junk after IPv6 literal' };
    portText = rest === '' ? undefined : rest.slice(1);
    // Loose character check; the shell hands IP literals to the OS, which validates them fully.
    if (!IPV6_CHARS.test(host) || !host.includes(':')) return { kind: 'invalid', reason: 'invalid IPv6 literal' };
  } else {
    const colon = text.lastIndexOf(':');
    host = (colon < 0 ? text : text.slice(0, colon)).toLowerCase();
    portText = colon < 0 ? undefined : text.slice(colon + 1);
    if (host === '') return { kind: 'invalid', reason: 'empty host' };
    if (host.length > MAX_HOST_LENGTH) return { kind: 'invalid', reason: 'host too long' };
    if (!IPV4.test(host) && !REG_NAME.test(host)) return { kind: 'invalid', reason: `invalid host "${host}"` };
  }
  let port: number;
  if (portText === undefined || portText === '') {
    // RFC 3986 §3.2.3: an empty port is the scheme default; authority-form has no scheme, so it must be explicit.
    if (defaultPort === null) return { kind: 'invalid', reason: 'authority-form needs a port (host:port)' };
    port = defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) return { kind: 'invalid', reason: `invalid port "${portText}"` };
    port = Number(portText);
    if (port < 1 || port > 65535) return { kind: 'invalid', reason: `port ${port} out of range` };
  }
  return { kind: 'ok', authority: { host, port } };
}

/** `host:port` with IPv6 bracketed; the port is left out when it equals `defaultPort` (the scheme default). */
export function formatAuthority(a: Authority, defaultPort?: number): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return a.port === defaultPort ? host : `${host}:${a.port}`;
}

/**
 * absolute-form = absolute-URI (RFC 9112 §3.2.2). Anything not starting with a scheme is `not-absolute`
 * (origin-form, `*`); only http and https are proxied.
 */
export function parseAbsoluteTarget(target: string): AbsoluteTarget {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(target);
  if (!m) return { kind: 'not-absolute' };
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return { kind: 'invalid', reason: `unsupported scheme "${scheme}"` };
  const rest = target.slice(m[0].length);
  const end = rest.search(/[/?#]/);
  const authorityText = end < 0 ? rest : rest.slice(0, end);
  let path = end < 0 ? '' : rest.slice(end);
  // RFC 9110 §4.2.4: userinfo is deprecated and a common phishing/smuggling vector; refuse it.
  if (authorityText.includes('@')) return { kind: 'invalid', reason: 'userinfo in request-target' };
  if (path.includes('#')) return { kind: 'invalid', reason: 'fragment in request-target' };
  const parsed = parseAuthority(authorityText, DEFAULT_PORTS[scheme]);
  if (parsed.kind === 'invalid') return parsed;
  // RFC 9112 §3.2.1: an empty path is sent as "/" in origin-form.
  if (path === '' || path.startsWith('?')) path = `/${path}`;
  const hostHeader = formatAuthority(parsed.authority, DEFAULT_PORTS[scheme]);
  return {
    kind: 'absolute',
    scheme,
    authority: parsed.authority,
    hostHeader,
    origin: `${scheme}://${formatAuthority(parsed.authority)}`,
    path,
  };
}

/** authority-form, the target of CONNECT only (RFC 9110 §9.3.6, RFC 9112 §3.2.3). */
export function parseAuthorityTarget(target: string): AuthorityTarget {
  if (/[/?#@\s]/.test(target)) return { kind: 'invalid', reason: 'CONNECT target must be host:port' };
  const parsed = parseAuthority(target, null);
  return parsed.kind === 'ok' ? { kind: 'authority', authority: parsed.authority } : parsed;
}
