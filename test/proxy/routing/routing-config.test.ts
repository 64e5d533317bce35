import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseRoutingConfig } from '../../../src/proxy/routing/routing-config.ts';
import { UsageError } from '../../../src/errors.ts';

const ok = {
  routes: [{ host: '*.example.com', path: '/api', 'strip-prefix': true, pool: 'api' }, { path: '/static', pool: 'static' }],
  pools: {
    api: { targets: ['http://127.0.0.1:8081', { url: 'http://127.0.0.1:8082', weight: 3 }], balance: 'least-requests', health: { path: '/healthz', interval: '2s', timeout: '1s', 'expect-status': '200-299', rise: 2, fall: 2 }, retry: { tries: 3, 'try-timeout': '5s', 'body-limit': '16KiB', methods: ['post'] } },
    static: { targets: ['https://cdn.internal'], balance: 'consistent-hash', 'hash-on': 'cookie:session', panic: true },
  },
  'pool-defaults': { ejection: { 'consecutive-failures': 2, 'base-time': '10s' } },
};

function problem(data: Record<string, unknown>, upstreams: URL[] = []): string {
  try { parseRoutingConfig(data, 'f.yaml', upstreams); } catch (err) { assert.ok(err instanceof UsageError); return err.message; }
  assert.fail('accepted');
}

describe('routing config validation', () => {
  it('reads routes, pools, targets, weights, policies, health, retries and pool-defaults', () => {
    const c = parseRoutingConfig(ok, 'f.yaml', [new URL('http://127.0.0.1:9000')]);
    assert.deepEqual(c.pools.map((p) => p.name), ['default', 'api', 'static']);
    const api = c.pools[1]!;
    assert.deepEqual(api.targets.map((t) => t.weight), [1, 3]);
    assert.equal(api.policy, 'least-requests');
    assert.deepEqual(api.health, { path: '/healthz', intervalMs: 2000, timeoutMs: 1000, expect: [200, 299], rise: 2, fall: 2 });
    assert.deepEqual([api.retry.tries, api.retry.tryTimeoutMs, api.retry.bodyLimit, api.retry.methods], [3, 5000, 16384, ['POST']]);
    assert.equal(api.ejection.consecutiveFailures, 2, 'pool-defaults apply');
    assert.equal(c.pools[0]!.ejection.baseEjectionMs, 10_000, 'pool-defaults apply to the default pool too');
    assert.deepEqual(c.pools[2]!.hashOn, { kind: 'cookie', name: 'session' });
    assert.equal(c.pools[2]!.panic, true);
    assert.deepEqual([c.pools[0]!.panic, api.panic], [true, false], 'the --upstream pool panics by default, configured pools do not');
    assert.deepEqual(c.routes[0], { name: 'route-1', host: '*.example.com', pathPrefix: '/api', stripPrefix: true, pool: 'api' });
  });

  it('names the file, the key and the problem', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ routes: [{ pool: 'nope' }], pools: {} }, /^config file f\.yaml: routes\[0\]\.pool: no pool named "nope"/],
      [{ pools: { a: { targets: [] } } }, /pools\.a\.targets: must be a non-empty list/],
      [{ pools: { a: { targets: ['ftp://x'] } } }, /pools\.a\.targets\[0\]: ftp:\/\/x must be http:\/\/ or https:\/\//],
      [{ pools: { a: { targets: [{ url: 'http://x', weight: 0 }] } } }, /pools\.a\.targets\[0\]\.weight: must be an integer from 1 to 1000/],
      [{ pools: { a: { targets: ['http://x'], balance: 'random' } } }, /pools\.a\.balance: "random" is not round-robin/],
      [{ pools: { a: { targets: ['http://x'], 'hash-on': 'path' } } }, /pools\.a\.hash-on: only with balance: consistent-hash/],
      [{ pools: { a: { targets: ['http://x'], health: { interval: '1s', timeout: '2s' } } } }, /pools\.a\.health\.timeout: must not be longer than the interval/],
      [{ pools: { a: { targets: ['http://x'], health: { interval: 5 } } } }, /pools\.a\.health\.interval: duration "5" needs a unit/],
      [{ pools: { a: { targets: ['http://x'], retry: { tries: 0 } } } }, /pools\.a\.retry\.tries: must be an integer from 1 to 10/],
      [{ pools: { a: { targets: ['http://x'], ejection: { 'max-share': 2 } } } }, /pools\.a\.ejection\.max-share: must be a number from 0 to 1/],
      [{ pools: { a: { targets: ['http://x'], colour: 'red' } } }, /pools\.a\.colour: unknown key/],
      [{ pools: { a: { targets: ['http://x', 'http://x'] } } }, /pools\.a\.targets\[1\]: http:\/\/x\/ is listed twice/],
      [{ pools: { default: { targets: ['http://x'] } } }, /pools\.default: "default" is the pool built from upstream/],
      [{ routes: [{ pool: 'a', 'strip-prefix': true }], pools: { a: { targets: ['http://x'] } } }, /routes\[0\]\.strip-prefix: needs a path/],
      [{ routes: [{ pool: 'a', host: 'bad host' }], pools: { a: { targets: ['http://x'] } } }, /routes\[0\]\.host: "bad host" is not a host name/],
      [{ routes: { pool: 'a' } }, /routes: must be a list/],
    ];
    for (const [data, re] of cases) assert.match(problem(data, data.pools && 'default' in (data.pools as object) ? [new URL('http://u')] : []), re);
  });

  it('property: any data in the sections is either accepted or refused with a UsageError, never a crash', () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
        fc.constantFrom('http://127.0.0.1:1', '2s', '200-399', 'consistent-hash', 'cookie:s', 'path', '/api', 'a'),
        fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('targets', 'url', 'weight', 'pool', 'path', 'host', 'health', 'retry', 'interval', 'tries', 'balance', 'hash-on', 'a', 'strip-prefix'), tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(fc.property(fc.record({ routes: value, pools: value, 'pool-defaults': value }, { requiredKeys: [] }), (data) => {
      try { parseRoutingConfig(data as Record<string, unknown>, 'f.yaml', []); } catch (err) { assert.ok(err instanceof UsageError, String(err)); }
    }), { numRuns: 2000 });
  });
});
