/**
 * @module relay-client's CONNECT tunnels: the same head checks as every other request, then one relay session
 * carrying the tunnel's bytes both ways (RFC 9110 §9.3.6); the application closing its end is how a tunnel ends.
 */
import type { IncomingMessage } from 'node:http';
import { http } from '../http/node-http.ts';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FerryError } from '../errors.ts';
import { fromRawHeaders } from '../http/headers.ts';
import { parseAuthorityTarget } from '../proxy/forward/request-target.ts';
import { checkRequestHead } from '../server/request-guard.ts';
import type { DownSink } from './client-session.ts';
import { drainedOrGone, HEAD_LIMITS, type RelayClientContext } from './relay-client-http.ts';

export async function relayTunnel(c: RelayClientContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const sock = socket as Socket;
  sock.on('error', () => { /* handled through the session */ });
  // The same head checks as every other request (a second Host or Proxy-Authorization, invalid fields).
  const checked = checkRequestHead(req.httpVersion, fromRawHeaders(req.rawHeaders), HEAD_LIMITS);
  if (checked.kind === 'reject') {
    c.log.info({ event: 'client-error', status: checked.status, reason: checked.reason }, 'rejected CONNECT');
    sock.end(`HTTP/1.1 ${checked.status} ${http.STATUS_CODES[checked.status] ?? 'Bad Request'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    return;
  }
  const t = parseAuthorityTarget(req.url ?? '');
  if (t.kind === 'invalid') {
    c.log.info({ event: 'client-error', status: 400, reason: t.reason }, 'rejected CONNECT');
    sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  const s = c.newSession();
  let failed = false;
  let appClosed = false;
  sock.on('close', () => { appClosed = true; s.abort(new Error('application closed the tunnel')); });
  try {
    await s.open({ kind: 'connect', host: t.authority.host, port: t.authority.port });
  } catch (err) {
    const status = err instanceof FerryError && err.status !== undefined ? err.status : 502;
    c.log.warn({ event: 'relay-connect-failed', session: s.id, target: req.url, err: (err as Error).message }, 'CONNECT through the relay failed');
    sock.end(`HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : status === 504 ? 'Gateway Timeout' : 'Bad Gateway'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    c.endSession(s, true);
    return;
  }
  sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) sock.unshift(head);
  const sink: DownSink = {
    head: () => { throw new Error('unexpected head in a tunnel'); },
    data: (pieces, written) => (writeAll(sock, pieces, written) ? Promise.resolve() : drainedOrGone(sock, 'tunnel closed')),
    end: () => { sock.end(); },
  };
  try {
    await Promise.all([s.sendUp(sock), s.receiveDown(sink, false)]);
  } catch (err) {
    // The application closing its end is how a tunnel normally finishes; anything else is a failure.
    if (appClosed && !(err instanceof FerryError)) return;
    failed = true;
    c.log.warn({ event: 'relay-tunnel-failed', session: s.id, target: req.url, err: (err as Error).message }, 'tunnel through the relay failed');
    sock.destroy();
  } finally {
    c.endSession(s, failed);
  }
}


function writeAll(sock: Socket, pieces: readonly Buffer[], written?: () => void): boolean {
  let ok = true;
  pieces.forEach((p, i) => { ok = sock.write(p, i === pieces.length - 1 ? written : undefined) && ok; });
  return ok;
}
