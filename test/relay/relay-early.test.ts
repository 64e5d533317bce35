/**
 * Messages that overtake their session's open (issue 18): relay-client sends the first up chunks and down polls right
 * behind the open, marked `x-ferry-early: 1`, and relay-server holds them until the open arrives, on the same instance
 * or (Redis) another one; bounded in time (--poll-timeout) and count, and applied once however often they are re-sent.
 * The messages are sent here by the client's own GatewayTransport, straight to relay-server, in the order under test.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { redisUnavailable, startRedis, type RunningRedis } from '../helpers/redis.ts';
import { createSilentLogger } from '../../src/server/logger.ts';
import { GatewayTransport, replyText, type RelayReply } from '../../src/relay/gateway-transport.ts';
import { formatOpenRequest, H, RELAY_PATHS } from '../../src/relay/protocol.ts';
import { newRelayCounters } from '../../src/relay/relay-stats.ts';
import { getJson, SECRET, startTarget, type Target } from './harness.ts';

function transportTo(url: string): GatewayTransport {
  return new GatewayTransport({
    gateway: new URL(url), secret: Buffer.from(SECRET), sigv4: undefined, retries: 0, pollTimeoutMs: 20_000,
    maxMessage: 1024 * 1024, counters: newRelayCounters(), log: createSilentLogger(),
  });
}

const early = (id: string) => ({ [H.session]: id, [H.early]: '1' });

/** Bounded wait until relay-server at `url` holds `n` early messages (it has them: they overtook the open). */
async function held(url: string, n: number): Promise<Record<string, any>> {
  let stats = await getJson(`${url}/stats`);
  for (let i = 0; i < 200 && stats.early.held !== n; i++) {
    await sleep(25);
    stats = await getJson(`${url}/stats`);
  }
  assert.equal(stats.early.held, n, `relay-server holds ${stats.early.held} early messages, not ${n}`);
  return stats;
}

/** Down chunks from `from` until fin, through `t`: the response's head and body. */
async function download(t: GatewayTransport, id: string, from: number, first?: RelayReply): Promise<{ head: unknown; body: string }> {
  let head: unknown;
  let body = '';
  for (let i = from, r = first; ; i++, r = undefined) {
    r ??= await t.call(RELAY_PATHS.down, { [H.session]: id, [H.index]: String(i), [H.ack]: String(i) }, Buffer.alloc(0));
    if (r.status === 204) { i--; continue; }
    assert.equal(r.status, 200, `down ${i}: ${r.status} ${replyText(r)}`);
    if (r.headers[H.type] === 'head') head = JSON.parse(replyText(r));
    else body += replyText(r);
    if (r.headers[H.fin] === '1') return { head, body };
  }
}

const openEcho = (target: Target) => formatOpenRequest({ kind: 'http', method: 'POST', url: `${target.url}/echo`, headers: [['host', new URL(target.url).host]], hasBody: true });

/** A target and one relay-server (memory store, `args` added) for the enclosing describe, with a transport to it. */
function oneServer(args: string[]): { target: Target; server: RunningRole; t: GatewayTransport } {
  const one = {} as { target: Target; server: RunningRole; t: GatewayTransport };
  before(async () => {
    one.target = await startTarget();
    one.server = await startRole(['relay-server', '--listen', '127.0.0.1:0', ...args, '--log-level', 'warn'], { env: { FERRY_RELAY_SECRET: SECRET } });
    one.t = transportTo(one.server.url);
  });
  after(async () => {
    await one.t.close();
    await one.server.stop();
    await one.target.close();
  });
  return one;
}

describe('one relay-server (memory store)', () => {
  const one = oneServer(['--poll-timeout', '2s']);

  test('a down poll and an up chunk sent before their open are held, then served once the open arrives', async () => {
    const id = randomUUID();
    const poll = one.t.call(RELAY_PATHS.down, { ...early(id), [H.index]: '0', [H.ack]: '0' }, Buffer.alloc(0));
    const chunk = one.t.call(RELAY_PATHS.up, { ...early(id), [H.index]: '0', [H.fin]: '1' }, Buffer.from('hello early'));
    await held(one.server.url, 2);
    const opened = await one.t.call(RELAY_PATHS.open, { [H.session]: id }, openEcho(one.target));
    assert.equal(opened.status, 200);
    assert.equal((await chunk).status, 200);
    const first = await poll;
    assert.equal(first.headers[H.type], 'head');
    const r = await download(one.t, id, 0, first);
    assert.equal((r.head as { status: number }).status, 200);
    assert.equal(r.body, 'hello early');
    const stats = await held(one.server.url, 0);
    assert.equal(stats.early.bytes, 0);
  });

  test('an early chunk sent twice (a retry) is held twice and delivered once', async () => {
    const id = randomUUID();
    const before = (await getJson(`${one.server.url}/stats`)).chunks.duplicates as number;
    const fields = { ...early(id), [H.index]: '0', [H.fin]: '1' };
    const a = one.t.call(RELAY_PATHS.up, fields, Buffer.from('once'));
    const b = one.t.call(RELAY_PATHS.up, fields, Buffer.from('once'));
    await held(one.server.url, 2);
    assert.equal((await one.t.call(RELAY_PATHS.open, { [H.session]: id }, openEcho(one.target))).status, 200);
    assert.equal((await a).status, 200);
    assert.equal((await b).status, 200);
    assert.equal((await download(one.t, id, 0)).body, 'once', 'the target received the bytes once');
    assert.equal((await getJson(`${one.server.url}/stats`)).chunks.duplicates, before + 1);
  });

  test('messages for a session that never opens: unopened (404) after --poll-timeout, nothing held or stored after', async () => {
    const id = randomUUID();
    const was = (await getJson(`${one.server.url}/stats`)).store; // the earlier tests' sessions, not closed
    const [poll, chunk] = await Promise.all([
      one.t.call(RELAY_PATHS.down, { ...early(id), [H.index]: '0', [H.ack]: '0' }, Buffer.alloc(0)),
      one.t.call(RELAY_PATHS.up, { ...early(id), [H.index]: '0', [H.fin]: '0' }, Buffer.alloc(64 * 1024, 1)),
    ]);
    for (const r of [poll, chunk]) {
      assert.equal(r.status, 404);
      assert.equal(r.headers[H.error], 'unopened');
      assert.match(replyText(r), /not opened/);
    }
    const stats = await held(one.server.url, 0);
    assert.equal(stats.early.bytes, 0);
    assert.equal(stats.store.sessions, was.sessions);
    assert.equal(stats.store.chunks, was.chunks);
    assert.equal(stats.store.bytes, was.bytes);
    // without the mark nothing waits: a message for an unknown (closed, expired) session is refused at once
    const plain = await one.t.call(RELAY_PATHS.down, { [H.session]: id, [H.index]: '0', [H.ack]: '0' }, Buffer.alloc(0));
    assert.equal(plain.status, 410);
  });
});

describe('relay-server at its bound on early messages', () => {
  // early bodies held at once: at most 2 × --session-memory = 128 KiB; the transport has no retries, so a refusal
  // `early` must not cost one
  const one = oneServer(['--session-memory', '64KiB']);

  test('a chunk refused `early` (the bound reached) waits for its open without spending a retry, then is taken once', async () => {
    const id = randomUUID();
    const piece = (i: number) => Buffer.alloc(50 * 1024, 0x61 + i);
    const send = (i: number) => one.t.call(RELAY_PATHS.up, { ...early(id), [H.index]: String(i), [H.fin]: i === 2 ? '1' : '0' }, piece(i));
    const c0 = send(0);
    const c1 = send(1);
    await held(one.server.url, 2);
    let settled = false;
    const c2 = send(2).finally(() => { settled = true; });
    await sleep(300);
    assert.equal(settled, false, 'the third chunk, over the bound, waits (refused and sent again), neither held nor failed');
    assert.equal((await getJson(`${one.server.url}/stats`)).early.held, 2);
    assert.equal((await one.t.call(RELAY_PATHS.open, { [H.session]: id }, openEcho(one.target))).status, 200);
    for (const c of [c0, c1, c2]) assert.equal((await c).status, 200);
    const r = await download(one.t, id, 0);
    assert.equal(r.body, Buffer.concat([piece(0), piece(1), piece(2)]).toString());
  });
});

const skip = redisUnavailable();

describe('two relay-servers on one Redis', { skip: skip ?? false }, () => {
  let redis: RunningRedis;
  let target: Target;
  const servers: RunningRole[] = [];
  const transports: GatewayTransport[] = [];
  before(async () => {
    redis = await startRedis();
    target = await startTarget();
    for (let i = 0; i < 2; i++) {
      servers.push(await startRole(['relay-server', '--listen', '127.0.0.1:0', '--store', redis.url, '--log-level', 'warn'], { env: { FERRY_RELAY_SECRET: SECRET } }));
      transports.push(transportTo(servers[i]!.url));
    }
  });
  after(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await Promise.all(servers.map((s) => s.stop()));
    await target?.close();
    await redis?.stop();
  });

  test('early messages held by one instance are served once the other instance handled the open', async () => {
    const [a, b] = transports as [GatewayTransport, GatewayTransport];
    const id = randomUUID();
    const fields = { ...early(id), [H.index]: '0', [H.fin]: '1' };
    const poll = b.call(RELAY_PATHS.down, { ...early(id), [H.index]: '0', [H.ack]: '0' }, Buffer.alloc(0));
    const chunk = b.call(RELAY_PATHS.up, fields, Buffer.from('across instances'));
    const retry = b.call(RELAY_PATHS.up, fields, Buffer.from('across instances'));
    await held(servers[1]!.url, 3);
    assert.equal((await a.call(RELAY_PATHS.open, { [H.session]: id }, openEcho(target))).status, 200);
    assert.equal((await chunk).status, 200);
    assert.equal((await retry).status, 200);
    const first = await poll;
    assert.equal(first.headers[H.type], 'head');
    const r = await download(b, id, 0, first);
    assert.equal(r.body, 'across instances', 'delivered once by the owner');
    await held(servers[1]!.url, 0);
    const [s0, s1] = [await getJson(`${servers[0]!.url}/stats`), await getJson(`${servers[1]!.url}/stats`)];
    assert.equal(s0.sessions.opened, 1);
    assert.equal(s1.sessions.opened, 0);
    assert.equal(s1.chunks.duplicates, 1);
  });
});
