/**
 * 1xx interim responses from the origin relayed to the client (RFC 9110 §15.2): 102 Processing and 103 Early Hints,
 * with and without the cache, on the undici path and the Expect: 100-continue (node:http) path; never cached, never
 * mixed into the final response, never sent to an HTTP/1.0 client. Real sockets both sides; raw client bytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startOrigin, type Origin } from '../cache/helpers.ts';
import { rawRequest } from '../fixtures/raw-client.ts';
import { startProxy, type RunningProxy } from '../fixtures/proxy.ts';
import { MAX_RELAYED_INTERIM } from '../../src/http/interim.ts';

const EARLY_HINTS = 'HTTP/1.1 103 Early Hints\r\nlink: </styles.css>; rel=preload; as=style\r\nx-my-header: test\r\n\r\n';

describe('interim responses relayed', () => {
  let origin: Origin;
  let plain: RunningProxy;
  let cached: RunningProxy;
  before(async () => {
    origin = await startOrigin((req, res) => {
      const send = () => {
        res.writeProcessing();
        res.writeEarlyHints({ link: '</styles.css>; rel=preload; as=style', 'x-my-header': 'test' });
        // the final answer a little later, as an origin that "thinks" would
        setTimeout(() => { res.writeHead(200, { 'cache-control': 'max-age=3600', 'content-length': '5' }); res.end('final'); }, 50);
      };
      if (req.url === '/many') {
        for (let i = 0; i < 40; i++) res.writeProcessing();
        res.writeHead(200, { 'content-length': '2' });
        res.end('ok');
        return;
      }
      if (req.headers.expect === '100-continue') { res.writeContinue(); req.resume(); req.on('end', send); } else { req.resume(); send(); }
    });
    plain = await startProxy({ upstream: origin.url });
    cached = await startProxy({ upstream: origin.url, cache: 'memory' });
  });
  after(async () => { await plain.close(); await cached.close(); await origin.close(); });

  it('no cache: 102 and 103 reach the client before the final 200, their fields kept out of it', async () => {
    const r = await rawRequest(plain.port, 'GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [102, 103, 200]);
    assert.ok(r.text.startsWith(`HTTP/1.1 102 Processing\r\n\r\n${EARLY_HINTS}HTTP/1.1 200 `), r.text);
    const final = r.text.slice(r.text.indexOf('HTTP/1.1 200'));
    assert.doesNotMatch(final, /x-my-header|^link:/im);
    assert.ok(final.endsWith('\r\n\r\nfinal'));
  });

  it('cache: a miss relays them, the hit that follows has none (interim responses are not stored)', async () => {
    const first = await rawRequest(cached.port, 'GET /cached HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.deepEqual(first.statuses, [102, 103, 200]);
    assert.ok(first.text.includes(EARLY_HINTS));
    const second = await rawRequest(cached.port, 'GET /cached HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.deepEqual(second.statuses, [200]);
    assert.match(second.text, /cache-status: ferry; hit/i);
    assert.doesNotMatch(second.text, /x-my-header/i);
    assert.equal(origin.count('/cached'), 1);
  });

  it('Expect: 100-continue (node:http upstream path): 100, then the origin\'s 102 and 103, then the final answer', async () => {
    const r = await rawRequest(plain.port, 'PUT /expect HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhi');
    assert.deepEqual(r.statuses, [100, 102, 103, 200]);
    assert.ok(r.text.includes(EARLY_HINTS));
  });

  it('an HTTP/1.0 client gets only the final response (RFC 9110 §15.2)', async () => {
    const r = await rawRequest(plain.port, 'GET /old HTTP/1.0\r\nHost: a\r\n\r\n');
    assert.deepEqual(r.statuses, [200]);
  });

  it('keep-alive: the next request on the connection is answered normally after a relayed 103', async () => {
    const r = await rawRequest(plain.port, ['GET /ka1 HTTP/1.1\r\nHost: a\r\n\r\n', 'GET /ka2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'], { gapMs: 300 });
    assert.deepEqual(r.statuses, [102, 103, 200, 102, 103, 200]);
  });

  it(`at most ${MAX_RELAYED_INTERIM} interim responses per request are relayed; the final answer still follows`, async () => {
    const r = await rawRequest(plain.port, 'GET /many HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.deepEqual(r.statuses, [...Array<number>(MAX_RELAYED_INTERIM).fill(102), 200]);
    assert.ok(r.text.endsWith('\r\n\r\nok'));
  });
});
