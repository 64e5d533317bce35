/**
 * CONNECT on an HTTP/2 stream (RFC 9113 §8.5) in forward mode, and RFC 8441 extended CONNECT (WebSocket over h2)
 * passed to an HTTP/1.1 WebSocket server as an Upgrade — through ferry's TLS h2 listener, with node:http2's client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { resolveForwardOptions } from '../../src/proxy/forward/forward-options.ts';
import { listenTls, startProxy, waitFor, type RunningProxy, type TlsListener } from '../fixtures/proxy.ts';
import { h2connect } from '../helpers/h2-client.ts';
import { localhostCert } from '../helpers/certs.ts';
import { startTcp } from './forward/helpers.ts';

const cert = localhostCert();

/** The product's TLS listener (h2 and http/1.1 by ALPN) around the proxy. */
const h2Listener = (p: RunningProxy): Promise<TlsListener> => listenTls(p.proxyServer.proxy, cert);

function responseOf(stream: ClientHttp2Stream): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => { stream.once('response', resolve); stream.once('error', reject); });
}

function readN(stream: ClientHttp2Stream, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= n) { stream.off('data', onData); resolve(Buffer.concat(chunks)); }
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

describe('CONNECT on an h2 stream (forward mode)', () => {
  let echo: Awaited<ReturnType<typeof startTcp>>;
  let proxy: RunningProxy;
  let tls: TlsListener;
  let session: ClientHttp2Session;

  before(async () => {
    echo = await startTcp((s) => s.pipe(s));
    const forward = resolveForwardOptions({ forward: true, listenHost: '127.0.0.1', connectPorts: [String(echo.port)] })!;
    proxy = await startProxy({ forward });
    tls = await h2Listener(proxy);
    session = await h2connect(tls.url, cert.cert);
  });
  after(async () => {
    session.close();
    await tls.close();
    await proxy.close();
    await echo.close();
  });

  it('opens a tunnel: 200 on the stream, then bytes both ways; END_STREAM half-closes; one access line', async () => {
    const stream = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${echo.port}` }, { endStream: false });
    const head = await responseOf(stream);
    assert.equal(head[':status'], 200);
    const payload = Buffer.alloc(300_000, 7);
    const back = readN(stream, payload.length);
    stream.write(payload);
    assert.deepEqual(await back, payload);
    stream.end();
    await once(stream, 'close');
    await waitFor(() => proxy.logs.some((l) => l.event === 'access' && l.method === 'CONNECT' && l.status === 200), 'CONNECT access line');
    const line = proxy.logs.find((l) => l.event === 'access' && l.method === 'CONNECT')!;
    assert.equal(line.protocol, 'HTTP/2.0');
    assert.equal(line.bytesIn, payload.length);
  });

  it('HTTP/1.1 CONNECT on the same TLS port (a client offering no ALPN gets HTTP/1.1) still tunnels', async () => {
    const port = Number(new URL(tls.url).port);
    const socket = await new Promise<import('node:net').Socket>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, method: 'CONNECT', path: `127.0.0.1:${echo.port}`, ca: cert.cert, servername: 'localhost', agent: false });
      req.on('connect', (res, sock) => { assert.equal(res.statusCode, 200); resolve(sock); });
      req.on('error', reject);
      req.end();
    });
    const back = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write('ping');
    assert.equal((await back).toString(), 'ping');
    socket.destroy();
  });

  it('refuses a port outside --connect-ports with 403 on the stream, the session staying usable', async () => {
    const stream = session.request({ ':method': 'CONNECT', ':authority': '127.0.0.1:1' }, { endStream: false });
    const head = await responseOf(stream);
    assert.equal(head[':status'], 403);
    stream.resume();
    await once(stream, 'close');
    const again = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${echo.port}` }, { endStream: false });
    assert.equal((await responseOf(again))[':status'], 200);
    again.close();
  });
});

describe('CONNECT on h2 without --forward', () => {
  it('is refused with 405, not tunnelled', async () => {
    const proxy = await startProxy({ upstream: 'http://127.0.0.1:9' });
    const tls = await h2Listener(proxy);
    const s = await h2connect(tls.url, cert.cert);
    try {
      const stream = s.request({ ':method': 'CONNECT', ':authority': 'example.com:443' }, { endStream: false });
      assert.equal((await responseOf(stream))[':status'], 405);
      stream.close();
    } finally {
      s.close();
      await tls.close();
      await proxy.close();
    }
  });
});

/** A masked client text frame (RFC 6455 §5.2), payload < 126 bytes. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

describe('WebSocket over h2 (RFC 8441) to an HTTP/1.1 WebSocket server', () => {
  it('extended CONNECT becomes an Upgrade upstream (fresh Sec-WebSocket-Key), 200 on the stream, frames relayed', async () => {
    const handshakes: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((_req, res) => res.writeHead(426).end());
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      handshakes.push(req.headers);
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = await startProxy({ upstream: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const tls = await h2Listener(proxy);
    const s = await h2connect(tls.url, cert.cert);
    try {
      if (!s.remoteSettings.enableConnectProtocol) await once(s, 'remoteSettings');
      assert.equal(s.remoteSettings.enableConnectProtocol, true);
      const stream = s.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/chat', ':authority': new URL(tls.url).host, 'sec-websocket-version': '13' }, { endStream: false });
      const head = await responseOf(stream);
      assert.equal(head[':status'], 200);
      assert.equal(head['sec-websocket-accept'], undefined);
      const reply = readN(stream, 7);
      stream.write(clientFrame('hello'));
      // the server's unmasked echo: FIN+text, length 5, "hello"
      assert.deepEqual(await reply, Buffer.concat([Buffer.from([0x81, 5]), Buffer.from('hello')]));
      assert.equal(handshakes.length, 1);
      assert.equal(handshakes[0]!.upgrade, 'websocket');
      assert.match(String(handshakes[0]!['sec-websocket-key']), /^[A-Za-z0-9+/]{22}==$/);
      assert.equal(handshakes[0]!.via, '2 ferry');
      stream.close();
    } finally {
      s.close();
      await tls.close();
      await proxy.close();
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      server.close();
    }
  });
});
