/** @module Resolving the forward-proxy flags (--forward, --connect-ports, --proxy-auth[-file], --deny, --allow-open) into ForwardOptions. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.ts';
import type { ForwardOptions } from '../options.ts';
import { parseCredentialsFile, parseUserPass, type Credentials } from './basic-auth.ts';
import { parseCidr } from './cidr.ts';
import { decideOpenProxy } from './open-proxy.ts';

export const DEFAULT_CONNECT_PORTS: readonly number[] = [443];

export interface ForwardFlags {
  forward: boolean;
  connectPorts?: readonly string[];
  proxyAuth?: string;
  proxyAuthFile?: string;
  deny?: readonly string[];
  allowOpen?: boolean;
  /** The host the proxy listens on (for the open-proxy guard). */
  listenHost: string;
}

export function parseConnectPorts(list: readonly string[]): number[] {
  return list.map((p) => {
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new UsageError(`--connect-ports: "${p}" is not a port (1-65535)`);
    return Number(p);
  });
}

/** null when --forward is off; throws UsageError for bad values and for an open proxy (exit 2). */
export function resolveForwardOptions(flags: ForwardFlags, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): ForwardOptions | null {
  const credentials: Credentials[] = [];
  if (flags.proxyAuth !== undefined) {
    const c = parseUserPass(flags.proxyAuth);
    if (!c) throw new UsageError('--proxy-auth: expected USER:PASS');
    credentials.push(c);
  }
  if (flags.proxyAuthFile !== undefined) {
    let text: string;
    try { text = readFile(flags.proxyAuthFile); } catch (err) {
      throw new UsageError(`--proxy-auth-file: cannot read ${flags.proxyAuthFile}: ${(err as Error).message}`);
    }
    const parsed = parseCredentialsFile(text);
    if (parsed.kind === 'invalid') throw new UsageError(`--proxy-auth-file ${flags.proxyAuthFile}: line ${parsed.line}: ${parsed.reason}`);
    if (parsed.credentials.length === 0) throw new UsageError(`--proxy-auth-file ${flags.proxyAuthFile}: no USER:PASS lines`);
    credentials.push(...parsed.credentials);
  }
  const deny = (flags.deny ?? []).map((d) => {
    const r = parseCidr(d);
    if (r.kind === 'invalid') throw new UsageError(`--deny: ${r.reason}`);
    return r.cidr.text;
  });
  const connectPorts = flags.connectPorts ? parseConnectPorts(flags.connectPorts) : [...DEFAULT_CONNECT_PORTS];
  if (!flags.forward) return null;
  const open = decideOpenProxy({ listenHost: flags.listenHost, forward: true, hasAuth: credentials.length > 0, allowOpen: flags.allowOpen ?? false });
  if (open.kind === 'refuse') throw new UsageError(open.reason);
  return { connectPorts, credentials, deny, allowOpen: flags.allowOpen ?? false };
}
