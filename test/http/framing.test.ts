import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { HeaderList } from '../../src/http/headers.ts';
import { checkRequestFraming, declaredContentLength, isValidHostHeader } from '../../src/http/framing.ts';

const host: [string, string] = ['host', 'a.test'];

describe('request framing checks (RFC 9112 §6, §3.2)', () => {
  it('accepts plain requests and finds the body framing', () => {
    assert.deepEqual(checkRequestFraming('1.1', [host]), { kind: 'ok', headers: [host], body: { kind: 'none' } });
    const r = checkRequestFraming('1.1', [host, ['content-length', '12']]);
    assert.equal(r.kind, 'ok');
    assert.deepEqual(r.kind === 'ok' && r.body, { kind: 'length', length: 12 });
    const c = checkRequestFraming('1.1', [host, ['transfer-encoding', 'chunked']]);
    assert.deepEqual(c.kind === 'ok' && c.body, { kind: 'chunked' });
  });
  it('rewrites odd but valid framing in canonical form', () => {
    const r = checkRequestFraming('1.1', [host, ['content-length', '010']]);
    assert.deepEqual(r.kind === 'ok' && r.headers, [host, ['content-length', '10']]);
    const c = checkRequestFraming('1.1', [host, ['transfer-encoding', ' Chunked']]);
    assert.deepEqual(c.kind === 'ok' && c.headers, [host, ['transfer-encoding', 'chunked']]);
  });
  const rejects: Array<[string, string, HeaderList, number]> = [
    ['CL with TE', '1.1', [host, ['content-length', '5'], ['transfer-encoding', 'chunked']], 400],
    ['duplicate CL', '1.1', [host, ['content-length', '5'], ['content-length', '5']], 400],
    ['CL not digits', '1.1', [host, ['content-length', '0x5']], 400],
    ['TE not ending in chunked', '1.1', [host, ['transfer-encoding', 'chunked, gzip']], 400],
    ['unknown coding', '1.1', [host, ['transfer-encoding', 'gzip, chunked']], 501],
    ['TE in HTTP/1.0', '1.0', [host, ['transfer-encoding', 'chunked']], 400],
    ['duplicate Host', '1.1', [host, ['host', 'b.test']], 400],
    ['missing Host', '1.1', [], 400],
    ['bad Host', '1.1', [['host', 'a/b']], 400],
    ['duplicate Authorization', '1.1', [host, ['authorization', 'a'], ['authorization', 'b']], 400],
    ['Connection: content-length', '1.1', [host, ['connection', 'Content-Length']], 400],
    ['Connection: host', '1.1', [host, ['connection', 'close, host']], 400],
    ['bad field name', '1.1', [host, ['x a', '1']], 400],
    ['CR in value', '1.1', [host, ['x', 'a\rb']], 400],
    ['body over the limit', '1.1', [host, ['content-length', '101']], 413],
  ];
  for (const [name, version, headers, status] of rejects) {
    it(`rejects ${name} with ${status}`, () => {
      const r = checkRequestFraming(version, headers, 100);
      assert.equal(r.kind, 'reject');
      assert.equal(r.kind === 'reject' && r.status, status);
    });
  }
  it('HTTP/1.0 may omit Host', () => {
    assert.equal(checkRequestFraming('1.0', []).kind, 'ok');
  });
  it('validates Host authorities', () => {
    for (const ok of ['a', 'a.b:80', '[::1]:8080', '127.0.0.1', 'xn--d1acufc.xn--p1ai']) assert.ok(isValidHostHeader(ok), ok);
    for (const bad of ['a b', 'a/b', 'a@b', '', 'a:b:c', 'a?b']) assert.ok(!isValidHostHeader(bad), bad);
  });
  it('property: an accepted head carries at most one framing field, in canonical form', () => {
    const field = fc.oneof(
      fc.tuple(fc.constant('content-length'), fc.stringMatching(/^[0-9 +x-]{1,6}$/)),
      fc.tuple(fc.constant('transfer-encoding'), fc.constantFrom('chunked', 'Chunked', 'gzip', 'gzip, chunked', 'chunked, chunked', 'identity')),
      fc.tuple(fc.constant('connection'), fc.constantFrom('close', 'keep-alive', 'content-length', 'x-a')),
      fc.tuple(fc.constantFrom('host', 'x-a', 'authorization'), fc.constantFrom('a', 'b.test', 'x y')),
    );
    fc.assert(fc.property(fc.constantFrom('1.0', '1.1'), fc.array(field, { maxLength: 6 }), (version, list) => {
      const r = checkRequestFraming(version, list as HeaderList, null);
      if (r.kind !== 'ok') return;
      const cl = r.headers.filter(([n]) => n === 'content-length');
      const te = r.headers.filter(([n]) => n === 'transfer-encoding');
      assert.ok(cl.length + te.length <= 1);
      for (const [, v] of cl) assert.match(v, /^(0|[1-9][0-9]*)$/);
      for (const [, v] of te) assert.equal(v, 'chunked');
      assert.ok(r.headers.filter(([n]) => n === 'host').length <= 1);
    }), { numRuns: 2000 });
  });
});

describe('declaredContentLength', () => {
  it('reads exactly one valid Content-Length, in any spelling of the name; undefined otherwise', () => {
    assert.equal(declaredContentLength([['content-type', 'text/plain'], ['content-length', ' 1024 ']]), 1024);
    assert.equal(declaredContentLength([['Content-Length', '0']]), 0);
    assert.equal(declaredContentLength([]), undefined);
    assert.equal(declaredContentLength([['content-length', '5'], ['content-length', '5']]), undefined, 'two fields');
    for (const bad of ['', '-1', '1.5', '0x10', '1 2', '1234567890123456']) assert.equal(declaredContentLength([['content-length', bad]]), undefined, bad);
  });
});
