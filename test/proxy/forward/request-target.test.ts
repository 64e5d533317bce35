import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAbsoluteTarget, parseAuthorityTarget, formatAuthority } from '../../../src/proxy/forward/request-target.ts';

test('absolute-form targets', () => {
  const table: Array<[string, { origin: string; path: string; hostHeader: string; host: string; port: number }]> = [
    ['http://example.com/a?b=1', { origin: 'http://example.com:80', path: '/a?b=1', hostHeader: 'example.com', host: 'example.com', port: 80 }],
    ['http://Example.COM:8080', { origin: 'http://example.com:8080', path: '/', hostHeader: 'example.com:8080', host: 'example.com', port: 8080 }],
    ['HTTP://h?q=%2F%20x&&', { origin: 'http://h:80', path: '/?q=%2F%20x&&', hostHeader: 'h', host: 'h', port: 80 }],
    ['http://127.0.0.1:81/x/../y?', { origin: 'http://127.0.0.1:81', path: '/x/../y?', hostHeader: '127.0.0.1:81', host: '127.0.0.1', port: 81 }],
    ['http://[::1]:8080/p', { origin: 'http://[::1]:8080', path: '/p', hostHeader: '[::1]:8080', host: '::1', port: 8080 }],
    ['https://a.b:443/', { origin: 'https://a.b:443', path: '/', hostHeader: 'a.b', host: 'a.b', port: 443 }],
    ['http://h:/p', { origin: 'http://h:80', path: '/p', hostHeader: 'h', host: 'h', port: 80 }],
  ];
  for (const [target, want] of table) {
    const r = parseAbsoluteTarget(target);
    assert.equal(r.kind, 'absolute', target);
    if (r.kind !== 'absolute') continue;
    assert.deepEqual({ origin: r.origin, path: r.path, hostHeader: r.hostHeader, host: r.authority.host, port: r.authority.port }, want, target);
  }
});

test('non-absolute and invalid targets', () => {
  for (const t of ['/', '/a?b', '*', 'example.com:443', '']) assert.equal(parseAbsoluteTarget(t).kind, 'not-absolute', t);
  for (const t of ['ftp://h/', 'http://user:pw@h/', 'http://h/#frag', 'http:///p', 'http://h:0/', 'http://h:65536/', 'http://h:8x/',
    'http://bad_host!/', 'http://[::1/', 'http://[zz::1]/', 'http://-h/', 'http://h h/', 'ws://h/']) {
    assert.equal(parseAbsoluteTarget(t).kind, 'invalid', t);
  }
});

test('authority-form targets (CONNECT)', () => {
  assert.deepEqual(parseAuthorityTarget('example.com:443'), { kind: 'authority', authority: { host: 'example.com', port: 443 } });
  assert.deepEqual(parseAuthorityTarget('[2001:db8::1]:8443'), { kind: 'authority', authority: { host: '2001:db8::1', port: 8443 } });
  assert.deepEqual(parseAuthorityTarget('10.0.0.1:22'), { kind: 'authority', authority: { host: '10.0.0.1', port: 22 } });
  for (const t of ['example.com', 'example.com:', 'http://example.com:443', '/x', 'a@b:443', 'a:443/x', 'a b:443', ':443', 'h:0', 'h:99999', '[::1]']) {
    assert.equal(parseAuthorityTarget(t).kind, 'invalid', t);
  }
});

test('property: the path of an absolute-form target is kept byte for byte', () => {
  const pathChar = fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@/%?'.split(''));
  fc.assert(fc.property(fc.array(pathChar, { maxLength: 40 }).map((a) => `/${a.join('')}`), fc.integer({ min: 1, max: 65535 }), (path, port) => {
    const r = parseAbsoluteTarget(`http://host.test:${port}${path}`);
    assert.equal(r.kind, 'absolute');
    if (r.kind === 'absolute') {
      assert.equal(r.path, path);
      assert.equal(r.authority.port, port);
      assert.equal(formatAuthority(r.authority), `host.test:${port}`);
    }
  }));
});
