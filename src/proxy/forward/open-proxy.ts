/**
 * @module The open-proxy guard: a forward proxy reachable from other machines without authentication relays anyone's
 * traffic (spam, attacks, access to the internal network). Refuse to start that way unless told `--allow-open`. Pure.
 */
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addSubnet('::1', 128, 'ipv6');

/** 127.0.0.0/8, ::1, ::ffff:127.x, and "localhost". Wildcards (0.0.0.0, ::) are not loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  const v = isIP(h);
  // BlockList also matches IPv4-mapped forms (::ffff:127.0.0.1) against the IPv4 range.
  return v !== 0 && LOOPBACK.check(h, v === 4 ? 'ipv4' : 'ipv6');
}

export type OpenProxyDecision = { kind: 'ok' } | { kind: 'open-allowed' } | { kind: 'refuse'; reason: string };

export function decideOpenProxy(input: { listenHost: string; forward: boolean; hasAuth: boolean; allowOpen: boolean }): OpenProxyDecision {
  if (!input.forward || input.hasAuth || isLoopbackHost(input.listenHost)) return { kind: 'ok' };
  if (input.allowOpen) return { kind: 'open-allowed' };
  return {
    kind: 'refuse',
    reason: `refusing to run an open forward proxy on ${input.listenHost}: anyone who can reach it could use it. ` +
      'Add --proxy-auth-file FILE (or --proxy-auth USER:PASS), listen on 127.0.0.1, or pass --allow-open if you really mean it',
  };
}
