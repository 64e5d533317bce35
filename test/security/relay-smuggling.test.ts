/**
 * The relay client's listener runs the same accept step as `ferry proxy` (server/request-guard.ts; issue 12 item 4):
 * the proxy's raw-socket smuggling corpus (smuggling-corpus.ts), sent to `ferry relay-client` in front of the gateway
 * fixture and a real relay-server. Every invalid vector is refused with the proxy's status, the connection closed,
 * and not one byte (nor a new connection) reaches the gateway; the next client is still served through the relay.
 *
 * The relay client is a forward proxy: each vector's first request line is sent in absolute-form (`GET http://a/x`),
 * so that a request it would relay is really relayed. Vectors whose rule belongs to a reverse proxy are not run
 * here (absolute-form without --forward), CONNECT refusals are 400 (the relay client tunnels CONNECT; the proxy
 * without --forward answers 405), and the body-limit vector needs --max-body, which the relay does not have.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../fixtures/raw-client.ts';
import { waitFor } from '../helpers/wait.ts';
import { getJson, startRelayPair, startTarget, type RelayPair, type Target } from '../relay/harness.ts';
import { CORPUS, type InvalidVector } from './smuggling-corpus.ts';

const REVERSE_PROXY_ONLY = new Set(['absolute-form without --forward']);
const INVALID = CORPUS.filter((v): v is InvalidVector => v.kind === 'invalid' && v.limited !== true && !REVERSE_PROXY_ONLY.has(v.name));

/** The first request line in absolute-form, as an application using the relay client as its proxy sends it. */
function toAbsoluteForm(raw: string): string {
  return raw.replace(/^([^ \r\n]+) (\/[^ \r\n]*) (HTTP\/)/, '$1 http://a$2 $3');
}


function expectedStatuses(v: InvalidVector): readonly number[] {
  const allowed = typeof v.status === 'number' ? [v.status] : v.status;
  return v.raw.startsWith('CONNECT ') ? allowed.map((s) => (s === 405 ? 400 : s)) : allowed;
}

describe(`relay-client: the proxy's smuggling corpus, ${INVALID.length} invalid vectors — refused, closed, nothing towards the gateway`, () => {
  let target: Target;
  let pair: RelayPair;
  before(async () => {
    target = await startTarget();
    pair = await startRelayPair();
  });
  after(async () => {
    await pair?.close();
    await target?.close();
  });

  /** Until the relay-server has processed the close message of every session so far (sent after each response). */
  async function settled(): Promise<void> {
    await waitFor(async () => {
      const s = await getJson(`${pair.servers[0]!.url}/stats`);
      return s.sessions.closed >= s.sessions.opened;
    }, 'the previous sessions\' close messages');
  }

  /** Send `raw`; assert the refusal and that the gateway saw nothing; then a normal request still works. */
  async function refusedWithNothingRelayed(raw: string, allowed: readonly number[]): Promise<void> {
    await settled();
    const bytes = pair.gateway.bytesReceived();
    const connections = pair.gateway.connectionsAccepted();
    const r = await rawRequest(pair.client.port, raw);
    assert.equal(r.statuses.length, 1, `exactly one response, got ${JSON.stringify(r.text.slice(0, 300))}`);
    assert.ok(allowed.includes(r.statuses[0]!), `status ${r.statuses[0]} not in ${allowed.join('/')}: ${JSON.stringify(r.text.slice(0, 300))}`);
    assert.ok(r.closedByServer, 'connection closed after the answer');
    await new Promise((resolve) => setTimeout(resolve, 20)); // room for anything late to reach the gateway
    assert.equal(pair.gateway.bytesReceived() - bytes, 0, 'bytes sent towards the gateway');
    assert.equal(pair.gateway.connectionsAccepted() - connections, 0, 'connections opened to the gateway');
    // The relay client still serves the next client, through the gateway.
    const next = await rawRequest(pair.client.port, `GET ${target.url}/next HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\nConnection: close\r\n\r\n`, { timeoutMs: 10_000 });
    assert.deepEqual(next.statuses, [200]);
    assert.match(next.text, /hello \/next/);
    assert.ok(pair.gateway.bytesReceived() > bytes, 'the next request went through the gateway');
  }

  it('Transfer-Encoding: gzip, chunked → 501, as ferry proxy answers', async () => {
    await refusedWithNothingRelayed(`POST http://a/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, [501]);
  });

  it('two Host fields → 400, as ferry proxy answers', async () => {
    await refusedWithNothingRelayed(`GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: evil.test\r\n\r\n`, [400]);
  });

  it('a valid request followed by a NUL in the same read: cancelled before any relay message (abortInFlight)', async () => {
    await refusedWithNothingRelayed(`GET ${target.url}/x HTTP/1.1\r\nHost: a\r\n\r\n\x00`, [400]);
  });

  describe('the corpus', () => {
    for (const v of INVALID) {
      it(`${v.name} [${v.source}]`, async () => {
        await refusedWithNothingRelayed(toAbsoluteForm(v.raw), expectedStatuses(v));
      });
    }
  });
});
