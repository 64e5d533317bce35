import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { H2_CONNECTION_SPECIFIC, h2ResponseHeaders, translateH2Request } from '../../src/http/h2-translate.ts';

const LIMITS = { maxHeadersCount: 100, maxBodyBytes: null };
const GET = [':method', 'GET', ':scheme', 'https', ':authority', 'example.com:8443', ':path', '/a?b=1'];

function ok(raw: string[], endStream = true) {
  const t = translateH2Request(raw, endStream, LIMITS);
  assert.equal(t.kind, 'ok', t.kind === 'reject' ? t.reason : '');
  return (t as Extract<typeof t, { kind: 'ok' }>).head;
}

function refused(raw: string[], endStream = true): number {
  const t = translateH2Request(raw, endStream, LIMITS);
  assert.equal(t.kind, 'reject');
  return (t as Extract<typeof t, { kind: 'reject' }>).status;
}

describe('h2 → HTTP/1.1 request translation (RFC 9113 §8)', () => {
  it('maps pseudo-headers to the request line and :authority to Host, first', () => {
    const h = ok([...GET, 'accept', '*/*']);
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/a?b=1');
    assert.deepEqual(h.headers, [['host', 'example.com:8443'], ['accept', '*/*']]);
    assert.deepEqual(h.body, { kind: 'none' });
  });

  it('joins cookie crumbs with "; " into one field (§8.2.3)', () => {
    assert.deepEqual(ok([...GET, 'cookie', 'a=1', 'x', 'y', 'cookie', 'b=2']).headers, [['host', 'example.com:8443'], ['x', 'y'], ['cookie', 'a=1; b=2']]);
  });

  it('refuses every connection-specific field, and TE other than "trailers" (§8.2.2)', () => {
    for (const name of H2_CONNECTION_SPECIFIC) assert.equal(refused([...GET, name, 'x']), 400, name);
    assert.equal(refused([...GET, 'te', 'gzip']), 400);
    assert.deepEqual(ok([...GET, 'te', 'trailers']).headers.at(-1), ['te', 'trailers']);
  });

  it('refuses malformed pseudo-headers: missing, duplicated, unknown, after a regular field, empty :path (§8.3)', () => {
    assert.equal(refused([':method', 'GET', ':scheme', 'https', ':authority', 'a']), 400);
    assert.equal(refused([...GET, ':path', '/again']), 400);
    assert.equal(refused([...GET, ':status', '200']), 400);
    assert.equal(refused([':method', 'GET', 'accept', '*/*', ':scheme', 'https', ':path', '/', ':authority', 'a']), 400);
    assert.equal(refused([':method', 'GET', ':scheme', 'https', ':authority', 'a', ':path', '']), 400);
    assert.equal(refused([...GET, 'Accept', 'x']), 400); // uppercase field name (§8.2)
  });

  it('refuses a Host naming another authority than :authority (§8.3.1), takes Host when :authority is absent', () => {
    assert.equal(refused([...GET, 'host', 'evil.example']), 400);
    assert.deepEqual(ok([...GET, 'host', 'EXAMPLE.com:8443']).headers, [['host', 'example.com:8443']]);
    assert.deepEqual(ok([':method', 'GET', ':scheme', 'https', ':path', '/', 'host', 'h.example']).headers, [['host', 'h.example']]);
    assert.equal(refused([':method', 'GET', ':scheme', 'https', ':path', '/']), 400);
  });

  it('frames the body: Content-Length kept, none after END_STREAM, chunked upstream otherwise; over the limit → 413', () => {
    assert.deepEqual(ok([...GET, 'content-length', '5'], false).body, { kind: 'length', length: 5 });
    const streamed = ok([...GET], false);
    assert.deepEqual(streamed.body, { kind: 'chunked' });
    assert.deepEqual(streamed.headers.at(-1), ['transfer-encoding', 'chunked']);
    assert.equal(refused([...GET, 'content-length', '1x'], false), 400);
    assert.equal(translateH2Request([...GET, 'content-length', '11'], false, { maxHeadersCount: 100, maxBodyBytes: 10 }).kind, 'reject');
  });

  it('CONNECT (§8.5): :authority only, target = authority; extended CONNECT keeps :protocol (RFC 8441)', () => {
    const c = ok([':method', 'CONNECT', ':authority', 'example.com:443'], false);
    assert.equal(c.target, 'example.com:443');
    assert.deepEqual(c.body, { kind: 'none' });
    assert.equal(refused([':method', 'CONNECT', ':authority', 'a:443', ':path', '/']), 400);
    const ws = ok([':method', 'CONNECT', ':protocol', 'websocket', ':scheme', 'https', ':authority', 'a', ':path', '/chat', 'sec-websocket-version', '13'], false);
    assert.equal(ws.protocol, 'websocket');
    assert.equal(ws.target, '/chat');
    assert.equal(refused([':method', 'GET', ':protocol', 'websocket', ':scheme', 'https', ':authority', 'a', ':path', '/']), 400);
  });

  it('counts fields after translation: more than maxHeadersCount → 431', () => {
    const many = Array.from({ length: 101 }, (_, i) => [`x-${i}`, 'v']).flat();
    assert.equal(refused([...GET, ...many]), 431);
  });

  it('property: a translated head never carries a connection-specific field or a pseudo-header, and has exactly one Host', () => {
    const name = fc.oneof(fc.constantFrom(...H2_CONNECTION_SPECIFIC, 'te', 'cookie', 'host', 'accept', ':path', ':foo'), fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/));
    fc.assert(fc.property(fc.array(fc.tuple(name, fc.constantFrom('trailers', 'a=1', 'example.com:8443', 'x')), { maxLength: 12 }), fc.boolean(), (fields, end) => {
      const t = translateH2Request([...GET, ...fields.flat()], end, LIMITS);
      if (t.kind === 'reject') return;
      assert.equal(t.head.headers.filter(([n]) => n === 'host').length, 1);
      for (const [n, v] of t.head.headers) {
        assert.ok(!n.startsWith(':'));
        if (n !== 'transfer-encoding') assert.ok(!H2_CONNECTION_SPECIFIC.has(n), n);
        if (n === 'te') assert.equal(v, 'trailers');
      }
    }));
  });
});

describe('h2 response heads', () => {
  it('drop connection-specific fields and those a Connection line names; keep the rest as the same list when clean', () => {
    assert.deepEqual(h2ResponseHeaders([['connection', 'close, x-hop'], ['x-hop', '1'], ['keep-alive', 'timeout=5'], ['transfer-encoding', 'chunked'], ['content-type', 'text/plain']]), [['content-type', 'text/plain']]);
    const clean: Array<[string, string]> = [['content-length', '2']];
    assert.equal(h2ResponseHeaders(clean), clean);
  });
});
