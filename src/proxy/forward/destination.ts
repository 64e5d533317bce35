/**
 * @module Where a forward-proxy request may go, after DNS (the I/O half of `--deny`): resolve the name and refuse if
 * any address is denied. Callers then connect to the checked address (not the name again), so a name that resolves
 * differently a second time (DNS rebinding) cannot reach a denied range.
 */
import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { FerryError } from '../../errors.ts';
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

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** The shape net.connect, tls.connect, http.Agent and undici's connector accept as `lookup`. */
export type GuardedLookup = (hostname: string, options: { all?: boolean }, callback: LookupCallback) => void;

/**
 * A `lookup` for the sockets themselves: resolves like checkDestination and fails the connection (403) when an answer
 * is denied. The route's check gives the early, clear 403; this one closes the gap between that check and the connect
 * for names that stay names (https needs the name for SNI and the certificate), so a second, different DNS answer
 * (rebinding) cannot steer a connection into a denied range.
 */
export function createGuardedLookup(deny: DenyList, resolve: Resolver = systemResolver): GuardedLookup {
  return (hostname, options, callback) => {
    checkDestination(hostname, deny, resolve).then((check) => {
      if (check.kind === 'deny') {
        callback(new FerryError('FERRY_ERR_DESTINATION_DENIED', `Forbidden: ${hostname} resolved into a denied range (${check.cidr})`, { source: 'upstream', status: 403 }) as NodeJS.ErrnoException, '');
      } else if (check.kind === 'unresolved') {
        callback(Object.assign(new Error(`cannot resolve ${hostname}: ${check.reason}`), { code: check.reason }), '');
      } else if (check.addresses.length === 0) {
        callback(Object.assign(new Error(`cannot resolve ${hostname}: no address`), { code: 'ENOTFOUND' }), '');
      } else if (options.all) {
        callback(null, check.addresses);
      } else {
        const first = check.addresses[0]!;
        callback(null, first.address, first.family);
      }
    }, (err: unknown) => callback(err as NodeJS.ErrnoException, ''));
  };
}

/**
 * A `lookup` that answers addresses already resolved and checked (no second DNS query, so no rebinding), all of
 * them: net.connect tries them in order (autoSelectFamily), so a refused first address falls over to the next.
 */
export function fixedLookup(addresses: readonly LookupAddress[]): GuardedLookup {
  return (_hostname, options, callback) => {
    if (options.all) { callback(null, [...addresses]); return; }
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  };
}
