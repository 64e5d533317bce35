/**
 * @module The accept step of every ferry listener that forwards requests: `ferry proxy` (proxy/pipeline.ts,
 * proxy/create-proxy.ts) and the relay client (relay/relay-client.ts) run these same checks, so that one never relays
 * framing the other refuses (RFC 9112 §6, §3.2; RELIABILITY S1–S7, S13):
 *
 * - `checkRequestHead`: the raw head, before anything leaves — http/framing.ts (duplicate Host or Content-Length,
 *   Transfer-Encoding other than a lone final `chunked` (400/501), Connection naming a framing field, HTTP/0.9)
 *   plus the field count (431: Node would drop the extra fields silently);
 * - the connection state (closing marks, requests in flight) and the server hooks that apply it live in
 *   server/connection.ts, re-exported here for the callers of the accept step.
 */
import { checkRequestFraming, type FramingResult } from '../http/framing.ts';
import type { HeaderList } from '../http/headers.ts';

export interface HeadLimits {
  /** More fields than this → 431. The server must be built with one more (connection.ts acceptHooks does it) to see the excess. */
  maxHeadersCount: number;
  /** A declared Content-Length over this → 413 before any body byte is read; null: no limit. */
  maxBodyBytes: number | null;
}

/** Check a request head as received; the head to forward (framing fields in canonical form) or the refusal. */
export function checkRequestHead(httpVersion: string, headers: HeaderList, limits: HeadLimits): FramingResult {
  if (headers.length > limits.maxHeadersCount) return { kind: 'reject', status: 431, reason: `more than ${limits.maxHeadersCount} header fields` };
  return checkRequestFraming(httpVersion, headers, limits.maxBodyBytes);
}

export { abortInFlight, acceptHooks, isClosing, markClosing, trackInFlight, untrackInFlight } from './connection.ts';
