/** @module Hop-by-hop fields (RFC 9110 §7.6.1): what a proxy removes before forwarding, in both directions. Pure. */
import type { HeaderList } from './headers.ts';

/**
 * Fields that describe one connection, never the message (RFC 9110 §7.6.1, RFC 9112 §6.1/§9.3, RFC 9110 §11.7.1–2).
 * `Proxy-Connection` is the non-standard pre-1.1 alias that some clients still send.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate',
]);

/** Fields a `Connection` option may never name: removing them would change the framing or the target (RELIABILITY S7). */
export const PROTECTED_FROM_CONNECTION: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'host']);

/** The connection options of every `Connection` line, lowercased (RFC 9110 §7.6.1: `Connection = #connection-option`). */
export function parseConnectionTokens(headers: HeaderList): string[] {
  const out: string[] = [];
  for (const [name, value] of headers) {
    if (name !== 'connection' && name !== 'proxy-connection') continue;
    for (const part of value.split(',')) {
      const t = part.trim().toLowerCase();
      if (t !== '') out.push(t);
    }
  }
  return out;
}

/** True when the peer asked for the connection to end after this message (RFC 9112 §9.6). */
export function hasCloseOption(headers: HeaderList): boolean {
  return parseConnectionTokens(headers).includes('close');
}

/** The common connection options, as sent (the exact spellings save a lowercase copy). */
const PLAIN_OPTIONS: ReadonlySet<string> = new Set(['keep-alive', 'close', 'Keep-Alive', 'Close']);

/** 'keep-alive' / 'close' when every Connection line holds only that kind of option ('close' if any says close). */
function plainConnectionOptions(headers: HeaderList): 'keep-alive' | 'close' | 'other' {
  let close = false;
  for (const [n, v] of headers) {
    if (n !== 'connection' && n !== 'proxy-connection') continue;
    const t = PLAIN_OPTIONS.has(v) ? v.toLowerCase() : v.trim().toLowerCase();
    if (t === 'close') close = true;
    else if (t !== 'keep-alive') return 'other';
  }
  return close ? 'close' : 'keep-alive';
}

export interface StripOptions {
  /** Keep `Upgrade` and `Connection: upgrade` (an upgrade that the proxy is relaying). */
  keepUpgrade?: boolean;
}

/** With plain connection options: a hop-by-hop field, or the field named `close` when the option was close. */
function dropPlain(name: string, close: boolean): boolean {
  return HOP_BY_HOP_HEADERS.has(name) || (close && name === 'close');
}

/** (a default of `{}` would be a new object per call: twice per proxied request) */
const NO_OPTIONS: StripOptions = Object.freeze({});

/**
 * A copy without the hop-by-hop fields and without every field the `Connection` lines name
 * (RFC 9110 §7.6.1: "a proxy or gateway MUST parse a received Connection header field before a message is
 * forwarded and, for each connection-option in this field, remove any header or trailer field(s) from the message
 * with the same name as the connection-option, and then remove the Connection header field itself").
 */
export function stripHopByHop(headers: HeaderList, options: StripOptions = NO_OPTIONS): HeaderList {
  let fast = true;
  for (const [n] of headers) if (HOP_BY_HOP_HEADERS.has(n)) { fast = false; break; }
  // Common case: no hop-by-hop field, so no Connection line either: nothing to parse, remove or copy.
  if (fast) return headers;
  const keepUpgrade = options.keepUpgrade === true;
  const plain = keepUpgrade ? 'other' : plainConnectionOptions(headers);
  if (plain !== 'other') {
    // Next most common: `Connection: keep-alive` or `close` (every Node response carries one). `keep-alive` is
    // hop-by-hop already; `close` still names a field called "close", if there is one.
    const close = plain === 'close';
    let kept = 0;
    for (let i = 0; i < headers.length; i++) if (!dropPlain(headers[i]![0], close)) kept++;
    const out = headers.slice(0, kept); // the copy at its final size (http/headers.ts, "Sizes"), overwritten in order
    for (let i = 0, j = 0; i < headers.length; i++) if (!dropPlain(headers[i]![0], close)) out[j++] = headers[i]!;
    return out;
  }
  const named = parseConnectionTokens(headers);
  const drop = new Set(named);
  const out: HeaderList = [];
  for (const h of headers) {
    const n = h[0];
    if (keepUpgrade && n === 'upgrade') { out.push(h); continue; }
    if (HOP_BY_HOP_HEADERS.has(n) || drop.has(n)) continue;
    out.push(h);
  }
  if (keepUpgrade && named.includes('upgrade')) out.push(['connection', 'upgrade']);
  return out;
}
