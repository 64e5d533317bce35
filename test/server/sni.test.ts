import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { certificateNames, selectBySni, wildcardMatches } from '../../src/server/sni.ts';
import { createTestCa } from '../helpers/certs.ts';

test('certificateNames reads the SAN DNS names (IP entries left out), lower-cased', () => {
  const ca = createTestCa();
  assert.deepEqual(certificateNames(ca.leaf(['Example.COM', '*.example.com', '127.0.0.1']).cert), ['example.com', '*.example.com']);
  // a certificate without a SAN falls back to its CN (the CA here)
  assert.deepEqual(certificateNames(ca.ca), ['ferry test ca']);
});

test('selectBySni: exact first, then one-label wildcard, else the first pair', () => {
  const entries = [
    { names: ['default.test'], value: 'default' },
    { names: ['*.example.com'], value: 'wild' },
    { names: ['api.example.com'], value: 'api' },
  ];
  assert.equal(selectBySni(entries, 'api.example.com'), 'api', 'exact wins over an earlier wildcard');
  assert.equal(selectBySni(entries, 'API.Example.com.'), 'api', 'case and a trailing dot do not matter');
  assert.equal(selectBySni(entries, 'www.example.com'), 'wild');
  assert.equal(selectBySni(entries, 'a.b.example.com'), 'default', 'a wildcard covers one label only');
  assert.equal(selectBySni(entries, 'example.com'), 'default', 'a wildcard does not cover the bare domain');
  assert.equal(selectBySni(entries, undefined), 'default', 'no SNI: the first pair');
  assert.equal(selectBySni(entries, 'other.test'), 'default');
});

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));

test('property: *.D covers L.D for one label L, and never D itself nor X.L.D', () => {
  fc.assert(fc.property(label, label, domain, (l, x, d) => {
    assert.equal(wildcardMatches(`*.${d}`, `${l}.${d}`), true);
    assert.equal(wildcardMatches(`*.${d}`, d), false);
    assert.equal(wildcardMatches(`*.${d}`, `${x}.${l}.${d}`), false);
  }));
});

test('property: a name listed exactly in some entry selects the first entry listing it, whatever wildcards precede', () => {
  fc.assert(fc.property(fc.array(fc.array(domain, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 }), fc.nat(), (lists, pick) => {
    const entries = lists.map((names, i) => ({ names: i % 2 === 0 ? names : names.map((n) => `*.${n}`), value: i }));
    const all = entries.flatMap((e) => e.names.filter((n) => !n.startsWith('*')));
    const chosen = selectBySni(entries, 'no_such_name');
    assert.equal(chosen, 0, 'an unknown name gets the default');
    if (all.length === 0) return;
    const name = all[pick % all.length]!;
    assert.equal(selectBySni(entries, name), entries.findIndex((e) => e.names.includes(name)));
  }));
});
