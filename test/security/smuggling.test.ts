/**
 * Request smuggling corpus (RELIABILITY S1–S7, T1): raw bytes on a socket; each invalid vector must get its status,
 * the connection closed, 0 bytes at the recording upstream, and the proxy must serve the next client.
 * Sources: RFC 9112 §6 cases, HTTP Garden trophies, Varnish f00010, Node's transfer-encoding smuggling tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';
import { rawRequest } from '../fixtures/raw-client.ts';
import { startProxy, type RunningProxy } from '../fixtures/proxy.ts';

interface Vector { name: string; raw: string; status: number | number[] }

const H = 'Host: example.test\r\n';
const VECTORS: Vector[] = [
  { name: 'CL + TE', raw: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'TE + CL', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'duplicate differing Content-Length', raw: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, status: 400 },
  { name: 'duplicate identical Content-Length', raw: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, status: 400 },
  { name: 'Content-Length list', raw: `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`, status: 400 },
  { name: 'Content-Length not a number', raw: `POST / HTTP/1.1\r\n${H}Content-Length: 5x\r\n\r\nhello`, status: 400 },
  { name: 'Content-Length negative', raw: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, status: 400 },
  { name: 'Content-Length with plus', raw: `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, status: 400 },
  { name: 'TE not ending in chunked', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nhello`, status: 400 },
  { name: 'TE xchunked', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'TE unknown coding before chunked', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n`, status: [400, 501] },
  { name: 'TE chunked twice', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, status: [400, 501] },
  { name: 'TE obs-folded', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'TE in HTTP/1.0', raw: `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'obs-fold', raw: `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, status: 400 },
  { name: 'bare CR in a value', raw: `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, status: 400 },
  { name: 'bare LF line ends', raw: `GET / HTTP/1.1\n${H.trimEnd()}\n\n`, status: 400 },
  { name: 'whitespace before colon', raw: `GET / HTTP/1.1\r\nHost : example.test\r\n\r\n`, status: 400 },
  { name: 'empty field name', raw: `GET / HTTP/1.1\r\n${H}: x\r\n\r\n`, status: 400 },
  { name: 'NUL in a value', raw: `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, status: 400 },
  { name: 'invalid field-name character', raw: `GET / HTTP/1.1\r\n${H}X(A): 1\r\n\r\n`, status: 400 },
  { name: 'duplicate Host', raw: `GET / HTTP/1.1\r\n${H}Host: evil.test\r\n\r\n`, status: 400 },
  { name: 'duplicate Host, differing case', raw: `GET / HTTP/1.1\r\n${H}host: evil.test\r\n\r\n`, status: 400 },
  { name: 'missing Host in HTTP/1.1', raw: 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n', status: 400 },
  { name: 'invalid Host authority', raw: 'GET / HTTP/1.1\r\nHost: a b@evil\r\n\r\n', status: 400 },
  { name: 'Host with a path', raw: 'GET / HTTP/1.1\r\nHost: good.test/evil\r\n\r\n', status: 400 },
  { name: 'duplicate Authorization', raw: `GET / HTTP/1.1\r\n${H}Authorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n`, status: 400 },
  { name: 'Connection naming Content-Length', raw: `POST / HTTP/1.1\r\n${H}Connection: content-length\r\nContent-Length: 5\r\n\r\nhello`, status: 400 },
  { name: 'Connection naming Transfer-Encoding', raw: `POST / HTTP/1.1\r\n${H}Connection: close, Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'Connection naming Host', raw: `GET / HTTP/1.1\r\n${H}Connection: host\r\n\r\n`, status: 400 },
  { name: 'chunk size not hex', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk size with 0x', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk size with leading space', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk size overflow', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${'f'.repeat(17)}\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'missing CRLF after chunk data', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n`, status: 400 },
  { name: 'chunk extension over 16 KiB', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;${'a'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`, status: [400, 413] },
  { name: 'space in request-target', raw: `GET /a b HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'control character in request-target', raw: `GET /a\x01b HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'invalid HTTP version', raw: `GET / HTTP/1.x\r\n${H}\r\n`, status: [400, 505] },
  { name: 'absolute-form without --forward', raw: `GET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n`, status: 400 },
  { name: 'fragment in request-target', raw: `GET /a#b HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: 'invalid UTF-8 in request-target', raw: `GET /\xff\xfe HTTP/1.1\r\n${H}\r\n`, status: 400 },
  { name: '2000 header fields', raw: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 2000 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`, status: 431 },
];

describe('smuggling corpus: invalid requests', () => {
  let up: RecordingUpstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startRecordingUpstream();
    proxy = await startProxy({ upstream: up.url });
  });
  after(async () => { await proxy.close(); await up.close(); });

  it(`has at least 20 vectors (${VECTORS.length})`, () => assert.ok(VECTORS.length >= 20));

  for (const v of VECTORS) {
    it(v.name, async () => {
      up.reset();
      const r = await rawRequest(proxy.port, v.raw);
      const allowed = Array.isArray(v.status) ? v.status : [v.status];
      assert.equal(r.statuses.length, 1, `exactly one response, got ${JSON.stringify(r.text.slice(0, 200))}`);
      assert.ok(allowed.includes(r.statuses[0]!), `status ${r.statuses[0]} not in ${allowed.join('/')}`);
      assert.ok(r.closedByServer, 'connection closed after the answer');
      assert.equal(up.totalBytes(), 0, `upstream received ${up.totalBytes()} bytes`);
      // the proxy still serves the next client
      const next = await rawRequest(proxy.port, `GET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      assert.deepEqual(next.statuses, [200]);
    });
  }
});

describe('crash-proofing (RELIABILITY S12)', () => {
  it('prototype-named header fields are plain data: forwarded, no crash', async () => {
    const up = await startRecordingUpstream();
    const proxy = await startProxy({ upstream: up.url });
    try {
      const r = await rawRequest(proxy.port, `GET /headers HTTP/1.1\r\n${H}__proto__: {"polluted":1}\r\nconstructor: x\r\nhasOwnProperty: y\r\nConnection: close\r\n\r\n`);
      assert.deepEqual(r.statuses, [200]);
      assert.match(r.text, /"__proto__","\{\\"polluted\\":1\}"/);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    } finally { await proxy.close(); await up.close(); }
  });
});

describe('smuggling corpus: valid but risky requests are forwarded in canonical form only', () => {
  let up: RecordingUpstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startRecordingUpstream();
    proxy = await startProxy({ upstream: up.url });
  });
  after(async () => { await proxy.close(); await up.close(); });

  const cases: Array<{ name: string; raw: string; wire: RegExp; never: RegExp }> = [
    { name: 'Content-Length with leading zeros', raw: `POST /echo HTTP/1.1\r\n${H}Content-Length: 005\r\nConnection: close\r\n\r\nhello`, wire: /\r\ncontent-length: 5\r\n\r\nhello$/, never: /005/ },
    { name: 'Transfer-Encoding in mixed case', raw: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: ChUnKeD\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, wire: /\r\n(content-length: 5\r\n\r\nhello|transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n)$/, never: /ChUnKeD/ },
    { name: 'chunk extensions and trailers', raw: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;ext="x"\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n`, wire: /\r\n(content-length: 5\r\n\r\nhello|transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n)$/, never: /ext=|X-Trailer/i },
    { name: 'header name case and whitespace around values', raw: `GET /headers HTTP/1.1\r\n${H}X-WeIrD:    spaced   \r\nConnection: close\r\n\r\n`, wire: /\r\nx-weird: spaced\r\n/, never: /X-WeIrD/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      up.reset();
      const r = await rawRequest(proxy.port, c.raw);
      assert.deepEqual(r.statuses, [200]);
      const wire = up.connections.map((x) => x.text()).join('');
      assert.match(wire, c.wire);
      assert.doesNotMatch(wire, c.never);
      assert.equal(up.requests.length, 1, 'one client request is one upstream request');
    });
  }
});
