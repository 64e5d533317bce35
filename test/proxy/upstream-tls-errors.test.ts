/** The upstream TLS failures in the error table (proxy/upstream-errors.ts, upstream-tls.ts): code → 502 and why. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toUpstreamError } from '../../src/proxy/upstream-errors.ts';

const err = (code: string, cause?: unknown) => Object.assign(new Error(`boom ${code}`), { code, ...(cause ? { cause } : {}) });

test('certificate errors become FERRY_ERR_UPSTREAM_TLS (502) whose message says why', () => {
  const rows: Array<[string, RegExp]> = [
    ['CERT_HAS_EXPIRED', /certificate expired/],
    ['CERT_NOT_YET_VALID', /not yet valid/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /unknown CA/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /unknown CA \(self-signed certificate in chain\)/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /unknown CA \(self-signed certificate\)/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /name mismatch/],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', /TLS handshake failed/],
  ];
  for (const [code, why] of rows) {
    const fe = toUpstreamError(err(code));
    assert.equal(fe.code, 'FERRY_ERR_UPSTREAM_TLS', code);
    assert.equal(fe.status, 502);
    assert.match(fe.message, why);
    assert.match(fe.message, new RegExp(`\\(${code}\\)`), 'the Node code is in the line');
  }
});

test('a TLS code one level down (undici wraps) is found; other errors keep their mapping', () => {
  const wrapped = toUpstreamError(err('UND_ERR_SOCKET', err('CERT_HAS_EXPIRED')));
  assert.equal(wrapped.code, 'FERRY_ERR_UPSTREAM_TLS');
  assert.match(wrapped.message, /certificate expired \(CERT_HAS_EXPIRED\)/);
  assert.equal(toUpstreamError(err('ECONNRESET')).code, 'FERRY_ERR_UPSTREAM_CLOSED');
  assert.equal(toUpstreamError(err('ECONNREFUSED')).code, 'FERRY_ERR_UPSTREAM_UNREACHABLE');
});
