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

test('Content-Digest is parsed as an RFC 8941 Dictionary (issue 17): parameters and strings with commas are valid; a sha-256 inside a string is not a member', () => {
  const d = formatContentDigest(Buffer.from('hello'));
  assert.equal(parseContentDigest(`${d};note="a,b;c"`), d, 'a member with a parameter');
  assert.equal(parseContentDigest(`x="1, 2", ${d}`), d, 'a member before it holds a comma in a string');
  assert.equal(parseContentDigest(`x="${d}"`), undefined, 'sha-256 inside a String is not the member');
  assert.equal(parseContentDigest('sha-256=:not base64!:'), undefined, 'not a Byte Sequence');
  assert.equal(parseContentDigest('sha-256="LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="'), undefined, 'a String is not a Byte Sequence');
  assert.equal(parseContentDigest(`${d}, ,`), undefined, 'an invalid Dictionary is ignored as a whole');
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

test('parseResponseHead: a well-formed head passes; hostile heads are refused with a reason', async () => {
  const { parseResponseHead, parseErrorPayload, MAX_HEAD_FIELDS } = await import('../../src/relay/protocol.ts');
  const ok = { status: 206, headers: [['Content-Type', 'text/plain'], ['x-empty', ''], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']] };
  assert.deepEqual(parseResponseHead(Buffer.from(JSON.stringify(ok)), 1 << 20), { ok: true, value: ok });
  const hostile: Array<[string, string]> = [
    ['not JSON', '{"status":200,'],
    ['null', 'null'],
    ['an array', '[200, []]'],
    ['a string', '"200"'],
    ['missing status', '{"headers":[]}'],
    ['status as a string', '{"status":"200","headers":[]}'],
    ['status 1xx', '{"status":101,"headers":[]}'],
    ['status 600', '{"status":600,"headers":[]}'],
    ['status -1', '{"status":-1,"headers":[]}'],
    ['status fractional', '{"status":200.5,"headers":[]}'],
    ['status huge', '{"status":1e308,"headers":[]}'],
    ['status only in __proto__', '{"__proto__":{"status":200,"headers":[]}}'],
    ['headers missing', '{"status":200}'],
    ['headers an object', '{"status":200,"headers":{"a":"b"}}'],
    ['header a string', '{"status":200,"headers":["a: b"]}'],
    ['header a triple', '{"status":200,"headers":[["a","b","c"]]}'],
    ['header value a number', '{"status":200,"headers":[["a",1]]}'],
    ['header name with a space', '{"status":200,"headers":[["a b","c"]]}'],
    ['header name empty', '{"status":200,"headers":[["","c"]]}'],
    ['header value with CRLF', '{"status":200,"headers":[["a","b\\r\\nx-injected: 1"]]}'],
    ['header value with NUL', '{"status":200,"headers":[["a","b\\u0000"]]}'],
    ['header value beyond Latin-1', '{"status":200,"headers":[["a","\\u2028"]]}'],
  ];
  for (const [name, text] of hostile) {
    const r = parseResponseHead(Buffer.from(text), 1 << 20);
    assert.equal(r.ok, false, name);
    assert.ok(!r.ok && r.reason.length > 0, `${name}: a reason`);
  }
  const many = JSON.stringify({ status: 200, headers: Array.from({ length: MAX_HEAD_FIELDS + 1 }, () => ['a', 'b']) });
  assert.equal(parseResponseHead(Buffer.from(many), 1 << 20).ok, false, 'too many fields');
  const huge = Buffer.from(JSON.stringify({ status: 200, headers: [['a', 'x'.repeat(70_000)]] }));
  assert.equal(parseResponseHead(huge, 65_536).ok, false, 'larger than a chunk');
  assert.equal(parseResponseHead(huge, 1 << 20).ok, true, 'a long value within a chunk is still a value');
  // Prototype keys are plain data: nothing but status and headers is copied, and nothing is polluted.
  const proto = parseResponseHead(Buffer.from('{"status":200,"headers":[["__proto__","x"]],"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'), 1 << 20);
  assert.deepEqual(proto, { ok: true, value: { status: 200, headers: [['__proto__', 'x']] } });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.keys(proto.ok ? proto.value : {}), ['status', 'headers']);
  // Error chunks: malformed payloads become a plain 502, never a status the application would take as success.
  assert.deepEqual(parseErrorPayload(Buffer.from('{"status":504,"reason":"timed out"}'), 1 << 20), { status: 504, reason: 'timed out' });
  for (const text of ['{', '[]', '{"status":200,"reason":"ok"}', '{"status":"504"}', '{"__proto__":{"status":504}}']) {
    assert.equal(parseErrorPayload(Buffer.from(text), 1 << 20).status, 502, text);
  }
});

test('ChunkReader.readInto: chunks fill the slab and concatenate to the source; copied pieces are released', async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 20_000 }), { maxLength: 20 }), fc.integer({ min: 1, max: 9_000 }), async (sizes, max) => {
    const pieces = sizes.map((n, i) => Buffer.allocUnsafeSlow(n).fill(i % 251));
    const expected = Buffer.concat(pieces); // before the reader releases the pieces
    const reader = new ChunkReader(Readable.from(pieces));
    const got: Buffer[] = [];
    const slab = Buffer.alloc(max);
    for (let c = await reader.readInto(slab, 1); c !== null; c = await reader.readInto(slab, 1)) {
      assert.ok(c.length > 0 && c.length <= max);
      got.push(Buffer.from(c));
    }
    assert.deepEqual(Buffer.concat(got), expected);
    assert.ok(pieces.every((p) => p.length === 0 || p.length < 4096)); // each piece of 4 KiB or more was freed once copied
  }), { numRuns: 30 });
});
