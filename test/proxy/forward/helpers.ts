/** @module Test helpers for the forward-proxy tests: raw CONNECT clients, small TCP servers. */
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

export function portOf(server: net.Server): number {
  return (server.address() as AddressInfo).port;
}

export async function listenLocal<T extends net.Server>(server: T): Promise<T> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    const s = server as Partial<http.Server>;
    if (typeof s.closeAllConnections === 'function') s.closeAllConnections();
  });
}

/** A TCP server that counts connections and runs `onSocket` for each. */
export async function startTcp(onSocket: (s: Socket) => void, options: net.ServerOpts = {}): Promise<{ server: net.Server; port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = net.createServer(options, (s) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  await listenLocal(server);
  return {
    server, port: portOf(server), connections: () => count,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(() => r())); },
  };
}

export interface ConnectResult { status: number; headers: http.IncomingHttpHeaders; socket: Socket; body: string }

/** Send `CONNECT target` to the proxy; resolves with the status and, on 2xx, the raw tunnel socket. */
export function connectThrough(proxyPort: number, target: string, headers: Record<string, string> = {}): Promise<ConnectResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: target, headers: { host: target, ...headers }, agent: false });
    req.on('connect', (res, socket, head) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        if (head.length > 0) socket.unshift(head);
        resolve({ status, headers: res.headers, socket, body: '' });
        return;
      }
      // Node's parser treats every CONNECT answer as the end of HTTP; a refusal's body is the rest of the socket.
      readAll(socket).then((rest) => {
        socket.destroy();
        resolve({ status, headers: res.headers, socket, body: Buffer.concat([head, rest]).toString('utf8') });
      }, reject);
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, socket: res.socket, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Send raw bytes to the proxy and read its whole answer (for refusals, which close the connection). */
export function rawExchange(port: number, request: string, options: { halfClose?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', reject);
    // Node's server drops a request whose client half-closed before the answer; keep the socket open when that matters.
    if (options.halfClose === false) s.write(request); else s.end(request);
    readAll(s).then((b) => resolve(b.toString('utf8')), reject);
  });
}

/** Everything a readable gives until it ends; rejects if it errors first. */
export function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}
