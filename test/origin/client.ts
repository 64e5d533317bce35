/** @module Small HTTP clients for the origin tests: node:http with a buffered body, and a raw socket. */
import http from 'node:http';
import net from 'node:net';

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** One request; the whole (small) response body is collected. */
export function request(url: string, options: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Send bytes exactly as given on a fresh connection and return everything the server sends until it closes. */
export function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    sock.on('error', reject);
    sock.setTimeout(10_000, () => { sock.destroy(); reject(new Error('raw request timed out')); });
    sock.write(text);
  });
}

/** Byte i of /bytes/N. */
export function pattern(first: number, last: number): Buffer {
  const b = Buffer.alloc(last - first + 1);
  for (let i = first; i <= last; i++) b[i - first] = i % 251;
  return b;
}

/** Poll until `pick` returns a non-empty list (log lines arrive a moment after the response); gives up after `timeoutMs`. */
export async function waitForLines<T>(pick: () => T[], timeoutMs = 5000): Promise<T[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = pick();
    if (got.length > 0 || Date.now() > until) return got;
    await new Promise((r) => setTimeout(r, 10));
  }
}
