/**
 * The relay removes hop-by-hop fields by the proxy's rules (http/hop-by-hop.ts; issue 12 item 5), both ways:
 * options named by `Proxy-Connection` go too (the relay's own list only dropped the field itself), and a
 * `Connection` / `Proxy-Connection` option naming Host or a framing field is refused 400 before anything is relayed.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rawRequest } from '../fixtures/raw-client.ts';
import { getJson, startRelayPair, type RelayPair } from './harness.ts';

interface RawTarget { port: number; heads: string[]; close(): Promise<void> }

/** A target written on raw sockets, to control every response byte: records each request head, answers `response`. */
async function startRawTarget(response: string): Promise<RawTarget> {
  const heads: string[] = [];
  const server = net.createServer((socket) => {
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      heads.push(text.slice(0, end));
      text = '';
      socket.end(response);
    });
    socket.on('error', () => { /* the relay-server may close first */ });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    heads,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close, X-Resp-Conn\r\nX-Resp-Conn: 1\r\n'
  + 'Proxy-Connection: X-Resp-Proxy\r\nX-Resp-Proxy: 1\r\nKeep-Alive: timeout=5\r\nX-Resp-Keep: 1\r\n\r\nok';

describe('relay hop-by-hop fields: the proxy\'s rules', () => {
  let pair: RelayPair;
  let target: RawTarget;
  before(async () => {
    target = await startRawTarget(RESPONSE);
    pair = await startRelayPair();
  });
  after(async () => {
    await pair?.close();
    await target?.close();
  });

  it('request and response: fields named by Connection and by Proxy-Connection are removed, end-to-end fields kept', async () => {
    const r = await rawRequest(pair.client.port, `GET http://127.0.0.1:${target.port}/h HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\n`
      + 'Proxy-Connection: keep-alive, X-Req-Proxy\r\nX-Req-Proxy: secret\r\nConnection: X-Req-Conn\r\nX-Req-Conn: 1\r\n'
      + 'TE: trailers\r\nX-Req-Keep: yes\r\nConnection: close\r\n\r\n', { timeoutMs: 10_000 });
    assert.deepEqual(r.statuses, [200]);
    const head = target.heads.at(-1)!.toLowerCase();
    assert.match(head, /\r\nx-req-keep: yes/);
    for (const gone of ['x-req-proxy', 'x-req-conn', 'proxy-connection', 'te']) assert.doesNotMatch(head, new RegExp(`\r\n${gone}:`), `${gone} reached the target`);
    const answer = r.text.slice(0, r.text.indexOf('\r\n\r\n')).toLowerCase();
    assert.match(answer, /\r\nx-resp-keep: 1/);
    for (const gone of ['x-resp-proxy', 'x-resp-conn', 'proxy-connection', 'keep-alive']) assert.doesNotMatch(answer, new RegExp(`\r\n${gone}:`), `${gone} reached the application`);
  });

  for (const [field, named, body] of [
    ['Connection', 'Host', ''],
    ['Connection', 'Content-Length', 'hello'],
    ['Proxy-Connection', 'Host', ''],
    ['Proxy-Connection', 'Content-Length', 'hello'],
  ] as const) {
    it(`${field}: ${named} is refused with 400 and nothing reaches the gateway (a Connection option may not remove it)`, async () => {
      // Earlier sessions' close messages (sent after their response) have all arrived.
      for (let i = 0; i < 250; i++) {
        const s = await getJson(`${pair.servers[0]!.url}/stats`);
        if (s.sessions.closed >= s.sessions.opened) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const bytes = pair.gateway.bytesReceived();
      const framing = body === '' ? '' : `Content-Length: ${body.length}\r\n`;
      const r = await rawRequest(pair.client.port, `${body === '' ? 'GET' : 'POST'} http://127.0.0.1:${target.port}/p HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\n`
        + `${field}: keep-alive, ${named}\r\n${framing}\r\n${body}`, { timeoutMs: 10_000 });
      assert.deepEqual(r.statuses, [400]);
      assert.ok(r.closedByServer);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(pair.gateway.bytesReceived(), bytes, 'nothing sent towards the gateway');
    });
  }
});
