/** The differential test's second parser (test/fixtures/strict-http1.ts) reads the RFC 9112 grammar and nothing else. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequests } from '../fixtures/strict-http1.ts';

describe('strict HTTP/1.1 request parser', () => {
  it('reads Content-Length and chunked bodies, extensions and trailers, and pipelined requests', () => {
    const r = parseRequests('POST /a?b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloPUT / HTTP/1.1\r\nX: \t v \t\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b;c="d\\"e"\r\nhello\r\n0\r\nT: 1\r\n\r\n');
    assert.deepEqual(r.rest, { kind: 'none' });
    assert.deepEqual(r.requests, [
      { method: 'POST', target: '/a?b', version: 'HTTP/1.1', headers: [['Host', 'a'], ['Content-Length', '5']], body: 'hello' },
      { method: 'PUT', target: '/', version: 'HTTP/1.1', headers: [['X', 'v'], ['Transfer-Encoding', 'chunked']], body: 'hello' },
    ]);
  });

  it('reports an incomplete request', () => {
    assert.deepEqual(parseRequests('POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel').rest, { kind: 'incomplete' });
    assert.deepEqual(parseRequests('GET / HTTP/1.1\r\nHost: a\r\n').rest, { kind: 'incomplete' });
  });

  const invalid: Array<[string, string]> = [
    ['bare LF', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
    ['bare CR', 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n'],
    ['space before colon', 'GET / HTTP/1.1\r\nX : a\r\n\r\n'],
    ['empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n'],
    ['CL and TE', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two CL', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx'],
    ['CL not digits', 'POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx'],
    ['TE not chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
    ['chunk size 0x', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n'],
    ['chunk size overflow', `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${'f'.repeat(14)}\r\nx\r\n0\r\n\r\n`],
    ['chunk data too long', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n'],
    ['BWS in a chunk extension', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 ;a\r\nx\r\n0\r\n\r\n'],
    ['two spaces in the request-line', 'GET  / HTTP/1.1\r\n\r\n'],
    ['HTTP/0.9 request-line', 'GET /\r\n\r\n'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nX: a\x00\r\n\r\n'],
  ];
  for (const [name, raw] of invalid) {
    it(`refuses: ${name}`, () => assert.equal(parseRequests(raw).rest.kind, 'error'));
  }

  it('recipient leniency: empty lines before a request, runs of SP, empty extension value', () => {
    const r = parseRequests('\r\n\rGET  /  HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;x=\r\nx\r\n0\r\n\r\n', { recipientLeniency: true });
    assert.deepEqual(r.rest, { kind: 'none' });
    assert.deepEqual(r.requests.map((q) => [q.method, q.target, q.body]), [['GET', '/', ''], ['POST', '/', 'x']]);
  });
});
