import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';
import { rawRequest } from '../fixtures/raw-client.ts';
import { startProxy, type RunningProxy } from '../fixtures/proxy.ts';

function headerPairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

describe('reverse proxy: forwarding', () => {
  let up: RecordingUpstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startRecordingUpstream((req, res) => {
      if (req.url === '/hop-response') {
        res.writeHead(200, [['Connection', 'x-private'], ['X-Private', 'secret'], ['Keep-Alive', 'timeout=5'], ['Proxy-Authenticate', 'Basic'], ['Trailer', 'x-t'], ['Upgrade', 'foo'], ['X-Kept', 'yes'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']] as unknown as http.OutgoingHttpHeaders);
        res.end('ok');
        return true;
      }
      if (req.url === '/early-hints') {
        res.writeEarlyHints({ link: '</a.css>; rel=preload' });
        res.writeHead(200, { 'content-length': 5 });
        res.end('final');
        return true;
      }
      if (req.url === '/via-response') {
        res.writeHead(200, { via: '1.1 origin-cdn', 'content-length': 2 });
        res.end('ok');
        return true;
      }
      return false;
    });
    proxy = await startProxy({ upstream: up.url });
  });
  after(async () => { await proxy.close(); await up.close(); });

  it('forwards method, path and query byte for byte (no re-encoding, empty ? kept)', async () => {
    for (const target of ['/a/b?x=%2F&&y=%zz', '/p;q?', '/%7Euser/%2e%2e/x?a=1+2&b=%20', '/?']) {
      for (const method of ['GET', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND']) {
        const res = await fetch(`${proxy.url}/headers`, { method: 'GET' }); // warm
        await res.arrayBuffer();
        const r = await rawRequest(proxy.port, `${method} ${target} HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n`);
        assert.deepEqual(r.statuses, [200], `${method} ${target}`);
        const rec = up.requests.at(-1)!;
        assert.equal(rec.method, method);
        assert.equal(rec.url, target);
      }
    }
  });

  it('removes hop-by-hop fields and Connection-named fields from requests; keeps Host; adds Via and X-Forwarded-*', async () => {
    const r = await rawRequest(proxy.port, 'GET /headers HTTP/1.1\r\nHost: site.test:8080\r\nConnection: keep-alive, X-Secret, x-request-id\r\nX-Secret: 1\r\n'
      + 'Keep-Alive: 300\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: x-t\r\nUpgrade: websocket\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n'
      + 'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Request-Id: from-client\r\nVia: 1.0 edge\r\nX-Custom: kept\r\n\r\n');
    assert.deepEqual(r.statuses, [200]);
    const body = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as { rawHeaders: string[] };
    const h = headerPairs(body.rawHeaders);
    const names = h.map(([n]) => n);
    for (const gone of ['x-secret', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'transfer-encoding']) {
      assert.ok(!names.includes(gone), `${gone} must not be forwarded`);
    }
    const get = (n: string) => h.filter(([k]) => k === n).map(([, v]) => v);
    assert.deepEqual(get('host'), ['site.test:8080']);
    assert.deepEqual(get('x-custom'), ['kept']);
    assert.deepEqual(get('via'), ['1.0 edge, 1.1 ferry']);
    assert.deepEqual(get('x-forwarded-for'), ['203.0.113.9, 127.0.0.1']);
    assert.deepEqual(get('x-forwarded-proto'), ['http']);
    assert.deepEqual(get('x-forwarded-host'), ['site.test:8080']);
    // Connection named x-request-id: stripped, then ferry adds the request's id again (strip first, then add)
    assert.deepEqual(get('x-request-id'), ['from-client']);
    assert.match(r.text, /\r\nx-request-id: from-client\r\n/i);
  });

  it('passes a plain client X-Request-Id on and echoes it; replaces a hostile one', async () => {
    const r = await rawRequest(proxy.port, 'GET /headers HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-123\r\nConnection: close\r\n\r\n');
    assert.match(r.text, /\r\nx-request-id: abc-123\r\n/i);
    assert.ok(headerPairs(up.requests.at(-1)!.rawHeaders).some(([n, v]) => n === 'x-request-id' && v === 'abc-123'));
    const r2 = await rawRequest(proxy.port, `GET /headers HTTP/1.1\r\nHost: a\r\nX-Request-Id: ${'a'.repeat(300)}\r\nConnection: close\r\n\r\n`);
    assert.match(r2.text, /\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
  });

  it('removes hop-by-hop fields from responses, keeps duplicates like Set-Cookie, adds Via', async () => {
    const r = await rawRequest(proxy.port, 'GET /hop-response HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200]);
    const head = r.text.slice(0, r.text.indexOf('\r\n\r\n')).toLowerCase();
    for (const gone of ['x-private', 'keep-alive: timeout=5', 'proxy-authenticate', 'trailer', 'upgrade']) assert.ok(!head.includes(gone), gone);
    assert.ok(head.includes('x-kept: yes'));
    assert.equal(head.match(/set-cookie: /g)?.length, 2);
    assert.ok(head.includes('\r\nvia: 1.1 ferry'));
    const v = await rawRequest(proxy.port, 'GET /via-response HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.match(v.text, /\r\nvia: 1\.1 origin-cdn, 1\.1 ferry\r\n/i);
  });

  it('HEAD keeps Content-Length and sends no body; 204 and 304 carry no body', async () => {
    const r = await rawRequest(proxy.port, 'HEAD /bytes/12345 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/204 HTTP/1.1\r\nHost: a\r\n\r\nGET /status/304 HTTP/1.1\r\nHost: a\r\n\r\nGET /bytes/3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [200, 204, 304, 200]);
    assert.match(r.text, /content-length: 12345\r\n/i);
    const parts = r.text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(parts.length, 4);
    for (const p of parts.slice(0, 3)) assert.ok(p.endsWith('\r\n\r\n'), `no body after ${p.slice(0, 12)}`);
    assert.ok(parts[3]!.endsWith('\r\n\r\n\x00\x01\x02'));
  });

  it('an interim 1xx from upstream is not taken for the response: the final response and its body arrive', async () => {
    const r = await rawRequest(proxy.port, 'GET /early-hints HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.equal(r.statuses.at(-1), 200);
    assert.ok(r.text.endsWith('\r\n\r\nfinal'));
  });

  it('never uses the lenient (insecure) HTTP parser', () => {
    assert.equal((proxy.proxyServer.server as unknown as { insecureHTTPParser: boolean }).insecureHTTPParser, false);
    assert.ok(!process.execArgv.includes('--insecure-http-parser'));
  });

  it('HTTP/1.0 clients: close by default, keep-alive when asked, bodies of unknown length close-delimited', async () => {
    const a = await rawRequest(proxy.port, 'GET /bytes/5 HTTP/1.0\r\nHost: a\r\n\r\n');
    assert.ok(a.closedByServer);
    assert.match(a.text, /^HTTP\/1\.1 200/);
    assert.match(a.text, /\r\nconnection: close\r\n/i);
    assert.ok(up.requests.at(-1)!.httpVersion === '1.1');
    assert.ok(headerPairs(up.requests.at(-1)!.rawHeaders).some(([n, v]) => n === 'via' && v === '1.0 ferry'));
    const b = await rawRequest(proxy.port, 'GET /bytes/5 HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\nGET /bytes/4 HTTP/1.0\r\nHost: a\r\n\r\n');
    assert.deepEqual(b.statuses, [200, 200]);
    assert.match(b.text, /\r\nconnection: keep-alive\r\n/i);
    assert.ok(b.closedByServer);
    // upstream answers chunked (echo); an HTTP/1.0 client cannot take chunked, so the body ends with the connection
    const c = await rawRequest(proxy.port, 'POST /echo HTTP/1.0\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
    assert.ok(c.closedByServer);
    assert.ok(!/transfer-encoding/i.test(c.text));
    assert.ok(c.text.endsWith('\r\n\r\nhello'));
  });

  it('request bodies: Content-Length and chunked both arrive whole; odd framing is forwarded canonically', async () => {
    up.reset();
    const r = await rawRequest(proxy.port, 'POST /headers HTTP/1.1\r\nHost: a\r\nContent-Length: 010\r\n\r\n0123456789'
      + 'POST /headers HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n');
    assert.deepEqual(r.statuses, [200, 200]);
    const wire = up.connections.map((c) => c.text()).join('');
    assert.match(wire, /\r\ncontent-length: 10\r\n/i);
    assert.ok(!/content-length: 010/i.test(wire));
    assert.ok(!/Chunked/.test(wire), 'coding re-written in canonical lower case');
    // the chunked body is re-framed by ferry: chunked again, or a plain length when it was already complete
    assert.match(wire, /\r\n(transfer-encoding: chunked\r\n\r\n5\r\nhello|content-length: 8\r\n\r\nhelloabc)/i);
    assert.match(r.text, /"bodyBytes":10/);
    assert.match(r.text, /"bodyBytes":8/);
  });

  it('keeps client connections alive across requests (pipelined too) and pools upstream connections', async () => {
    const reqs = Array.from({ length: 20 }, (_, i) => `GET /bytes/${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join('') + 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    const r = await rawRequest(proxy.port, reqs);
    assert.equal(r.statuses.length, 21);
    up.reset();
    for (let i = 0; i < 20; i++) await (await fetch(`${proxy.url}/bytes/${i}`)).arrayBuffer();
    const used = up.connections.filter((c) => c.total > 0).length;
    assert.ok(used >= 1 && used <= 2, `upstream connections reused (${used} used for 20 requests)`);
  });

  it('writes one access-log line per request with the fields of the issue', async () => {
    const before = proxy.logs.length;
    const res = await fetch(`${proxy.url}/echo?q=1`, { method: 'POST', body: 'hello world' });
    assert.equal(await res.text(), 'hello world');
    await new Promise((r) => setTimeout(r, 50));
    const lines = proxy.logs.slice(before).filter((l) => l.event === 'access');
    assert.equal(lines.length, 1);
    const l = lines[0]!;
    assert.equal(l.method, 'POST');
    assert.equal(l.path, '/echo?q=1');
    assert.equal(l.status, 200);
    assert.equal(l.bytesIn, 11);
    assert.equal(l.bytesOut, 11);
    assert.equal(typeof l.upstreamMs, 'number');
    assert.equal(typeof l.durationMs, 'number');
    assert.equal(l.requestId, res.headers.get('x-request-id'));
  });
});

describe('reverse proxy: Forwarded (RFC 7239) mode', () => {
  it('sends Forwarded instead of X-Forwarded-*', async () => {
    const up = await startRecordingUpstream();
    const proxy = await startProxy({ upstream: up.url, forwarded: true });
    try {
      const r = await rawRequest(proxy.port, 'GET /headers HTTP/1.1\r\nHost: [::1]:80\r\nForwarded: for=192.0.2.1\r\nConnection: close\r\n\r\n');
      assert.deepEqual(r.statuses, [200]);
      const h = headerPairs(up.requests.at(-1)!.rawHeaders);
      assert.deepEqual(h.filter(([n]) => n === 'forwarded').map(([, v]) => v), ['for=192.0.2.1, for=127.0.0.1;host="[::1]:80";proto=http']);
      assert.ok(!h.some(([n]) => n.startsWith('x-forwarded-')));
    } finally {
      await proxy.close();
      await up.close();
    }
  });
});
