/** @module node:http2 requests for tests: one exchange on a session, the reply collected (status, headers, body). */
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';

export interface H2Reply { status: number; headers: IncomingHttpHeaders; body: Buffer; interim: IncomingHttpHeaders[]; trailers: IncomingHttpHeaders | null }

/** `url`: https://… (certificate `ca` trusted) or http://… (prior knowledge). */
export function h2connect(url: string, ca?: Buffer | string, settings?: http2.Settings): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url, { ...(ca ? { ca } : {}), ...(settings ? { settings } : {}) });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/** One request; `body` is written with backpressure when a stream, all at once when a buffer. */
export function h2request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string | Readable): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    const interim: IncomingHttpHeaders[] = [];
    let head: IncomingHttpHeaders | null = null;
    let trailers: IncomingHttpHeaders | null = null;
    const chunks: Buffer[] = [];
    req.on('headers', (h) => interim.push(h));
    req.on('response', (h) => { head = h; });
    req.on('trailers', (t) => { trailers = t; });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(head?.[':status'] ?? 0), headers: head ?? {}, body: Buffer.concat(chunks), interim, trailers }));
    req.on('error', reject);
    if (body === undefined) return;
    if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}
