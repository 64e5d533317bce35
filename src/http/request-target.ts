/** @module The four forms of request-target (RFC 9112 §3.2) told apart without re-encoding anything. Pure. */

export type RequestTarget =
  | { kind: 'origin'; path: string }
  | { kind: 'absolute'; scheme: string; authority: string; path: string }
  | { kind: 'authority'; host: string; port: number }
  | { kind: 'asterisk' }
  | { kind: 'invalid'; reason: string };

/** Visible ASCII only: Node's parser already refuses controls and spaces; anything else is refused here. */
const VISIBLE = /^[\x21-\x7e]+$/;
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/;

/** Classify a request-target as received. `path` keeps the query byte for byte (an empty `?` too). */
export function parseRequestTarget(target: string, method: string): RequestTarget {
  if (!VISIBLE.test(target)) return { kind: 'invalid', reason: 'request-target has invalid characters' };
  if (target.includes('#')) return { kind: 'invalid', reason: 'request-target has a fragment' };
  if (method === 'CONNECT') return parseAuthorityForm(target);
  if (target.startsWith('/')) return { kind: 'origin', path: target };
  if (target === '*') return method === 'OPTIONS' ? { kind: 'asterisk' } : { kind: 'invalid', reason: '* is only for OPTIONS' };
  const m = ABSOLUTE.exec(target);
  if (m) {
    const rest = m[3]!;
    const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
    if (!path.startsWith('/')) return { kind: 'invalid', reason: 'invalid absolute-form' };
    return { kind: 'absolute', scheme: m[1]!.toLowerCase(), authority: m[2]!, path };
  }
  return { kind: 'invalid', reason: 'unsupported request-target form' };
}

/** RFC 9112 §3.2.3: authority-form is `host:port`, port required. */
function parseAuthorityForm(target: string): RequestTarget {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+):([0-9]{1,5})$/.exec(target);
  if (!m) return { kind: 'invalid', reason: 'CONNECT needs host:port' };
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return { kind: 'invalid', reason: 'port out of range' };
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { kind: 'authority', host, port };
}
