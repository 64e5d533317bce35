/**
 * @module Client connection state, in one place: what ferry knows about a client connection beyond one request.
 *
 * - closing: the connection ends after the reply being written (a refusal with `Connection: close`); bytes the
 *   parser still finds on it (the rest of a refused request) must not produce a second answer as if they were a new
 *   request (RFC 9112 §9.6; RELIABILITY S13);
 * - in flight: the requests being forwarded on it (several when the client pipelines), with how to cancel each, so
 *   that a parser error on the connection cancels them (RELIABILITY S1);
 * - the hooks the hardened server (server/http-server.ts) takes to apply both, instead of being un-hardened by its
 *   caller (`acceptHooks`);
 * - the private Node fields ferry still reads, each behind one named function with the reason.
 *
 * The state is keyed by the socket object in weak collections (a connection's entries go with it); the requests are
 * tracked by the caller's own per-request object and a shared cancel function, so tracking allocates no closure.
 */
import type { ServerResponse } from 'node:http';
import type { ClientErrorHook } from './http-server.ts';

const CLOSING = new WeakSet<object>();

/**
 * The requests in flight on one connection. Nearly always one at a time (HTTP/1.1 without pipelining), so that one
 * is held in fields and only further ones go to a Map: a Map that gets one entry and loses it again per request
 * rebuilds its table every few requests (about 150 bytes per request, issue 13). `first` is the oldest whenever it
 * is set (it is only filled while `more` is empty), so cancelling `first` then `more` keeps the order of arrival.
 */
interface InFlight {
  first: object | null;
  firstCancel: ((item: object) => void) | null;
  more: Map<object, (item: object) => void> | null;
}
const IN_FLIGHT = new WeakMap<object, InFlight>();

/** The reply being written ends the connection; the caller also sends `Connection: close`. */
export function markClosing(socket: object | null): void {
  if (socket) CLOSING.add(socket);
}

export function isClosing(socket: object): boolean {
  return CLOSING.has(socket);
}

/** `cancel` is called with `item` if the parser later refuses bytes on `socket` (pass a shared function, not a closure). */
export function trackInFlight<T extends object>(socket: object, item: T, cancel: (item: T) => void): void {
  let inFlight = IN_FLIGHT.get(socket);
  if (inFlight === undefined) IN_FLIGHT.set(socket, inFlight = { first: null, firstCancel: null, more: null });
  if (inFlight.first === null && (inFlight.more === null || inFlight.more.size === 0)) {
    inFlight.first = item;
    inFlight.firstCancel = cancel as (item: object) => void;
  } else (inFlight.more ??= new Map()).set(item, cancel as (item: object) => void);
}

export function untrackInFlight(socket: object, item: object): void {
  const inFlight = IN_FLIGHT.get(socket);
  if (inFlight === undefined) return;
  if (inFlight.first === item) { inFlight.first = null; inFlight.firstCancel = null; } else inFlight.more?.delete(item);
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
  const { first, firstCancel, more } = inFlight;
  inFlight.first = null;
  inFlight.firstCancel = null;
  inFlight.more = null;
  if (first !== null) firstCancel!(first);
  if (more !== null) for (const [item, cancel] of more) cancel(item);
}

/**
 * A parser error on a connection: cancel the requests in flight on it; a connection already ending after a refusal is
 * closed quietly (true: handled) instead of being answered again.
 */
const onParserError: ClientErrorHook = (_err, socket) => {
  abortInFlight(socket);
  if (!isClosing(socket)) return false;
  socket.end();
  return true;
};

/**
 * The accept step's options for createHardenedServer, for every listener that forwards requests (`ferry proxy`, the
 * relay client): one field more than `maxHeadersCount` reaches the head check (which answers 431 instead of Node
 * dropping the extra fields silently), a missing Host is answered by the head check (Node's own check answers 400 but
 * still hands requests pipelined behind it to the handler), and parser errors go through `onParserError`.
 */
export function acceptHooks(maxHeadersCount: number): { maxHeadersCount: number; requireHostHeader: false; onClientError: ClientErrorHook } {
  return { maxHeadersCount: maxHeadersCount + 1, requireHostHeader: false, onClientError: onParserError };
}

/**
 * Whether Node already wrote `100 Continue` for this response. Private field `_sent100`: Node sends it itself when
 * the handler is embedded without a 'checkContinue' listener, and a second one would be a protocol error; there is
 * no public accessor (Node 24).
 */
export function continueAlreadySent(res: ServerResponse): boolean {
  return (res as ServerResponse & { _sent100?: boolean })._sent100 === true;
}

/**
 * Whether this response is the last one server.maxRequestsPerSocket allows on its connection. Undocumented field
 * `maxRequestsOnConnectionReached`: at the limit Node only writes `Connection: close` and then answers 503 to every
 * further request on a connection it keeps open; reading it lets ferry really close (RELIABILITY R6).
 */
export function requestLimitReached(res: ServerResponse): boolean {
  return (res as ServerResponse & { maxRequestsOnConnectionReached?: boolean }).maxRequestsOnConnectionReached === true;
}
