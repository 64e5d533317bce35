/**
 * @module Interim (1xx) responses on their way from the origin to the client (RFC 9110 §15.2): which ones a proxy
 * relays, with which fields, and their HTTP/1.1 wire form. Pure; the runner writes the bytes (proxy/pipeline.ts).
 *
 * - 100 Continue belongs to the Expect handshake, which the runner answers itself; 101 is an upgrade, not an
 *   interim answer (proxy/upgrade.ts). Every other 1xx (102 Processing, 103 Early Hints, …) is forwarded: "A proxy
 *   MUST forward 1xx responses unless the proxy itself requested the generation of the 1xx response" (§15.2).
 * - To HTTP/1.1 and HTTP/2 clients; never to an HTTP/1.0 client: "A server MUST NOT send a 1xx response to an HTTP/1.0 client" (§15.2).
 * - Hop-by-hop fields are removed as from any message (§7.6.1). Interim responses are never stored, and their
 *   fields never reach the final response (RFC 9111 §3: only final responses are stored).
 */
import { STATUS_CODES } from './node-http.ts';
import type { HeaderList } from './headers.ts';
import { isFieldValue, isToken } from './grammar.ts';
import { stripHopByHop } from './hop-by-hop.ts';


export interface InterimResponse { status: number; headers: HeaderList }

/**
 * At most this many interim responses are relayed per request: an origin may send any number (RFC 9110 §15.2 sets
 * no bound), and each one is written ahead of the final head whether or not the client reads.
 */
export const MAX_RELAYED_INTERIM = 16;

/**
 * The interim response to relay to a client speaking `clientVersion`, or null when it is not relayed; `relayed` is
 * how many this request already got.
 */
export function interimToRelay(status: number, headers: HeaderList, clientVersion: string, relayed = 0): InterimResponse | null {
  if (status < 102 || status > 199 || relayed >= MAX_RELAYED_INTERIM) return null;
  if (clientVersion !== '1.1' && clientVersion !== '2.0') return null; // HTTP/2: extra HEADERS frames (RFC 9113 §8.1)
  return { status, headers: stripHopByHop(headers) };
}

/**
 * `HTTP/1.1 103 Early Hints` + fields + empty line. The fields come from a strict parser (llhttp); a line that could
 * still break the framing (CR, LF or NUL, a name that is not a token) is left out rather than written.
 */
export function formatInterimHead(r: InterimResponse): string {
  let head = `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Informational'}\r\n`;
  for (const [n, v] of r.headers) if (isToken(n) && isFieldValue(v)) head += `${n}: ${v}\r\n`;
  return `${head}\r\n`;
}
