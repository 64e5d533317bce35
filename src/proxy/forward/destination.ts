/**
 * @module Where a forward-proxy request may go, after DNS (the I/O half of `--deny`): resolve the name and refuse if
 * any address is denied. Callers then connect to the checked address (not the name again), so a name that resolves
 * differently a second time (DNS rebinding) cannot reach a denied range.
 */
import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { decideDestination, type DenyList } from './cidr.ts';

export type DestinationCheck =
  | { kind: 'allow'; addresses: LookupAddress[] }
  | { kind: 'deny'; address: string; cidr: string }
  | { kind: 'unresolved'; reason: string };

export type Resolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

/** Resolve `host` (IP literals are used as they are) and check every address against the deny list. */
export async function checkDestination(host: string, deny: DenyList, resolve: Resolver = systemResolver): Promise<DestinationCheck> {
  let addresses: LookupAddress[];
  const family = isIP(host);
  if (family !== 0) addresses = [{ address: host, family }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      return { kind: 'unresolved', reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
  }
  const d = decideDestination(addresses.map((a) => a.address), deny);
  return d.kind === 'deny' ? { kind: 'deny', address: d.address, cidr: d.cidr.text } : { kind: 'allow', addresses };
}
