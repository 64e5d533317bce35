/**
 * @module Where a forward-proxy request may go, after DNS (the I/O half of `--deny`): resolve the name, refuse if any
 * address is denied, and give the connection a lookup that re-checks, so a name that resolves differently a second
 * time (DNS rebinding) still cannot reach a denied range.
 */
import dns, { type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
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
export type LookupFunction = (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => void;

export const FERRY_ERR_FORWARD_DENIED = 'FERRY_ERR_FORWARD_DENIED';

/** A `lookup` for net.connect / undici's connector that fails with FERRY_ERR_FORWARD_DENIED for denied addresses. */
export function createGuardedLookup(deny: DenyList): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) { callback(err, []); return; }
      const d = decideDestination(addresses.map((a) => a.address), deny);
      if (d.kind === 'deny') {
        const e = new FerryError(FERRY_ERR_FORWARD_DENIED, `${hostname} resolves to ${d.address}, in denied range ${d.cidr.text}`, { source: 'downstream', status: 403 });
        callback(Object.assign(e, { errno: undefined }) as unknown as NodeJS.ErrnoException, []);
        return;
      }
      if ((options as LookupAllOptions).all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
