/**
 * @module Client information for the upstream: X-Forwarded-For/-Proto/-Host (de facto) or RFC 7239 Forwarded. Pure.
 * The incoming values come from the client and are not trusted for anything ferry decides itself.
 */
import type { HeaderList } from './headers.ts';
import { isToken } from './grammar.ts';

export interface ClientInfo {
  /** Peer address of the client socket (IPv4-mapped IPv6 addresses are given as IPv4). */
  address: string;
  proto: 'http' | 'https';
  /** The Host the client asked for; undefined when it sent none (HTTP/1.0). */
  host: string | undefined;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, so logs and X-Forwarded-For show the address people expect. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** X-Forwarded-For gets the client appended to the existing list; Proto and Host are overwritten with what we saw. */
export function setXForwarded(headers: HeaderList, client: ClientInfo): HeaderList {
  const host = client.host !== undefined && client.host !== '';
  let seen = false;
  for (const h of headers) {
    const n = h[0];
    if (n === 'x-forwarded-for' || n === 'x-forwarded-proto' || n === 'x-forwarded-host') { seen = true; break; }
  }
  // the usual request carries none of them: one copy at its final size (http/headers.ts, "Sizes")
  if (!seen) return headers.concat(host ? [['x-forwarded-for', client.address], ['x-forwarded-proto', client.proto], ['x-forwarded-host', client.host!]] : [['x-forwarded-for', client.address], ['x-forwarded-proto', client.proto]]);
  const prior: string[] = [];
  const out: HeaderList = [];
  for (const h of headers) {
    const n = h[0];
    if (n === 'x-forwarded-for') prior.push(h[1]);
    else if (n !== 'x-forwarded-proto' && n !== 'x-forwarded-host') out.push(h);
  }
  prior.push(client.address);
  out.push(['x-forwarded-for', prior.length === 1 ? prior[0]! : prior.join(', ')]); // (the usual single entry: no join)
  out.push(['x-forwarded-proto', client.proto]);
  if (client.host !== undefined && client.host !== '') out.push(['x-forwarded-host', client.host]);
  return out;
}

/** RFC 7239 §4: a value is a token or a quoted-string; IPv6 node names are bracketed and therefore quoted (§6). */
export function formatForwardedValue(value: string): string {
  if (isToken(value)) return value;
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** One forwarded-element: `for=…;host=…;proto=…` (RFC 7239 §4, §5). */
export function formatForwardedElement(client: ClientInfo): string {
  const addr = client.address.includes(':') ? `[${client.address}]` : client.address;
  const parts = [`for=${formatForwardedValue(addr)}`];
  if (client.host !== undefined && client.host !== '') parts.push(`host=${formatForwardedValue(client.host)}`);
  parts.push(`proto=${client.proto}`);
  return parts.join(';');
}

/** A copy with our element appended to the Forwarded list (RFC 7239 §4: proxies append, in order). */
export function addForwarded(headers: HeaderList, client: ClientInfo): HeaderList {
  const prior: string[] = [];
  const out: HeaderList = [];
  for (const h of headers) {
    if (h[0] === 'forwarded') prior.push(h[1]);
    else out.push(h);
  }
  prior.push(formatForwardedElement(client));
  out.push(['forwarded', prior.length === 1 ? prior[0]! : prior.join(', ')]); // (the usual single entry: no join)
  return out;
}
