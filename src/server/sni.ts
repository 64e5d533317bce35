/**
 * @module Certificate selection by SNI, pure: the names a certificate serves (SAN DNS entries, else its CN) and the
 * choice among several pairs for a requested server name — exact first, then a wildcard one label deep, else the
 * first pair (the default). RFC 6125 §6.4.3: `*` stands for exactly one whole left-most label.
 */
import { X509Certificate } from 'node:crypto';

/** The DNS names `pem`'s leaf (its first certificate) serves, lower-cased: SAN dNSNames, or the CN when it has none. */
export function certificateNames(pem: string | Buffer): string[] {
  const x = new X509Certificate(pem);
  const san = x.subjectAltName;
  if (san) {
    // "DNS:a.example, DNS:*.b.example, IP Address:127.0.0.1"; a quoted entry (with a comma in it) is not a DNS name
    const names = san.split(', ').filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase());
    if (names.length > 0) return names;
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

/** A server name as sent in SNI (RFC 6066 §3: no trailing dot), compared case-insensitively. */
function normalise(servername: string): string {
  return servername.toLowerCase().replace(/\.$/, '');
}

/** Whether wildcard `pattern` (`*.example.com`) covers `name`: exactly one non-empty label in place of `*`. */
export function wildcardMatches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1); // ".example.com"
  if (!name.endsWith(suffix)) return false;
  const label = name.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.');
}

export interface NamedEntry<T> { names: readonly string[]; value: T }

/**
 * The entry for `servername`: the first whose names contain it exactly, else the first with a wildcard covering
 * it, else the first entry (also when the client sent no SNI). `entries` must not be empty.
 */
export function selectBySni<T>(entries: ReadonlyArray<NamedEntry<T>>, servername: string | undefined | null): T {
  if (entries.length === 0) throw new Error('selectBySni: no certificate');
  if (servername) {
    const name = normalise(servername);
    const exact = entries.find((e) => e.names.includes(name));
    if (exact) return exact.value;
    const wild = entries.find((e) => e.names.some((p) => wildcardMatches(p, name)));
    if (wild) return wild.value;
  }
  return entries[0]!.value;
}
