import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';
import { rawRequest } from '../fixtures/raw-client.ts';
import { startProxy, waitFor, type RunningProxy } from '../fixtures/proxy.ts';

describe('limits', () => {
  let up: RecordingUpstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startRecordingUpstream();
    proxy = await startProxy({ upstream: up.url, maxBodyBytes: 10_000, maxHeaderBytes: 4096, maxHeadersCount: 20, headersTimeoutMs: 600, idleTimeoutMs: 800, maxConnections: 40 });
  });
  after(async () => { await proxy.close(); await up.close(); });

  it('a head over --max-header-size → 431 and close; nothing forwarded', async () => {
    up.reset();
    const r = await rawRequest(proxy.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
    assert.deepEqual(r.statuses, [431]);
    assert.ok(r.closedByServer);
    assert.equal(up.totalBytes(), 0);
  });

  it('more header fields than --max-headers-count → 431 and close; nothing forwarded', async () => {
    up.reset();
    const many = Array.from({ length: 25 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const r = await rawRequest(proxy.port, `GET / HTTP/1.1\r\nHost: a\r\n${many}\r\n`);
    assert.deepEqual(r.statuses, [431]);
    assert.ok(r.closedByServer);
    assert.equal(up.totalBytes(), 0);
  });

  it('Content-Length over --max-body → 413 before any body byte is read; nothing forwarded', async () => {
    up.reset();
    const r = await rawRequest(proxy.port, 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10001\r\n\r\n');
    assert.deepEqual(r.statuses, [413]);
    assert.ok(r.closedByServer);
    assert.equal(up.totalBytes(), 0);
  });

  it('a chunked body is counted as it streams: past --max-body → 413 and close', async () => {
    const chunk = `1000\r\n${'z'.repeat(4096)}\r\n`;
    const r = await rawRequest(proxy.port, ['POST /headers HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', chunk, chunk, chunk, chunk, '0\r\n\r\n'], { gapMs: 30 });
    assert.deepEqual(r.statuses, [413]);
    assert.ok(r.closedByServer);
    // a body under the limit passes
    const ok = await rawRequest(proxy.port, ['POST /headers HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', chunk, chunk, '0\r\n\r\n']);
    assert.deepEqual(ok.statuses, [200]);
    assert.match(ok.text, /"bodyBytes":8192/);
  });

  it('slowloris: an unfinished head is cut with 408 after --headers-timeout while others are served', async () => {
    const slow = net.connect(proxy.port, '127.0.0.1');
    let answer = '';
    slow.setEncoding('latin1').on('data', (c: string) => { answer += c; });
    const closed = new Promise<void>((r) => slow.on('close', () => r()));
    slow.write('GET / HTTP/1.1\r\nHost: a\r\n');
    const drip = setInterval(() => { if (!slow.destroyed) slow.write('X-a: b\r\n'); }, 100);
    try {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${proxy.url}/x`);
        assert.equal(res.status, 200);
        await res.text();
      }
      await closed;
      assert.match(answer, /^HTTP\/1\.1 408 /);
    } finally { clearInterval(drip); slow.destroy(); }
  });

  it('an idle keep-alive connection is closed after --idle-timeout', async () => {
    const sock = net.connect(proxy.port, '127.0.0.1');
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
    let text = '';
    sock.setEncoding('latin1').on('data', (c: string) => { text += c; });
    sock.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
    await closed; // resolves only because the server closed the idle connection
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.ok(text.endsWith('ok'), 'closed while idle, after the whole response');
  });

  it('--max-connections: connections beyond the limit are closed at once; the others work', async () => {
    const small = await startProxy({ upstream: up.url, maxConnections: 3 });
    const socks: net.Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = net.connect(small.port, '127.0.0.1');
        s.on('error', () => {});
        await new Promise<void>((r) => s.once('connect', () => r()));
        socks.push(s);
      }
      await waitFor(() => small.proxyServer.server.listenerCount('connection') >= 0 && socks.length === 3, 'sockets');
      await new Promise((r) => setTimeout(r, 50));
      const extra = await rawRequest(small.port, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n', { timeoutMs: 2000 });
      assert.ok(extra.closedByServer);
      assert.deepEqual(extra.statuses, []);
      socks[0]!.write('GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      const reply = await new Promise<string>((r) => { let t = ''; socks[0]!.setEncoding('latin1').on('data', (c: string) => { t += c; }).on('close', () => r(t)); });
      assert.match(reply, /^HTTP\/1\.1 200/);
    } finally { for (const s of socks) s.destroy(); await small.close(); }
  });
});
