import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';
import { rawRequest } from '../fixtures/raw-client.ts';
import { startProxy, waitFor, type RunningProxy } from '../fixtures/proxy.ts';

/** Send a head, wait for the first interim/final line, then (if 100) the body; returns everything read. */
function expectExchange(port: number, head: string, body: string, onFirstLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    let sentBody = false;
    sock.setEncoding('latin1');
    sock.on('data', (c: string) => {
      text += c;
      if (!sentBody && text.includes('\r\n\r\n')) {
        sentBody = true;
        onFirstLine?.(text.slice(0, text.indexOf('\r\n')));
        if (text.startsWith('HTTP/1.1 100')) sock.write(body);
      }
    });
    sock.on('close', () => resolve(text));
    sock.write(head);
  });
}

describe('Expect: 100-continue end to end', () => {
  let up: RecordingUpstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startRecordingUpstream();
    proxy = await startProxy({ upstream: up.url, maxBodyBytes: 1000 });
  });
  after(async () => { await proxy.close(); await up.close(); });

  it('100 Continue reaches the client only after the upstream asked for the body; the body then flows', async () => {
    up.reset();
    let upstreamHadRequest = false;
    const text = await expectExchange(proxy.port, 'PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', 'hello world', () => {
      upstreamHadRequest = up.requests.some((q) => q.url === '/echo');
    });
    assert.ok(upstreamHadRequest, 'the upstream saw the request before the client was told to continue');
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.ok(text.includes('hello world'));
    const rec = up.requests.find((q) => q.url === '/echo')!;
    assert.ok(rec.rawHeaders.some((v) => v.toLowerCase() === '100-continue'), 'Expect was forwarded');
  });

  it('a final status from upstream before the body is relayed as is, without 100, and the body is never read as a request', async () => {
    const text = await expectExchange(proxy.port, 'PUT /reject-early HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\nExpect: 100-continue\r\n\r\n', 'GET /smuggled HTTP/1.1');
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.ok(!text.includes('100 Continue'));
    assert.ok(!up.requests.some((q) => q.url === '/smuggled'));
  });

  it('upstream unreachable → 502 without 100 Continue', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const dead = await startProxy({ upstream: `http://127.0.0.1:${port}` });
    try {
      const text = await expectExchange(dead.port, 'PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n', 'hello');
      assert.match(text, /^HTTP\/1\.1 502 /);
      assert.ok(!text.includes('100 Continue'));
    } finally { await dead.close(); }
  });

  it('a declared body over --max-body → 413 without 100 Continue, nothing sent upstream', async () => {
    up.reset();
    const r = await rawRequest(proxy.port, 'PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
    assert.deepEqual(r.statuses, [413]);
    assert.ok(r.closedByServer);
    assert.equal(up.totalBytes(), 0);
  });

  it('an upstream that ignores Expect: ferry lets the body flow after a short silence', async () => {
    const got: Buffer[] = [];
    const silent = net.createServer((sock) => {
      sock.on('data', (c: Buffer) => {
        got.push(c);
        if (Buffer.concat(got).toString('latin1').endsWith('hello')) sock.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      });
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const p = await startProxy({ upstream: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}` });
    try {
      const text = await expectExchange(p.port, 'PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', 'hello');
      assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
      assert.ok(text.endsWith('ok'));
    } finally { await p.close(); await new Promise<void>((r) => silent.close(() => r())); }
  });

  it('the proxy still serves the next client', async () => {
    await waitFor(() => true, 'nothing');
    const res = await fetch(`${proxy.url}/x`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok');
  });
});
