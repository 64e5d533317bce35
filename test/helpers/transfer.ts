/**
 * @module One checked transfer of a seeded body (RELIABILITY T6): a download of /random/SEED/SIZE whose bytes must
 * hash to the source's SHA-256, or an upload the origin fixture checks the same way. The outcome is `ok`, `loud`
 * (an error, a cut body, a non-200: the failure was visible) or `bad` (a 200 with wrong or missing bytes: never
 * allowed). Works straight to a server, through a forward proxy (absolute form), or over any socket (`createConnection`).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { hashStream, seededSha256, seededStream } from './seeded-body.ts';

export type Outcome = { kind: 'ok'; bytes: number } | { kind: 'loud'; why: string } | { kind: 'bad'; why: string };

export interface TransferSpec {
  kind: 'download' | 'upload';
  seed: number;
  size: number;
  /** Where to connect. */
  host?: string;
  port?: number;
  /** The origin (host:port) named in the URL: absolute form when `absolute`, Host otherwise. */
  origin: string;
  absolute?: boolean;
  query?: string;
  agent?: http.Agent | false;
  /** A ready socket to send the request on (e.g. an established CONNECT tunnel). */
  socket?: () => Promise<Duplex>;
  /** Give up (as `bad`: a hang is a bug) after this long; default 30 s. */
  guardMs?: number;
  headers?: Record<string, string>;
}

export async function transferSeeded(s: TransferSpec): Promise<Outcome> {
  let socket: Duplex | undefined;
  if (s.socket) {
    try { socket = await s.socket(); } catch (err) { return { kind: 'loud', why: `no socket: ${(err as Error).message}` }; }
  }
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => { if (!settled) { settled = true; clearTimeout(guard); resolve(o); } };
    const path = `/random/${s.seed}/${s.size}${s.query ?? ''}`;
    const want = seededSha256(s.seed, s.size);
    const req = http.request({
      host: s.host ?? '127.0.0.1', port: s.port, agent: socket ? undefined : (s.agent ?? false),
      ...(socket ? { createConnection: (() => socket) as never } : {}),
      method: s.kind === 'download' ? 'GET' : 'POST',
      path: s.absolute ? `http://${s.origin}${path}` : path,
      headers: { host: s.origin, ...(s.kind === 'upload' ? { 'content-length': String(s.size) } : {}), ...s.headers },
    }, (res) => {
      const parts: Buffer[] = [];
      if (s.kind === 'upload') res.on('data', (c: Buffer) => parts.push(c));
      const done = s.kind === 'download' ? hashStream(res) : new Promise<{ bytes: number; sha256: string }>((r, j) => {
        res.on('end', () => r({ bytes: 0, sha256: '' }));
        res.on('error', j);
        res.on('aborted', () => j(new Error('aborted')));
      });
      done.then(({ bytes, sha256 }) => {
        if (res.statusCode !== 200) { settle({ kind: 'loud', why: `status ${res.statusCode}` }); return; }
        if (s.kind === 'download') {
          settle(bytes === s.size && sha256 === want ? { kind: 'ok', bytes } : { kind: 'bad', why: `200 with ${bytes} bytes, sha ${sha256.slice(0, 12)}, want ${s.size} ${want.slice(0, 12)}` });
        } else {
          const text = Buffer.concat(parts).toString();
          settle(text === `ok ${s.size} ${want}` ? { kind: 'ok', bytes: s.size } : { kind: 'bad', why: `200 but origin said ${text}` });
        }
      }, (err: Error) => settle({ kind: 'loud', why: `body cut: ${err.message}` }));
    });
    const guard = setTimeout(() => { req.destroy(); settle({ kind: 'bad', why: `hung for ${s.guardMs ?? 30_000} ms` }); }, s.guardMs ?? 30_000);
    // a handed-in socket may be paused (a tunnel whose CONNECT answer was read): the parser is attached by now
    if (socket) req.once('socket', () => setImmediate(() => socket.resume()));
    req.on('error', (err) => settle({ kind: 'loud', why: `request failed: ${err.message}` }));
    if (s.kind === 'upload') seededStream(s.seed, s.size).pipe(req);
    else req.end();
  });
}
