/**
 * @module A test origin that says who it is: every answer's body is its name. `/hold` requests are held until
 * release() (so a test can keep many requests in flight across a reload); `/echo` answers with the name and the
 * body's length. Counts the requests it received and its open connections.
 */
import http from 'node:http';
import { once } from 'node:events';

export interface NamedOrigin {
  name: string;
  url: string;
  /** Requests received so far. */
  received(): number;
  /** Requests to /hold waiting for release(). */
  held(): number;
  release(): void;
  /** Open TCP connections (the proxy's pooled ones included). */
  connections(): Promise<number>;
  close(): Promise<void>;
}

export async function startNamedOrigin(name: string): Promise<NamedOrigin> {
  let received = 0;
  let waiting: Array<() => void> = [];
  let released = false;
  const server = http.createServer((req, res) => {
    received++;
    const answer = (extra = ''): void => { res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': name }); res.end(`${name}${extra}`); };
    if (req.url?.startsWith('/hold')) {
      req.resume();
      if (released) answer();
      else waiting.push(() => answer());
      return;
    }
    let bytes = 0;
    req.on('data', (c: Buffer) => { bytes += c.length; });
    req.on('end', () => answer(req.url?.startsWith('/echo') ? `:${bytes}` : ''));
  });
  // a long keep-alive (hinted to clients in Keep-Alive: timeout=60): pooled connections stay open until a client closes them
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const release = (): void => { released = true; const w = waiting; waiting = []; for (const f of w) f(); };
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    received: () => received,
    held: () => waiting.length,
    release,
    connections: () => new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    async close() {
      release();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Poll `check` until it is true, up to `timeoutMs`; returns the last result. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}
