/**
 * The response head relay-client receives is checked before the application sees any of it (protocol.ts
 * parseResponseHead): a relay-server that sends a hostile head (a signed one: a broken or compromised server) makes
 * the client answer 502 with a clear message and log `relay-failed` with code FERRY_ERR_RELAY_BAD_HEAD.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseAuthHeader } from '../../src/relay/hmac.ts';
import { H, RELAY_PATHS } from '../../src/relay/protocol.ts';
import { createReplyWriter } from '../../src/relay/relay-reply.ts';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { SECRET, viaProxy } from './harness.ts';

/** A relay-server that opens every session, answers down chunk 0 with `head` and chunk 1 with `ok` (signed, digested). */
function startHostileServer(head: () => string): Promise<http.Server> {
  const writer = createReplyWriter(Buffer.from(SECRET), () => false);
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const nonce = parseAuthHeader(req.headers[H.auth] as string | undefined)?.nonce ?? '';
      const session = String(req.headers[H.session]);
      const path = req.url ?? '';
      if (path === RELAY_PATHS.down && req.headers[H.index] === '0') {
        return writer.reply(res, 200, nonce, { [H.session]: session, [H.index]: '0', [H.type]: 'head', [H.fin]: '0' }, Buffer.from(head()));
      }
      if (path === RELAY_PATHS.down && req.headers[H.index] === '1') {
        return writer.reply(res, 200, nonce, { [H.session]: session, [H.index]: '1', [H.type]: 'data', [H.fin]: '1' }, Buffer.from('ok'));
      }
      if (path === RELAY_PATHS.down) return void setTimeout(() => writer.reply(res, 204, nonce, { [H.session]: session, [H.index]: String(req.headers[H.index]) }), 200);
      writer.reply(res, path === RELAY_PATHS.open ? 200 : 204, nonce, { [H.session]: session });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('relay-client checks the down head', () => {
  let current = '';
  let server: http.Server;
  let client: RunningRole;
  before(async () => {
    server = await startHostileServer(() => current);
    client = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', `http://127.0.0.1:${(server.address() as AddressInfo).port}`, '--log-level', 'info', '--retries', '1'], {
      env: { FERRY_RELAY_SECRET: SECRET },
    });
  });
  after(async () => {
    await client.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const hostile: Array<[string, unknown]> = [
    ['status as a string', { status: '200', headers: [] }],
    ['missing status', { headers: [['x-a', 'b']] }],
    ['status out of range', { status: 1000, headers: [] }],
    ['headers not pairs', { status: 200, headers: [['x-a', 'b', 'c']] }],
    ['headers an object', { status: 200, headers: { 'x-a': 'b' } }],
    ['a field value with CRLF', { status: 200, headers: [['x-a', 'b\r\nset-cookie: evil=1']] }],
    ['status hidden in __proto__', JSON.parse('{"__proto__":{"status":200},"headers":[]}') as unknown],
    ['not JSON', '{"status":200,'],
  ];
  for (const [name, head] of hostile) {
    it(`${name}: 502 with a message, logged with its code`, async () => {
      current = typeof head === 'string' ? head : JSON.stringify(head);
      const seen = client.logs.length;
      const r = await viaProxy(client.url, 'GET', 'http://target.test/x');
      assert.equal(r.status, 502);
      assert.match(r.text, /invalid response head from relay-server: /);
      assert.equal(r.headers['set-cookie'], undefined);
      for (let i = 0; i < 100 && !client.logs.slice(seen).some((l) => l.event === 'relay-failed'); i++) await new Promise((res) => setTimeout(res, 20));
      const line = client.logs.slice(seen).find((l) => l.event === 'relay-failed');
      assert.equal(line?.code, 'FERRY_ERR_RELAY_BAD_HEAD', JSON.stringify(client.logs.slice(seen)));
    });
  }

  it('a valid head passes (the fixture itself is sound)', async () => {
    current = JSON.stringify({ status: 203, headers: [['x-a', 'b']] });
    const r = await viaProxy(client.url, 'GET', 'http://target.test/ok');
    assert.equal(r.status, 203);
    assert.equal(r.headers['x-a'], 'b');
    assert.equal(r.text, 'ok');
  });
});
