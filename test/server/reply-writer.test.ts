/**
 * The one reply writer (src/server/reply-writer.ts): the bytes each former writer put on the wire stay the same —
 * parser rejections, the CONNECT 405 without --forward, CONNECT refusals (Title-Case), ferry's local replies — and a
 * raw reply closes its socket once flushed.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { completeReplyHeaders, formatRawReply, writeRawReply } from '../../src/server/reply-writer.ts';

test('parser rejection (hardened server onClientError): status line, Connection: close, Content-Length: 0', () => {
  assert.equal(formatRawReply(431, [['Connection', 'close'], ['Content-Length', '0']]), 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
});

test('CONNECT without --forward: 405 with Allow, as before', () => {
  const h = [['Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'], ['Connection', 'close'], ['Content-Length', '0']] as [string, string][];
  assert.equal(formatRawReply(405, h), 'HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
});

test('a CONNECT refusal keeps its Title-Case fields and their order; nothing is added twice', () => {
  const given: [string, string][] = [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', '30'], ['Connection', 'close'], ['Proxy-Authenticate', 'Basic realm="ferry"']];
  assert.equal(completeReplyHeaders(407, given, 'proxy authentication required\n', true), given);
});

test('a local reply gets content-type, content-length and connection: close, in that order (lower-case)', () => {
  assert.deepEqual(completeReplyHeaders(502, [], 'Bad Gateway\n', true), [['content-type', 'text/plain; charset=utf-8'], ['content-length', '12'], ['connection', 'close']]);
  assert.deepEqual(completeReplyHeaders(204, [], undefined, false), []);
  assert.deepEqual(completeReplyHeaders(200, [['connection', 'keep-alive']], undefined, true), [['content-length', '0'], ['connection', 'close']]);
});

test('writeRawReply writes the whole reply on a raw socket and closes it once flushed', async () => {
  const server = net.createServer((s) => writeRawReply(s, { status: 403, headers: [['content-length', '5']], body: 'nope\n' }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const got = await new Promise<string>((resolve, reject) => {
      const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      let out = '';
      c.on('data', (b: Buffer) => { out += b.toString('latin1'); });
      c.on('close', () => resolve(out));
      c.on('error', reject);
    });
    assert.equal(got, 'HTTP/1.1 403 Forbidden\r\ncontent-length: 5\r\n\r\nnope\n');
  } finally { server.close(); }
});
