/**
 * @module Rapid-reset protection for HTTP/2 listeners (CVE-2023-44487; RFC 9113 §10.5): a session whose streams are
 * reset more than `maxResetsPerSecond` times within a second gets GOAWAY(ENHANCE_YOUR_CALM) and is closed, with one
 * log line. Each reset stream has already cost a trip into the runner (and maybe upstream), so the bound is per
 * connection and far below what nghttp2's own limit (bursts of 1000) lets through.
 *
 * A stream counts when it closes with an error code other than NO_ERROR — a client's RST_STREAM, whatever code it
 * carries. ferry's own resets (a cut response) count too: those follow an upstream failure, not a client's choice,
 * but a session whose upstream fails a hundred streams a second gains nothing from staying open.
 *
 * Streams node:http2 refuses on its own never reach this guard: when many writes of a flood land in one read, slots of
 * streams already reset are freed only at setImmediate, so streams past the concurrency limit are refused inside
 * nghttp2 (cheap: no trip into the runner). A sustained flood is therefore cut after a few hundred streams, not at
 * exactly `limit + 1` (test/server/h2-hardening.test.ts measures it; without this guard nghttp2 alone let ~1 200 by).
 * nghttp2's own limit stays behind it as a backstop: a process starved of CPU long enough for 1 000+ resets to
 * wait in one socket read has them all counted by nghttp2 before this guard's turn, and the session ends with its
 * GOAWAY(INTERNAL_ERROR) and no log line; the connection is closed either way.
 */
import type { EventEmitter } from 'node:events';
import type { ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { loadHttp2 } from '../http/lazy-builtins.ts';
import type { Logger } from './logger.ts';

export const DEFAULT_H2_MAX_RESETS_PER_SECOND = 100;

export interface H2GuardOptions {
  /** Stream resets per session per second above which the session is closed (default 100). */
  maxResetsPerSecond?: number;
  log?: Logger;
}

/** Watch every session `server` (an http2 server, plain or secure) accepts. */
export function guardH2Sessions(server: EventEmitter, o: H2GuardOptions): void {
  const limit = o.maxResetsPerSecond ?? DEFAULT_H2_MAX_RESETS_PER_SECOND;
  const { constants } = loadHttp2(); // an HTTP/2 server exists, so node:http2 is loaded already
  server.on('session', (session: ServerHttp2Session) => {
    // a token bucket (limit tokens, refilled at limit per second): any burst of more than `limit` resets within a
    // second trips it, wherever the burst falls (a window counted from the session's start let a burst straddling
    // its boundary through with up to twice the limit)
    let tokens = limit;
    let last = performance.now();
    let tripped = false;
    const onClose = function (this: ServerHttp2Stream): void {
      if (tripped || this.rstCode === undefined || this.rstCode === constants.NGHTTP2_NO_ERROR) return;
      const now = performance.now();
      tokens = Math.min(limit, tokens + ((now - last) * limit) / 1_000) - 1;
      last = now;
      if (tokens >= 0) return;
      tripped = true;
      o.log?.warn({ event: 'h2-rapid-reset', clientAddress: session.socket?.remoteAddress, limit },
        `HTTP/2 client reset more than ${limit} streams in a second: GOAWAY(ENHANCE_YOUR_CALM), connection closed`);
      // destroy(code): the final GOAWAY carries ENHANCE_YOUR_CALM (RFC 9113 §7), then the socket closes (destroy(undefined,
      // code) would send NO_ERROR: node takes a number as first argument for the code); the session error this raises
      // is only emitted as the server's 'sessionError'
      session.destroy(constants.NGHTTP2_ENHANCE_YOUR_CALM as unknown as Error);
    };
    // a stream the client reset in the same read as its HEADERS may already be closed when 'stream' is emitted (its
    // 'close' gone by): count it at once, or a flood of such streams would never be seen
    session.on('stream', (stream: ServerHttp2Stream) => { if (stream.closed) onClose.call(stream); else stream.once('close', onClose); });
  });
}
