/** Relay protocol helpers: message budget, Content-Digest, open requests, hop-by-hop, the chunk reader. */
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import { ChunkReader } from '../../src/relay/chunk-reader.ts';
import {
  chunkPayloadSize, formatContentDigest, formatOpenRequest, HEAD_BUDGET, parseContentDigest, parseIndex, parseOpenRequest,
} from '../../src/relay/protocol.ts';

test('chunk payload leaves the head budget free inside --max-message', () => {
  assert.equal(chunkPayloadSize(1024 * 1024), 1024 * 1024 - HEAD_BUDGET);
  assert.ok(HEAD_BUDGET <= 10_240, 'under the AWS HTTP API request-line + headers quota');
  assert.throws(() => chunkPayloadSize(1000), RangeError);
});

test('Content-Digest (RFC 9530) round trip; other algorithms ignored', () => {
  const d = formatContentDigest(Buffer.from('hello'));
  assert.equal(d, 'sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:');
  assert.equal(parseContentDigest(d), d);
  assert.equal(parseContentDigest(`sha-512=:AAAA:, ${d}`), d);
  assert.equal(parseContentDigest('md5=:AAAA:'), undefined);
  assert.equal(parseContentDigest(undefined), undefined);
});

test('parseIndex accepts canonical decimals only', () => {
  assert.equal(parseIndex('0'), 0);
  assert.equal(parseIndex('42'), 42);
  for (const bad of ['', '-1', '01', '1.5', '1e3', ' 1', '9999999999999999']) assert.equal(parseIndex(bad), undefined, bad);
});

test('open requests: well-formed heads round trip; malformed ones are refused', () => {
  const http = { kind: 'http' as const, method: 'POST', url: 'http://example.test:8080/a?b=c', headers: [['x-a', 'b'], ['content-type', 'text/plain']] as Array<[string, string]>, hasBody: true };
  assert.deepEqual(parseOpenRequest(formatOpenRequest(http)), { ok: true, value: http });
  const connect = { kind: 'connect' as const, host: 'example.test', port: 443 };
  assert.deepEqual(parseOpenRequest(formatOpenRequest(connect)), { ok: true, value: connect });
  const bad = [
    '{', 'null', '{"kind":"x"}',
    '{"kind":"connect","host":"a b","port":443}', '{"kind":"connect","host":"a","port":0}', '{"kind":"connect","host":"a","port":70000}',
    '{"kind":"http","method":"GE T","url":"http://a/","headers":[],"hasBody":false}',
    '{"kind":"http","method":"GET","url":"https://a/","headers":[],"hasBody":false}',
    '{"kind":"http","method":"GET","url":"http://a/","headers":[["bad name","v"]],"hasBody":false}',
    '{"kind":"http","method":"GET","url":"http://a/","headers":[["x","a\\r\\nInjected: 1"]],"hasBody":false}',
    '{"kind":"http","method":"GET","url":"http://a/","headers":[],"hasBody":"yes"}',
  ];
  for (const b of bad) assert.equal(parseOpenRequest(Buffer.from(b)).ok, false, b);
});

test('an open request whose Connection option names Host or a framing field is refused (the proxy\'s rule, RELIABILITY S7)', () => {
  const open = (headers: string[][]) => Buffer.from(JSON.stringify({ kind: 'http', method: 'POST', url: 'http://a/', headers, hasBody: true }));
  for (const named of ['host', 'Content-Length', 'transfer-encoding']) {
    for (const field of ['connection', 'proxy-connection']) {
      const r = parseOpenRequest(open([['host', 'a'], [field, `close, ${named}`], ['content-length', '3']]));
      assert.equal(r.ok, false, `${field}: ${named}`);
      assert.match((r as { reason: string }).reason, /Connection may not name/);
    }
  }
  assert.equal(parseOpenRequest(open([['host', 'a'], ['connection', 'x-hop'], ['x-hop', '1']])).ok, true);
});

test('ChunkReader: chunks never exceed the maximum and concatenate to the source, whatever the write pattern', async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }), fc.integer({ min: 1, max: 257 }), async (writes, max) => {
    const src = Readable.from(writes.map((w) => Buffer.from(w)).filter((b) => b.length > 0));
    const reader = new ChunkReader(src);
    const got: Buffer[] = [];
    for (let c = await reader.read(max, 1); c !== null; c = await reader.read(max, 1)) {
      assert.ok(c.length > 0 && c.length <= max);
      got.push(c);
    }
    assert.deepEqual(Buffer.concat(got), Buffer.concat(writes.map((w) => Buffer.from(w))));
  }), { numRuns: 200 });
});

test('ChunkReader: a quiet source flushes a partial chunk; a broken source rejects', async () => {
  const src = new PassThrough();
  const reader = new ChunkReader(src);
  src.write('abc');
  assert.equal((await reader.read(1024, 5))?.toString(), 'abc');
  src.destroy(new Error('boom'));
  await assert.rejects(reader.read(1024, 5), /boom/);
});
