/**
 * @module Destination deny lists (`--deny`): CIDR parsing and matching of resolved addresses. No sockets: node:net's
 * BlockList is a pure matcher (it also matches IPv4-mapped IPv6 addresses such as ::ffff:10.0.0.1 against IPv4
 * ranges, which a hand-rolled matcher easily forgets — a classic SSRF bypass).
 */
import { BlockList, isIP } from 'node:net';

export interface Cidr {
  /** As written, normalised: `10.0.0.0/8`, `::1/128`. */
  text: string;
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export type CidrParse = { kind: 'ok'; cidr: Cidr } | { kind: 'invalid'; reason: string };

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): CidrParse {
  const t = text.trim();
  const slash = t.indexOf('/');
  const address = (slash < 0 ? t : t.slice(0, slash)).toLowerCase();
  const version = isIP(address);
  if (version === 0) return { kind: 'invalid', reason: `"${text}" is not an IP address or CIDR range` };
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return { kind: 'invalid', reason: `invalid prefix length in "${text}" (0-${max})` };
    prefix = Number(p);
  }
  const family = version === 4 ? 'ipv4' : 'ipv6';
  return { kind: 'ok', cidr: { text: `${address}/${prefix}`, address, prefix, family } };
}

export interface DenyList {
  readonly cidrs: readonly Cidr[];
  /** The first range containing `address` (an IP literal), or undefined. Non-IP input is treated as denied. */
  match(address: string): Cidr | undefined;
}

export function createDenyList(cidrs: readonly Cidr[]): DenyList {
  // One BlockList per range so a match can name the range in logs and errors.
  const lists = cidrs.map((c) => {
    const b = new BlockList();
    b.addSubnet(c.address, c.prefix, c.family);
    return { c, b };
  });
  return {
    cidrs,
    match(address) {
      const v = isIP(address);
      if (v === 0) return lists.length > 0 ? cidrs[0] : undefined;
      const family = v === 4 ? 'ipv4' : 'ipv6';
      return lists.find(({ b }) => b.check(address, family))?.c;
    },
  };
}

export type DestinationDecision = { kind: 'allow' } | { kind: 'deny'; address: string; cidr: Cidr };

/**
 * Every address a name resolved to must be allowed: connecting to "the first allowed one" would let a name that
 * resolves to both a public and an internal address be steered inside by DNS ordering.
 */
export function decideDestination(addresses: readonly string[], deny: DenyList): DestinationDecision {
  for (const address of addresses) {
    const cidr = deny.match(address);
    if (cidr) return { kind: 'deny', address, cidr };
  }
  return { kind: 'allow' };
}
