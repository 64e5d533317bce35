/**
 * Hostile peers, fuzzed (RELIABILITY T4, S4, S9, S12): (1) a raw-socket origin answering with Garden-mutated
 * responses — ferry answers 502/504, cuts the connection, or relays a well-formed response, never crashes, and a
 * follow-up on a fresh connection gets exactly its own response (no bytes of the hostile answer carried into the next
 * exchange on a reused upstream connection); (2) the raw-socket request mutation fuzzer (the differential test's
 * mutators) against the forward proxy, the relay-client, the relay-server and the origin listeners: whatever arrives, a well-formed
 * request afterwards is served, and no process logs an internal error or dies (the no-alerts rule, T2).
 *
 * FERRY_FUZZ_RUNS (default 160 cases per listener) from FERRY_FUZZ_SEED (fixed by default; `npm run fuzz`: random).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startProxy } from '../fixtures/proxy.ts';
import { exchange } from '../fixtures/raw-client.ts';
import { startRole } from '../helpers/cli.ts';
import { startRelayPair, type RelayPair } from '../relay/harness.ts';
import { mutate, mutationArb, type Mutation } from './garden-mutations.ts';

const RUNS = Number(process.env.FERRY_FUZZ_RUNS ?? 160);
const SEED = process.env.FERRY_FUZZ_SEED === 'random' ? undefined : Number(process.env.FERRY_FUZZ_SEED ?? 20261207);
const LANES = 8;
const params = (runs: number) => ({ numRuns: Math.max(1, Math.ceil(runs / LANES)), endOnFailure: true, ...(SEED !== undefined ? { seed: SEED } : {}) });

const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nCache-Control: max-age=60\r\n\r\n',
  'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
];

interface HostileCase { response: number; mutations: Mutation[]; close: boolean }
const hostileArb: fc.Arbitrary<HostileCase> = fc.record({
  response: fc.nat({ max: RESPONSES.length - 1 }),
  mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
  close: fc.boolean(),
});

/**
 * GET /bad/N: the mutated response of case N, then FIN (case.close) or the connection kept open; GET /good/N on any
 * connection: `good N`, well-formed. One origin, many lanes: each request names its case.
 */
async function startHostileOrigin(cases: Map<number, HostileCase>): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4); // requests here have no body
        const m = /^\S+ \/(bad|good)\/(\d+)/.exec(head);
        if (!m) { s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'); return; }
        const n = Number(m[2]);
        if (m[1] === 'good') { const body = `good ${n}`; s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`); continue; }
        const c = cases.get(n)!;
        let bytes = RESPONSES[c.response]!;
        for (const mu of c.mutations) bytes = mutate(bytes, mu);
        s.write(Buffer.from(bytes, 'latin1'));
        if (c.close) { s.end(); return; }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) };
}

/** One GET through `port`: its status and body, or 'cut'. Node's strict client parser reads it: a malformed relay fails. */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string } | 'cut'> {
  return new Promise((resolve) => {
    const req = http.get({ port, host: '127.0.0.1', path, agent: false, headers, timeout: 8000 }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve('cut'));
      res.on('aborted', () => resolve('cut'));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // a parse error means ferry sent something that is not HTTP/1.1: never acceptable
      if (err.code?.startsWith('HPE_')) resolve({ status: -1, body: `malformed: ${err.code}` });
      else resolve('cut');
    });
    req.on('timeout', () => { req.destroy(); resolve({ status: -2, body: 'hung 8 s' }); });
  });
}


const requestCase = (seeds: readonly string[]) => fc.record({ seed: fc.nat({ max: seeds.length - 1 }), mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) });
const payload = (seeds: readonly string[], c: { seed: number; mutations: Mutation[] }) => c.mutations.reduce((s, m) => mutate(s, m), seeds[c.seed]!);

/** Run `runs` cases over LANES concurrent lanes (fast-check drives each lane from the same seed, offset by lane). */
async function lanes<T>(arb: fc.Arbitrary<T>, runs: number, each: (c: T, lane: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: LANES }, (_, lane) => fc.assert(fc.asyncProperty(arb, (c) => each(c, lane)), { ...params(runs), ...(SEED !== undefined ? { seed: SEED + lane } : {}) })));
}

describe(`fuzz: hostile origin and mutated requests to every listener (${RUNS} cases each)`, () => {
  let good: http.Server;
  let goodPort: number;
  before(async () => {
    good = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end(`hello ${req.url}`)); });
    await new Promise<void>((r) => good.listen(0, '127.0.0.1', r));
    goodPort = (good.address() as AddressInfo).port;
  });
  after(() => { good.closeAllConnections(); good.close(); });

  test('a hostile origin: 502/504, a cut, or a well-formed response; the next exchange is clean', async (t) => {
    const cases = new Map<number, HostileCase>();
    const origin = await startHostileOrigin(cases);
    const proxy = await startProxy({ upstream: `http://127.0.0.1:${origin.port}`, upstreamTimeoutMs: 1000, idleTimeoutMs: 1000, cache: 'memory:8MiB' });
    let n = 0;
    const outcomes = { gatewayError: 0, cut: 0, relayed: 0 };
    try {
      await lanes(hostileArb, RUNS, async (c) => {
        const id = n++;
        cases.set(id, c);
        const r = await get(proxy.port, `/bad/${id}`);
        if (r === 'cut') outcomes.cut++;
        else {
          assert.ok(r.status > 0, `case ${id} ${JSON.stringify(c)}: ${r.body}`);
          if (r.status === 502 || r.status === 504) outcomes.gatewayError++; else outcomes.relayed++;
        }
        const next = await get(proxy.port, `/good/${id}`);
        assert.deepEqual(next, { status: 200, body: `good ${id}` }, `after case ${id} ${JSON.stringify(c)} the next exchange got other bytes`);
      });
    } finally { await proxy.close(); await origin.close(); }
    t.diagnostic(`hostile responses: ${outcomes.gatewayError} answered 502/504, ${outcomes.cut} cut, ${outcomes.relayed} relayed well-formed`);
    assert.ok(outcomes.gatewayError > 0 && outcomes.relayed > 0);
  });

  test('forward proxy listener: mutated absolute-form requests', async () => {
    const proxy = await startProxy({ forward: { connectPorts: [goodPort], credentials: [], deny: [], allowOpen: true }, idleTimeoutMs: 1000, headersTimeoutMs: 1000 });
    const h = `127.0.0.1:${goodPort}`;
    const seeds = [
      `GET http://${h}/a HTTP/1.1\r\nHost: ${h}\r\n\r\n`,
      `POST http://${h}/b HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 5\r\n\r\nhello`,
      `POST http://${h}/c HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
      `CONNECT ${h} HTTP/1.1\r\nHost: ${h}\r\n\r\nGET / HTTP/1.1\r\nHost: ${h}\r\n\r\n`,
    ];
    try {
      await lanes(requestCase(seeds), RUNS, async (c) => {
        await exchange(proxy.port, payload(seeds, c));
        const next = await get(proxy.port, `http://${h}/after`, { host: h });
        assert.deepEqual(next, { status: 200, body: 'hello /after' }, `after ${JSON.stringify(payload(seeds, c))}`);
      });
    } finally { await proxy.close(); }
  });

  test('relay-client listener: mutated requests, then a relayed request still works', async () => {
    const pair: RelayPair = await startRelayPair();
    const h = `127.0.0.1:${goodPort}`;
    const seeds = [
      `GET http://${h}/a HTTP/1.1\r\nHost: ${h}\r\n\r\n`,
      `POST http://${h}/b HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 5\r\n\r\nhello`,
      `POST http://${h}/c HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    ];
    try {
      let i = 0;
      await lanes(requestCase(seeds), Math.ceil(RUNS / 2), async (c) => {
        await exchange(pair.client.port, payload(seeds, c));
        if (i++ % 8 !== 0) return; // a relayed round trip is slower: check every 8th case, and at the end
        const next = await get(pair.client.port, `http://${h}/after`, { host: h });
        assert.deepEqual(next, { status: 200, body: 'hello /after' }, `after ${JSON.stringify(payload(seeds, c))}`);
      });
      assert.deepEqual(await get(pair.client.port, `http://${h}/end`, { host: h }), { status: 200, body: 'hello /end' });
      assert.deepEqual(pair.client.alerts(), []);
      assert.deepEqual(pair.servers[0]!.alerts(), []);
    } finally { await pair.close(); }
  });

  test('relay-server listener: mutated relay messages (open, up, down, close), then a relayed request still works', async () => {
    const pair: RelayPair = await startRelayPair();
    const h = `127.0.0.1:${goodPort}`;
    const sid = 'AAAAAAAAAAAAAAAAAAAAAA';
    const auth = 'x-ferry-auth: v1 ts=1796600000000, nonce=abcdefabcdefabcdef, mac=AAAA';
    const seeds = [
      `POST /relay/v1/open HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\n${auth}\r\nContent-Length: 40\r\n\r\n{"method":"GET","url":"http://${h}/a","h":[]}`.slice(0, 200),
      `POST /relay/v1/up HTTP/1.1\r\nHost: r\r\nx-ferry-session: ${sid}\r\nx-ferry-index: 0\r\nx-ferry-fin: 1\r\ncontent-digest: sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:\r\n${auth}\r\nContent-Length: 5\r\n\r\nhello`,
      `POST /relay/v1/down HTTP/1.1\r\nHost: r\r\nx-ferry-session: ${sid}\r\nx-ferry-index: 0\r\nx-ferry-ack: 0\r\n${auth}\r\nContent-Length: 0\r\n\r\n`,
      `POST /relay/v1/close HTTP/1.1\r\nHost: r\r\nx-ferry-session: ${sid}\r\n${auth}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ];
    try {
      let i = 0;
      await lanes(requestCase(seeds), Math.ceil(RUNS / 2), async (c) => {
        await exchange(pair.servers[0]!.port, payload(seeds, c));
        if (i++ % 8 !== 0) return;
        const next = await get(pair.client.port, `http://${h}/after`, { host: h });
        assert.deepEqual(next, { status: 200, body: 'hello /after' }, `after ${JSON.stringify(payload(seeds, c))}`);
      });
      assert.deepEqual(await get(pair.client.port, `http://${h}/end`, { host: h }), { status: 200, body: 'hello /end' });
      assert.deepEqual(pair.servers[0]!.alerts(), []);
    } finally { await pair.close(); }
  });

  test('origin listener: mutated requests (ranges, conditionals, paths), then a normal GET', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-fuzz-origin-'));
    writeFileSync(join(dir, 'f.txt'), '0123456789'.repeat(100));
    const origin = await startRole(['origin', '--listen', '127.0.0.1:0', '--root', dir, '--idle-timeout', '1s', '--headers-timeout', '1s', '--log-level', 'warn']);
    const seeds = [
      'GET /f.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9,20-29\r\n\r\n',
      'GET /f.txt HTTP/1.1\r\nHost: a\r\nIf-None-Match: "x", W/"y"\r\nIf-Range: "z"\r\nRange: bytes=-5\r\n\r\n',
      'HEAD /bytes/100 HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n',
      'GET /%2e%2e/f.txt?range=0-3 HTTP/1.1\r\nHost: a\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
    ];
    try {
      await lanes(requestCase(seeds), RUNS, async (c) => {
        await exchange(origin.port, payload(seeds, c));
        const next = await get(origin.port, '/f.txt');
        assert.ok(next !== 'cut' && next.status === 200 && next.body.length === 1000, `after ${JSON.stringify(payload(seeds, c))}: ${JSON.stringify(next)}`);
      });
      assert.deepEqual(origin.alerts(), []);
    } finally { await origin.stop(); rmSync(dir, { recursive: true, force: true }); }
  });
});
