/**
 * HTTP/2 into the proxy (issue 14): a TLS listener offering h2 + http/1.1 by ALPN (server/tls-listener.ts, the listener `--tls-cert` makes) and `--h2c`
 * on the plain listener, both in front of the same runner. Each feature is checked over h2 against a real origin
 * (`ferry origin`'s handler for Range) and a recording HTTP/1.1 upstream that shows what ferry sent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createOrigin } from '../../src/origin/create-origin.ts';
import { resolveJwtOptions } from '../../src/proxy/filters/jwt-config.ts';
import { listenTls, startProxy, waitFor, type RunningProxy, type TlsListener } from '../fixtures/proxy.ts';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';
import { h2connect, h2request } from '../helpers/h2-client.ts';
import { boundaryOf, parseByteranges } from '../helpers/byteranges.ts';
import { localhostCert } from '../helpers/certs.ts';

const run = promisify(execFile);
const cert = localhostCert();
const DATA = randomBytes(100_000);
let dir: string;
let originServer: http.Server;
let originUrl: string;
let upstream: RecordingUpstream;
let proxy: RunningProxy;
let tls: TlsListener;
let tlsUrl: string;

/** The proxy (with --h2c) in front of `target`, plus the product's TLS listener around the same handler. */
async function startH2Proxy(target: string, extra: Parameters<typeof startProxy>[0] = {}): Promise<{ proxy: RunningProxy; tls: TlsListener; tlsUrl: string }> {
  const p = await startProxy({ upstream: target, h2c: true, ...extra });
  const s = await listenTls(p.proxyServer.proxy, cert);
  return { proxy: p, tls: s, tlsUrl: s.url };
}

const closeTls = (s: TlsListener): Promise<void> => s.close();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-h2-'));
  writeFileSync(join(dir, 'data.bin'), DATA);
  const origin = createOrigin({ root: dir });
  originServer = http.createServer(origin.handler);
  await new Promise<void>((resolve) => originServer.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(originServer.address() as AddressInfo).port}`;
  upstream = await startRecordingUpstream((req, res) => {
    if (req.url === '/hints') {
      res.writeEarlyHints({ link: '</a.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'keep-alive', 'keep-alive': 'timeout=5' }).end('final');
      return true;
    }
    if (req.url === '/trailers' || req.url === '/trailers-big') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write(req.url === '/trailers' ? 'body ' : 'x'.repeat(4 * 1024 * 1024));
      res.addTrailers({ 'x-checksum': 'sha256=abc', 'content-type': 'text/html' });
      res.end('end');
      return true;
    }
    if (req.url === '/slow') {
      req.resume();
      setTimeout(() => res.writeHead(200, { 'content-length': 4 }).end('slow'), 300);
      return true;
    }
    if (req.url === '/cacheable') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=60', 'content-length': 6 }).end('stored');
      return true;
    }
    return false;
  });
  ({ proxy, tls, tlsUrl } = await startH2Proxy(upstream.url));
});

after(async () => {
  await closeTls(tls);
  await proxy.close();
  await upstream.close();
  await new Promise<void>((resolve) => originServer.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('h2 over TLS (ALPN h2) into the same runner', () => {
  it('translates the h2 request exactly: request line from pseudo-headers, Host from :authority, cookies joined with "; ", Via 2 ferry, X-Forwarded-Proto https', async () => {
    const s = await h2connect(tlsUrl, cert.cert);
    try {
      const r = await h2request(s, { ':method': 'GET', ':path': '/headers?q=1', cookie: ['a=1', 'b=2'], 'x-custom': 'v' });
      assert.equal(r.status, 200);
      const seen = JSON.parse(r.body.toString('utf8')) as { method: string; url: string; httpVersion: string; rawHeaders: string[] };
      assert.equal(seen.method, 'GET');
      assert.equal(seen.url, '/headers?q=1');
      assert.equal(seen.httpVersion, '1.1');
      const h = new Map<string, string[]>();
      for (let i = 0; i < seen.rawHeaders.length; i += 2) {
        const n = seen.rawHeaders[i]!.toLowerCase();
        h.set(n, [...(h.get(n) ?? []), seen.rawHeaders[i + 1]!]);
      }
      assert.deepEqual(h.get('host'), [new URL(tlsUrl).host]);
      assert.deepEqual(h.get('cookie'), ['a=1; b=2']);
      assert.deepEqual(h.get('via'), ['2 ferry']);
      assert.deepEqual(h.get('x-forwarded-proto'), ['https']);
      assert.deepEqual(h.get('x-custom'), ['v']);
      assert.equal(h.has(':authority'), false);
      // the access log records the protocol the client spoke
      await waitFor(() => proxy.logs.some((l) => l.event === 'access' && l.path === '/headers?q=1'), 'access line');
      const line = proxy.logs.find((l) => l.event === 'access' && l.path === '/headers?q=1')!;
      assert.equal(line.protocol, 'HTTP/2.0');
    } finally { s.close(); }
  });

  it('drops connection-specific fields of the upstream response (RFC 9113 §8.2.2) and relays 103 Early Hints as an interim HEADERS frame', async () => {
    const s = await h2connect(tlsUrl, cert.cert);
    try {
      const r = await h2request(s, { ':path': '/hints' });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'final');
      assert.equal(r.headers.connection, undefined);
      assert.equal(r.headers['keep-alive'], undefined);
      assert.deepEqual(r.interim.map((h) => h[':status']), [103]);
      assert.equal(r.interim[0]!.link, '</a.css>; rel=preload; as=style');
    } finally { s.close(); }
  });

  it('relays the upstream\'s trailer section as trailing HEADERS (a framing field in it is dropped)', async () => {
    const s = await h2connect(tlsUrl, cert.cert);
    try {
      const r = await h2request(s, { ':path': '/trailers' });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'body end');
      assert.equal(r.trailers?.['x-checksum'], 'sha256=abc');
      assert.equal(r.trailers?.['content-type'], undefined);
      // a body that streams (piped, not already complete when the head went out)
      const big = await h2request(s, { ':path': '/trailers-big' });
      assert.equal(big.body.length, 4 * 1024 * 1024 + 3);
      assert.equal(big.trailers?.['x-checksum'], 'sha256=abc');
    } finally { s.close(); }
  });

  it('an upstream that dies mid-body resets the h2 stream: the client never sees a clean end of a truncated body', async () => {
    const s = await h2connect(tlsUrl, cert.cert);
    try {
      await assert.rejects(h2request(s, { ':path': '/die/100000' }));
      // the session survives a stream reset
      assert.equal((await h2request(s, { ':path': '/' })).status, 200);
    } finally { s.close(); }
  });

  it('streams a request body up and the echo down (no Content-Length: chunked to the HTTP/1.1 upstream), bytes intact', async () => {
    const s = await h2connect(tlsUrl, cert.cert);
    try {
      const body = randomBytes(8 * 1024 * 1024);
      const r = await h2request(s, { ':method': 'POST', ':path': '/echo' }, body);
      assert.equal(r.status, 200);
      assert.equal(createHash('sha256').update(r.body).digest('hex'), createHash('sha256').update(body).digest('hex'));
    } finally { s.close(); }
  });

  it('answers /stats and /metrics itself', async () => {
    const s = await h2connect(tlsUrl, cert.cert);
    try {
      const stats = await h2request(s, { ':path': '/stats', accept: 'application/json' });
      assert.equal(stats.status, 200);
      assert.ok(JSON.parse(stats.body.toString()));
      const metrics = await h2request(s, { ':path': '/metrics' });
      assert.equal(metrics.status, 200);
      assert.match(metrics.body.toString(), /# TYPE/);
    } finally { s.close(); }
  });

  it('curl --http2 negotiates h2 by ALPN; curl --http1.1 on the same port still gets HTTP/1.1', async () => {
    const port = new URL(tlsUrl).port;
    const base = ['-s', '--cacert', cert.certFile, '--resolve', `localhost:${port}:127.0.0.1`, '-o', '/dev/null', '-w', '%{http_version} %{http_code}'];
    const h2 = await run('curl', [...base, '--http2', `${tlsUrl}/`]);
    assert.equal(h2.stdout, '2 200');
    const h1 = await run('curl', [...base, '--http1.1', `${tlsUrl}/`]);
    assert.equal(h1.stdout, '1.1 200');
  });
});

describe('h2 edges: ALPN, Expect: 100-continue, a refused upload', () => {
  it('openssl s_client offered h2 gets h2 by ALPN; offered only http/1.1 gets http/1.1', async () => {
    const port = new URL(tlsUrl).port;
    const ask = (alpn: string) => new Promise<string>((resolve, reject) => {
      const p = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-alpn', alpn], (err, stdout) => (err && !stdout ? reject(err) : resolve(stdout)));
      p.stdin!.end();
    });
    assert.match(await ask('h2,http/1.1'), /ALPN protocol: h2/);
    assert.match(await ask('http/1.1'), /ALPN protocol: http\/1\.1/);
  });

  it('Expect: 100-continue over h2: the 100 comes after the upstream asked for the body, then the answer', async () => {
    const s = await h2connect(tlsUrl, cert.cert);
    try {
      const body = Buffer.alloc(100_000, 3);
      const r = await new Promise<{ continued: boolean; status: number; bytes: number }>((resolve, reject) => {
        const req = s.request({ ':method': 'POST', ':path': '/echo', expect: '100-continue', 'content-length': String(body.length) }, { endStream: false });
        let continued = false;
        let status = 0;
        let bytes = 0;
        req.on('continue', () => { continued = true; req.end(body); });
        req.on('response', (h) => { status = Number(h[':status']); });
        req.on('data', (c: Buffer) => { bytes += c.length; });
        req.on('end', () => resolve({ continued, status, bytes }));
        req.on('error', reject);
      });
      assert.deepEqual(r, { continued: true, status: 200, bytes: body.length });
    } finally { s.close(); }
  });

  it('a declared body over --max-body is refused 413 on the stream, the session staying usable', async () => {
    const p = await startH2Proxy(upstream.url, { maxBodyBytes: 1000 });
    const s = await h2connect(p.tlsUrl, cert.cert);
    try {
      const r = await h2request(s, { ':method': 'POST', ':path': '/echo', 'content-length': '5000' }, Buffer.alloc(5000));
      assert.equal(r.status, 413);
      assert.equal((await h2request(s, { ':path': '/' })).status, 200);
    } finally { s.close(); await closeTls(p.tls); await p.proxy.close(); }
  });
});

describe('--h2c: cleartext HTTP/2 with prior knowledge beside HTTP/1.1 on one port', () => {
  it('curl --http2-prior-knowledge gets HTTP/2, plain curl HTTP/1.1, both proxied (X-Forwarded-Proto http)', async () => {
    const base = ['-s', '-w', ' %{http_version}'];
    const h2 = await run('curl', [...base, '--http2-prior-knowledge', `${proxy.url}/headers`]);
    assert.match(h2.stdout, / 2$/);
    const seen = JSON.parse(h2.stdout.replace(/ 2$/, '')) as { rawHeaders: string[] };
    const via = seen.rawHeaders[seen.rawHeaders.findIndex((n) => n.toLowerCase() === 'via') + 1];
    assert.equal(via, '2 ferry');
    const proto = seen.rawHeaders[seen.rawHeaders.findIndex((n) => n.toLowerCase() === 'x-forwarded-proto') + 1];
    assert.equal(proto, 'http');
    const h1 = await run('curl', [...base, `${proxy.url}/`]);
    assert.equal(h1.stdout, 'ok 1.1');
  });

  it('a graceful close lets the h2c stream in flight finish (GOAWAY), then the port is closed', async () => {
    const p = await startProxy({ upstream: upstream.url, h2c: true });
    const s = await h2connect(p.url);
    const inFlight = h2request(s, { ':path': '/slow' });
    await new Promise((r) => setTimeout(r, 100));
    const closing = p.proxyServer.close();
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'slow');
    await closing;
    await assert.rejects(h2connect(p.url));
    s.destroy();
    p.proxyServer.destroy();
  });
});

describe('Range over h2 (ferry origin behind)', () => {
  let rp: Awaited<ReturnType<typeof startH2Proxy>>;
  before(async () => { rp = await startH2Proxy(originUrl); });
  after(async () => { await closeTls(rp.tls); await rp.proxy.close(); });

  it('?range= single and multipart, Range, and the 416 pair, over h2 as over HTTP/1.1', async () => {
    const s = await h2connect(rp.tlsUrl, cert.cert);
    try {
      const single = await h2request(s, { ':path': '/data.bin?range=10-19' });
      assert.equal(single.status, 206);
      assert.deepEqual(single.body, DATA.subarray(10, 20));
      const header = await h2request(s, { ':path': '/data.bin', range: 'bytes=100-109' });
      assert.equal(header.status, 206);
      assert.deepEqual(header.body, DATA.subarray(100, 110));
      const multi = await h2request(s, { ':path': '/data.bin?range=0-4,50-59' });
      assert.equal(multi.status, 206);
      const parts = parseByteranges(multi.body, boundaryOf(String(multi.headers['content-type'])));
      assert.deepEqual(parts.map((p) => p.body), [DATA.subarray(0, 5), DATA.subarray(50, 60)]);
      const bad = await h2request(s, { ':path': '/data.bin', range: 'bytes=200000-' });
      assert.equal(bad.status, 416);
      assert.equal(bad.headers['content-range'], `bytes */${DATA.length}`);
    } finally { s.close(); }
  });

  it('the cache stores an h2 response and serves the next h2 request from it', async () => {
    const cp = await startH2Proxy(upstream.url, { cache: 'memory' });
    const s = await h2connect(cp.tlsUrl, cert.cert);
    try {
      const first = await h2request(s, { ':path': '/cacheable' });
      const second = await h2request(s, { ':path': '/cacheable' });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(second.body.toString(), 'stored');
      assert.match(String(second.headers['cache-status']), /hit/);
      assert.equal(upstream.requests.filter((r) => r.url === '/cacheable').length, 1);
    } finally { s.close(); await closeTls(cp.tls); await cp.proxy.close(); }
  });
});

describe('JWT over h2', () => {
  it('signs the upstream request of an h2 stream and drops a forged token', async () => {
    const jwt = resolveJwtOptions({}, { FERRY_JWT_SECRET: 'k'.repeat(64) })!;
    const jp = await startH2Proxy(upstream.url, { jwt });
    const s = await h2connect(jp.tlsUrl, cert.cert);
    try {
      const r = await h2request(s, { ':path': '/headers', 'x-my-jwt': 'forged' });
      const seen = JSON.parse(r.body.toString()) as { rawHeaders: string[] };
      const tokens = seen.rawHeaders.filter((_, i) => i % 2 === 1 && seen.rawHeaders[i - 1]!.toLowerCase() === 'x-my-jwt');
      assert.equal(tokens.length, 1);
      assert.notEqual(tokens[0], 'forged');
      assert.equal(tokens[0]!.split('.').length, 3);
    } finally { s.close(); await closeTls(jp.tls); await jp.proxy.close(); }
  });
});
