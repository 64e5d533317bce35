/**
 * Re-serialisation property (RELIABILITY S8, a small version of the HTTP Garden method): random requests go through
 * ferry to a recording upstream; each is either refused with 4xx and nothing forwarded, or the upstream receives
 * exactly one request with the same method, target and end-to-end fields (in order) and the same body.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { HOP_BY_HOP_HEADERS } from '../../src/http/hop-by-hop.ts';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';
import { rawRequest } from '../fixtures/raw-client.ts';
import { startProxy, type RunningProxy } from '../fixtures/proxy.ts';

const ADDED = new Set(['via', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'content-length', 'transfer-encoding', 'host']);

describe('re-serialisation property', () => {
  let up: RecordingUpstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startRecordingUpstream();
    proxy = await startProxy({ upstream: up.url });
  });
  after(async () => { await proxy.close(); await up.close(); });

  it('every request is refused whole or forwarded as one request with the same end-to-end fields and body', async () => {
    const name = fc.oneof(
      // framing fields (Content-Length, Transfer-Encoding) are the smuggling corpus' subject: here the body matches its framing
      fc.constantFrom('x-a', 'X-B', 'accept', 'cookie', 'connection', 'te', 'keep-alive', 'content-type', 'authorization', 'host', 'expect-ct', 'via', 'proxy-authorization'),
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,10}$/),
    );
    const value = fc.oneof(fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/), fc.constantFrom('close', 'x-a', 'chunked', '5', 'a\x00b', ' lead', 'trail '));
    const target = fc.oneof(fc.stringMatching(/^\/[\x21-\x7e]{0,24}$/), fc.constantFrom('/', '/?', '/a?b=%2F', '*', 'http://x/y'));
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');
    const body = fc.option(fc.stringMatching(/^[a-z]{0,40}$/), { nil: undefined });
    await fc.assert(fc.asyncProperty(method, target, fc.array(fc.tuple(name, value), { maxLength: 8 }), body, async (m, t, fields, b) => {
      up.reset();
      const lines = fields.map(([n, v]) => `${n}: ${v}\r\n`).join('');
      const framing = b === undefined ? '' : `Content-Length: ${b.length}\r\n`;
      const raw = `${m} ${t} HTTP/1.1\r\nHost: prop.test\r\n${lines}${framing}Connection: close\r\n\r\n${b ?? ''}`;
      const r = await rawRequest(proxy.port, raw);
      assert.equal(r.statuses.length, 1, `one answer for ${JSON.stringify(raw)}`);
      const status = r.statuses[0]!;
      if (status >= 400) {
        assert.ok(status < 500, `status ${status} for ${JSON.stringify(raw)}`);
        assert.equal(up.totalBytes(), 0, 'refused requests forward nothing');
        return;
      }
      assert.equal(up.requests.length, 1, 'exactly one upstream request');
      const got = up.requests[0]!;
      assert.equal(got.method, m);
      assert.equal(got.url, t);
      const pairs = (flat: string[]) => { const o: Array<[string, string]> = []; for (let i = 0; i < flat.length; i += 2) o.push([flat[i]!.toLowerCase(), flat[i + 1]!]); return o; };
      const named = new Set(fields.filter(([n]) => n.toLowerCase() === 'connection').flatMap(([, v]) => v.split(',').map((x) => x.trim().toLowerCase())));
      const endToEnd = (n: string) => !HOP_BY_HOP_HEADERS.has(n) && !named.has(n) && !ADDED.has(n) && n !== 'expect';
      const sent = fields.map(([n, v]): [string, string] => [n.toLowerCase(), v.trim()]).filter(([n]) => endToEnd(n));
      const received = pairs(got.rawHeaders).filter(([n]) => endToEnd(n));
      assert.deepEqual(received, sent);
      if (b) assert.ok(up.connections.some((c) => c.text().endsWith(`\r\n\r\n${b}`)), 'body forwarded unchanged');
    }), { numRuns: 300 });
  });
});
