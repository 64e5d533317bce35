import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addForwarded, formatForwardedElement, formatForwardedValue, normalizeAddress, setXForwarded } from '../../src/http/forwarded.ts';

describe('X-Forwarded-* and Forwarded (RFC 7239)', () => {
  it('appends the client to X-Forwarded-For and overwrites Proto and Host', () => {
    const out = setXForwarded([['x-forwarded-for', '1.1.1.1'], ['x-forwarded-proto', 'https'], ['x-forwarded-host', 'evil'], ['x-forwarded-for', '2.2.2.2']],
      { address: '10.0.0.1', proto: 'http', host: 'site.test' });
    assert.deepEqual(out, [['x-forwarded-for', '1.1.1.1, 2.2.2.2, 10.0.0.1'], ['x-forwarded-proto', 'http'], ['x-forwarded-host', 'site.test']]);
  });
  it('omits X-Forwarded-Host when the client sent no Host', () => {
    assert.deepEqual(setXForwarded([], { address: '::1', proto: 'http', host: undefined }), [['x-forwarded-for', '::1'], ['x-forwarded-proto', 'http']]);
  });
  it('maps IPv4-mapped IPv6 addresses to IPv4', () => {
    assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(normalizeAddress('::1'), '::1');
  });
  it('formats Forwarded elements with quoting where RFC 7239 §6 needs it', () => {
    assert.equal(formatForwardedElement({ address: '192.0.2.60', proto: 'http', host: 'example.com' }), 'for=192.0.2.60;host=example.com;proto=http');
    assert.equal(formatForwardedElement({ address: '2001:db8::1', proto: 'https', host: 'ex.com:8080' }), 'for="[2001:db8::1]";host="ex.com:8080";proto=https');
    assert.deepEqual(addForwarded([['forwarded', 'for=a']], { address: '1.2.3.4', proto: 'http', host: undefined }), [['forwarded', 'for=a, for=1.2.3.4;proto=http']]);
  });
  it('property: a Forwarded value is a token or a quoted-string that round-trips', () => {
    fc.assert(fc.property(fc.string({ maxLength: 20 }).filter((s) => /^[\x20-\x7e]*$/.test(s)), (s) => {
      const v = formatForwardedValue(s);
      if (v.startsWith('"')) {
        assert.ok(v.endsWith('"'));
        assert.equal(v.slice(1, -1).replace(/\\(.)/g, '$1'), s);
      } else {
        assert.equal(v, s);
        assert.match(v, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
      }
    }), { numRuns: 500 });
  });
});
