/**
 * @module Request path → file path under the root, refusing every way out: `..` (raw or
 * percent-encoded), encoded slashes and backslashes, NUL; and, unless allowed, dotfiles. Pure; the
 * symlink check (which needs the file system) is in file-responder.ts.
 */
import path from 'node:path';

/**
 * Whether names starting with a dot (`.env`, `.git/`, `sub/.hidden`) are served. `deny` (the default)
 * answers 404 as if they did not exist, as `send`/`serve-static` do (docs/origin.md#files).
 */
export type DotfilesPolicy = 'deny' | 'allow';
export const DOTFILES_POLICIES: readonly DotfilesPolicy[] = ['deny', 'allow'];

/** True for a decoded segment or directory entry name that `deny` hides. `a.b` is not one; `.`/`..` are never served anyway. */
export function isDotfile(name: string): boolean {
  return name.startsWith('.');
}

export type ResolvedPath =
  | { kind: 'ok'; segments: string[] }
  /** Never the file; answered 404 so the response says nothing about what exists outside. */
  | { kind: 'refused'; status: 400 | 404; reason: string };

/**
 * The origin-form (`/path?query`) of an absolute-form target (`http://host/path?query`), which a
 * server must accept (RFC 9112 §3.2.2). Taken verbatim, not URL-normalised, so the checks below see
 * the dot segments as sent. Other targets are returned unchanged.
 */
export function toOriginForm(target: string): string {
  const m = /^https?:\/\/[^/?#]*([^#]*)/i.exec(target);
  if (!m) return target;
  const rest = m[1] ?? '';
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * Split the path of a request-target (query removed) into decoded segments.
 * RFC 3986 §3.3: each segment is percent-decoded on its own, so `%2f` stays inside one segment — and is refused.
 * The dotfile check sees the decoded segment, so `%2eenv` is `.env`.
 */
export function resolveRequestPath(target: string, dotfiles: DotfilesPolicy = 'deny'): ResolvedPath {
  const q = target.indexOf('?');
  const raw = q >= 0 ? target.slice(0, q) : target;
  if (!raw.startsWith('/')) return { kind: 'refused', status: 400, reason: 'request-target is not an absolute path' };
  const segments: string[] = [];
  for (const encoded of raw.split('/')) {
    if (encoded === '') continue; // `//` and the leading slash
    let seg: string;
    try {
      seg = decodeURIComponent(encoded);
    } catch {
      return { kind: 'refused', status: 400, reason: 'bad percent-encoding' };
    }
    if (seg === '.' || seg === '..') return { kind: 'refused', status: 404, reason: 'dot segment' };
    if (/[/\\\0]/.test(seg)) return { kind: 'refused', status: 404, reason: 'slash, backslash or NUL inside a segment' };
    if (dotfiles === 'deny' && isDotfile(seg)) return { kind: 'refused', status: 404, reason: 'dotfile' };
    segments.push(seg);
  }
  return { kind: 'ok', segments };
}

/** The absolute path of `segments` under `root`, or undefined if it would leave it (belt and braces). */
export function joinUnderRoot(root: string, segments: readonly string[]): string | undefined {
  const full = path.resolve(root, ...segments);
  return isInside(root, full) ? full : undefined;
}

/** True if `candidate` is `root` or below it (both absolute, normalised). */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  // `..foo` is a name inside; only `..` itself or `../…` leaves.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
