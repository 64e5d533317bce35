import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hostMatches, matchRoute, prefixMatches, requestHost, stripPrefix, type RouteSpec } from '../../../src/proxy/routing/route-table.ts';

const routes: RouteSpec[] = [
  { name: 'api-exact', host: 'api.example.com', pathPrefix: '/v1', stripPrefix: true, pool: 'api-v1' },
  { name: 'api-wild', host: '*.example.com', pathPrefix: '/api', stripPrefix: false, pool: 'api' },
  { name: 'static', pathPrefix: '/static/', stripPrefix: true, pool: 'static' },
  { name: 'docs-host', host: 'docs.test', stripPrefix: false, pool: 'docs' },
];

describe('route table', () => {
  it('matches exact hosts, wildcard hosts (not the bare domain), path prefixes at segment boundaries; first match wins', () => {
    const pick = (host: string, target: string) => { const m = matchRoute(routes, host, target); return m && [m.route.name, m.path]; };
    assert.deepEqual(pick('api.example.com', '/v1/users?id=1'), ['api-exact', '/users?id=1']);
    assert.deepEqual(pick('api.example.com', '/api/x'), ['api-wild', '/api/x']); // exact host route's prefix did not match
    assert.deepEqual(pick('a.b.example.com', '/api'), ['api-wild', '/api']);
    assert.equal(pick('example.com', '/api'), null, 'the wildcard does not take the bare domain');
    assert.equal(pick('a.example.com', '/apix'), null, '/api does not take /apix');
    assert.deepEqual(pick('anything', '/static/app.js'), ['static', '/app.js']);
    assert.deepEqual(pick('docs.test', '/any/where'), ['docs-host', '/any/where']);
    assert.equal(pick('other.test', '/'), null, 'no match → null (404 or the default pool)');
  });

  it('strips a prefix to an origin-form target', () => {
    assert.equal(stripPrefix('/api', '/api'), '/');
    assert.equal(stripPrefix('/api', '/api?q=1'), '/?q=1');
    assert.equal(stripPrefix('/api', '/api/a/b'), '/a/b');
    assert.equal(stripPrefix('/static/', '/static/x'), '/x');
  });

  it('reads the host from Host: lower case, port and trailing dot removed, IPv6 kept bracketed', () => {
    assert.equal(requestHost('API.Example.COM:8080'), 'api.example.com');
    assert.equal(requestHost('example.com.'), 'example.com');
    assert.equal(requestHost('[::1]:8080'), '[::1]');
    assert.equal(requestHost(undefined), '');
  });

  it('property: a matched prefix, stripped, always leaves an origin-form target, and prefix + rest gives the target back', () => {
    const seg = fc.stringMatching(/^[a-z0-9]{1,5}$/);
    fc.assert(fc.property(fc.array(seg, { minLength: 1, maxLength: 3 }), fc.array(seg, { maxLength: 3 }), fc.option(seg), (pre, rest, q) => {
      const prefix = `/${pre.join('/')}`;
      const target = `${prefix}${rest.length ? `/${rest.join('/')}` : ''}${q === null ? '' : `?${q}`}`;
      assert.ok(prefixMatches(prefix, target));
      const out = stripPrefix(prefix, target);
      assert.ok(out.startsWith('/'));
      assert.equal(prefix + (out.startsWith('/?') || out === '/' ? out.slice(1) : out), target);
    }));
  });

  it('property: *.d matches exactly the names ending in .d with at least one more label', () => {
    const label = fc.stringMatching(/^[a-z]{1,6}$/);
    fc.assert(fc.property(label, label, fc.array(label, { maxLength: 2 }), (sub, dom, more) => {
      const d = `${dom}.test`;
      assert.ok(hostMatches(`*.${d}`, [...more, sub, d].join('.')));
      assert.ok(!hostMatches(`*.${d}`, d));
      assert.ok(!hostMatches(`*.${d}`, `${sub}${d}`));
    }));
  });
});
