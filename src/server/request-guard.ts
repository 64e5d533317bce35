/**
 * @module The accept step of every ferry listener that forwards requests: `ferry proxy` (proxy/pipeline.ts,
 * proxy/create-proxy.ts) and the relay client (relay/relay-client.ts) run these same checks, so that one never relays
 * framing the other refuses (RFC 9112 §6, §3.2; RELIABILITY S1–S7, S13):
 *
 * - `checkRequestHead`: the raw head, before anything leaves — http/framing.ts (duplicate Host or Content-Length,
 *   Transfer-Encoding other than a lone final `chunked` (400/501), Connection naming a framing field, HTTP/0.9)
 *   plus the field count (431: Node would drop the extra fields silently);
 * - `markClosing` / `isClosing`: a refused request closes its connection, and nothing the parser still finds behind
 *   it is processed (it may be the refused request's body read another way);
 * - `trackInFlight` / `abortInFlight`: a parse error on a connection cancels the requests already handed over on it;
 * - `guardServer`: wires the last two into the server's parser errors, and lets the head check answer a missing
 *   Host (Node's own check answers 400 but still hands the requests pipelined behind it to the handler).
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { checkRequestFraming, type FramingResult } from '../http/framing.ts';
import type { HeaderList } from '../http/headers.ts';

export interface HeadLimits {
  /** More fields than this → 431. The server must be built with one more (guardServer does it) to see the excess. */
  maxHeadersCount: number;
  /** A declared Content-Length over this → 413 before any body byte is read; null: no limit. */
  maxBodyBytes: number | null;
}

/** Check a request head as received; the head to forward (framing fields in canonical form) or the refusal. */
export function checkRequestHead(httpVersion: string, headers: HeaderList, limits: HeadLimits): FramingResult {
  if (headers.length > limits.maxHeadersCount) return { kind: 'reject', status: 431, reason: `more than ${limits.maxHeadersCount} header fields` };
  return checkRequestFraming(httpVersion, headers, limits.maxBodyBytes);
}

/**
 * Sockets whose connection ends after the current reply. Bytes the parser still finds on them (the rest of a refused
 * request) must not produce a second answer as if they were a new request (RELIABILITY S13).
 */
const CLOSING = new WeakSet<object>();

/** The reply being written ends the connection; the caller also sends `Connection: close`. */
export function markClosing(socket: object | null): void {
  if (socket) CLOSING.add(socket);
}

export function isClosing(socket: object): boolean {
  return CLOSING.has(socket);
}

/** The requests being forwarded on each client socket (several when the client pipelines), with how to cancel each. */
const IN_FLIGHT = new WeakMap<object, Map<object, (item: object) => void>>();

/** `cancel` is called with `item` if the parser later refuses bytes on `socket` (pass a shared function, not a closure). */
export function trackInFlight<T extends object>(socket: object, item: T, cancel: (item: T) => void): void {
  let inFlight = IN_FLIGHT.get(socket);
  if (inFlight === undefined) IN_FLIGHT.set(socket, inFlight = new Map());
  inFlight.set(item, cancel as (item: object) => void);
}

export function untrackInFlight(socket: object, item: object): void {
  IN_FLIGHT.get(socket)?.delete(item);
}

/**
 * The parser refused bytes on `socket` after it had handed requests over (a bad chunk in a request's body, or garbage
 * pipelined behind it): that connection is answered 400 and closed, so cancel what those requests started. Node
 * parses the rest of a read before the next turn of the event loop, so a request whose forwarding waits for that turn
 * sends nothing at all when the bad bytes came in the same read (RELIABILITY S1); when they come later, it is cut.
 */
export function abortInFlight(socket: object): void {
  const inFlight = IN_FLIGHT.get(socket);
  if (!inFlight) return;
  for (const [item, cancel] of inFlight) cancel(item);
  inFlight.clear();
}

/**
 * Install the accept-step behaviour on a server built by createHardenedServer: the head check sees one field more
 * than `maxHeadersCount` (and answers 431 instead of Node truncating), answers a missing Host itself, a parser error
 * cancels the requests in flight on its connection, and a connection already ending after a refusal is closed
 * quietly instead of being answered again.
 */
export function guardServer(server: http.Server, maxHeadersCount: number): void {
  server.maxHeadersCount = maxHeadersCount + 1;
  (server as typeof server & { requireHostHeader: boolean }).requireHostHeader = false;
  const answerClientError = server.listeners('clientError') as Array<(err: Error, socket: Duplex) => void>;
  server.removeAllListeners('clientError');
  server.on('clientError', (err: Error, socket: Duplex) => {
    abortInFlight(socket);
    if (isClosing(socket)) { socket.end(); return; }
    for (const l of answerClientError) l.call(server, err, socket);
  });
}
