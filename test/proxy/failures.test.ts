import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';
import { rawRequest } from '../fixtures/raw-client.ts';
import { startProxy, waitFor, type RunningProxy } from '../fixtures/proxy.ts';

/** A port with nothing listening on it (bound, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An upstream that answers every request with the given raw bytes (to send broken responses). */
async function rawUpstream(reply: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const s = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.once('data', () => sock.write(reply));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as net.AddressInfo).port,
    close: () => new Promise((r) => { for (const x of sockets) x.destroy(); s.close(() => r()); }),
  };
}

function bodyOf(text: string): string {
  return text.slice(text.indexOf('\r\n\r\n') + 4);
}

describe('failure semantics', () => {
  let up: RecordingUpstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startRecordingUpstream();
    proxy = await startProxy({ upstream: up.url, upstreamTimeoutMs: 400 });
  });
  after(async () => { await proxy.close(); await up.close(); });

  it('upstream refused → 502 with a short body, and the proxy keeps serving', async () => {
    const dead = await startProxy({ upstream: `http://127.0.0.1:${await closedPort()}` });
    try {
      const r = await rawRequest(dead.port, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      assert.deepEqual(r.statuses, [502, 502]);
      assert.match(r.text, /upstream unreachable/);
      assert.ok(!r.text.includes('127.0.0.1'), 'no internal address in the body');
      assert.ok(dead.logs.some((l) => l.event === 'access' && l.status === 502 && l.error === 'FERRY_ERR_UPSTREAM_UNREACHABLE'));
    } finally { await dead.close(); }
  });

  it('unresolvable upstream host → 502', async () => {
    const dead = await startProxy({ upstream: 'http://ferry-test-nonexistent.invalid:80', connectTimeoutMs: 3000 });
    try {
      const r = await rawRequest(dead.port, 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', { timeoutMs: 8000 });
      assert.deepEqual(r.statuses, [502]);
    } finally { await dead.close(); }
  });

  it('no response head within --upstream-timeout → 504, and the upstream request is abandoned', async () => {
    up.reset();
    const r = await rawRequest(proxy.port, 'GET /hang HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [504]);
    assert.match(bodyOf(r.text), /Gateway Timeout/);
    await waitFor(() => up.connections.every((c) => c.closed), 'the hung upstream connection to be closed');
  });

  it('upstream dies mid-body (Content-Length) → client connection cut before the promised length', async () => {
    const r = await rawRequest(proxy.port, 'GET /die/5000 HTTP/1.1\r\nHost: a\r\n\r\n', { quietMs: 3000 });
    assert.deepEqual(r.statuses, [200]);
    assert.ok(r.closedByServer, 'connection must be closed');
    assert.match(r.text, /content-length: 1048576/i);
    assert.ok(bodyOf(r.text).length < 1048576);
  });

  it('upstream dies mid-body (chunked) → client connection cut without the terminating chunk', async () => {
    const r = await rawRequest(proxy.port, 'GET /die-chunked/5000 HTTP/1.1\r\nHost: a\r\n\r\n', { quietMs: 3000 });
    assert.deepEqual(r.statuses, [200]);
    assert.ok(r.closedByServer);
    assert.match(r.text, /transfer-encoding: chunked/i);
    assert.ok(!r.text.endsWith('0\r\n\r\n'), 'never a well-framed end');
    await waitFor(() => proxy.logs.some((l) => l.event === 'access' && l.path === '/die-chunked/5000' && typeof l.error === 'string'), 'the failure in the access log');
  });

  it('client disconnects while waiting for the head → upstream connection closed at once', async () => {
    up.reset();
    const sock = net.connect(proxy.port, '127.0.0.1');
    sock.write('GET /hang HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => up.requests.some((q) => q.url === '/hang'), 'the request to reach the upstream');
    const open = up.openConnections();
    assert.ok(open >= 1);
    sock.destroy();
    await waitFor(() => up.connections.filter((c) => c.total > 0).every((c) => c.closed), 'the upstream connection to close', 2000);
  });

  it('client disconnects mid-download → upstream aborted; no leaked upstream sockets', async () => {
    up.reset();
    const sock = net.connect(proxy.port, '127.0.0.1');
    sock.write('GET /slow-body HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise<void>((r) => sock.once('data', () => r()));
    const used = up.connections.filter((c) => c.total > 0);
    assert.equal(used.filter((c) => !c.closed).length, 1);
    sock.destroy();
    await waitFor(() => used.every((c) => c.closed), 'the upstream connection to close', 2000);
  });

  it('client disconnects mid-upload → upstream request aborted', async () => {
    up.reset();
    const sock = net.connect(proxy.port, '127.0.0.1');
    sock.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n' + 'x'.repeat(1000));
    await waitFor(() => up.requests.some((q) => q.url === '/echo'), 'the upload to start upstream');
    sock.destroy();
    await waitFor(() => up.connections.filter((c) => c.total > 0).every((c) => c.closed), 'the upstream connection to close', 2000);
  });

  it('an invalid upstream response (CL + TE, obs-fold, bad length) → 502, never relayed', async () => {
    for (const reply of [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: a\r\n folded\r\n\r\nhello',
      'HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n',
    ]) {
      const bad = await rawUpstream(reply);
      const p = await startProxy({ upstream: `http://127.0.0.1:${bad.port}` });
      try {
        const r = await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
        assert.deepEqual(r.statuses, [502], JSON.stringify(reply));
        assert.ok(!r.text.includes('hello'));
      } finally { await p.close(); await bad.close(); }
    }
  });
});

describe('upstream keep-alive race (RELIABILITY R7)', () => {
  it('a GET whose pooled connection dies on reuse is sent once more on a fresh connection; a POST is not', async () => {
    // Each origin connection answers one request with keep-alive, then dies when the next request arrives on it:
    // exactly what a reused connection that the origin had just closed looks like.
    let served = 0;
    const s = net.createServer((sock) => {
      let n = 0;
      sock.on('error', () => {});
      sock.on('data', () => {
        if (++n > 1) { sock.destroy(); return; }
        served++;
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=60\r\n\r\nok');
      });
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const p = await startProxy({ upstream: `http://127.0.0.1:${(s.address() as net.AddressInfo).port}` });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push(...(await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).statuses);
      assert.deepEqual(statuses, [200, 200, 200, 200]);
      assert.equal(served, 4);
      const post = await rawRequest(p.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi');
      assert.deepEqual(post.statuses, [502], 'a request with a body is never replayed');
    } finally { await p.close(); await new Promise<void>((r) => s.close(() => r())); }
  });
});
