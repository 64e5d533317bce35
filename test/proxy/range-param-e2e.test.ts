/**
 * `?range=` end to end (SPEC: ferry proxy, Range): a spawned `ferry proxy` in front of a spawned `ferry origin`
 * (files with real range support) and of a raw fixture that records the exact request-target and Range it receives.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { boundaryOf, parseByteranges } from '../helpers/byteranges.ts';

const SIZE = 100_000;
const data = randomBytes(SIZE);
let dir: string;
let origin: RunningRole;
let proxy: RunningRole;
let fixtureProxy: RunningRole;
let fixture: http.Server;
const seen: Array<{ method: string; url: string; range: string[] }> = [];

/** A fixed multipart/byteranges answer, as some upstream might send it (not coalesced, odd boundary). */
const FIXTURE_BOUNDARY = 'x_ferry-fixture.boundary';
const FIXTURE_MULTIPART = Buffer.from([
  `--${FIXTURE_BOUNDARY}\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-20/100\r\n\r\n${'a'.repeat(11)}\r\n`,
  `--${FIXTURE_BOUNDARY}\r\nContent-Type: text/plain\r\nContent-Range: bytes 1-40/100\r\n\r\n${'b'.repeat(40)}\r\n`,
  `--${FIXTURE_BOUNDARY}--\r\n`,
].join(''), 'latin1');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-range-'));
  writeFileSync(join(dir, 'data.bin'), data);
  fixture = http.createServer((req, res) => {
    const range = req.rawHeaders.filter((_, i) => i % 2 === 0).flatMap((n, i) => (n.toLowerCase() === 'range' ? [req.rawHeaders[i * 2 + 1]!] : []));
    seen.push({ method: req.method!, url: req.url!, range });
    if (req.url!.startsWith('/multi')) {
      res.writeHead(206, { 'content-type': `multipart/byteranges; boundary=${FIXTURE_BOUNDARY}`, 'content-length': FIXTURE_MULTIPART.length });
      res.end(FIXTURE_MULTIPART);
      return;
    }
    if (req.url!.startsWith('/nolength')) {
      res.writeHead(req.method === 'HEAD' ? 404 : 200, { 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'x');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => fixture.listen(0, '127.0.0.1', r));
  const fixtureUrl = `http://127.0.0.1:${(fixture.address() as AddressInfo).port}`;
  [origin, fixtureProxy] = await Promise.all([
    startRole(['origin', '--listen', '127.0.0.1:0', '--root', dir]),
    startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', fixtureUrl]),
  ]);
  proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url]);
});

after(async () => {
  await Promise.all([proxy?.stop(), fixtureProxy?.stop(), origin?.stop()]);
  await new Promise<void>((r) => (fixture ? fixture.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
});

async function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetch(url, { method, headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

test('HEAD through the proxy shows Accept-Ranges: bytes and Via', async () => {
  const r = await get(`${proxy.url}/data.bin`, {}, 'HEAD');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('accept-ranges'), 'bytes');
  assert.match(r.headers.get('via') ?? '', /^1\.1 ferry\b/);
  assert.equal(r.headers.get('content-length'), String(SIZE));
});

test('?range=20-345 returns exactly bytes 20..345 with Content-Range: bytes 20-345/N', async () => {
  const r = await get(`${proxy.url}/data.bin?range=20-345`);
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-range'), `bytes 20-345/${SIZE}`);
  assert.deepEqual(r.body, data.subarray(20, 346));
});

test('open-ended and suffix parameters select the right bytes', async () => {
  const open = await get(`${proxy.url}/data.bin?range=99990-`);
  assert.equal(open.headers.get('content-range'), `bytes 99990-99999/${SIZE}`);
  assert.deepEqual(open.body, data.subarray(99990));
  const suffix = await get(`${proxy.url}/data.bin?range=-7`);
  assert.deepEqual(suffix.body, data.subarray(SIZE - 7));
});

test('?range=a-b,c-d gives a multipart/byteranges body with the right parts', async () => {
  const r = await get(`${proxy.url}/data.bin?range=0-9,500-599`);
  assert.equal(r.status, 206);
  const parts = parseByteranges(r.body, boundaryOf(r.headers.get('content-type') ?? undefined));
  assert.deepEqual(parts.map((p) => [p.first, p.last, p.size]), [[0, 9, SIZE], [500, 599, SIZE]]);
  assert.deepEqual(parts[0]!.body, data.subarray(0, 10));
  assert.deepEqual(parts[1]!.body, data.subarray(500, 600));
});

test('Range: bytes=10-20, 1-40 returns the bytes asked for (ferry origin coalesces the overlap)', async () => {
  const r = await get(`${proxy.url}/data.bin`, { range: 'bytes=10-20, 1-40' });
  assert.equal(r.status, 206);
  const type = r.headers.get('content-type') ?? '';
  const got = type.startsWith('multipart/byteranges')
    ? parseByteranges(r.body, boundaryOf(type)).map((p) => [p.first, p.last, p.body] as const)
    : [[...(/bytes (\d+)-(\d+)\//.exec(r.headers.get('content-range') ?? '') ?? []).slice(1).map(Number), r.body] as const];
  // Every byte 1..40 is covered, each part holds exactly its bytes.
  const covered = new Set<number>();
  for (const [first, last, body] of got as Array<readonly [number, number, Buffer]>) {
    assert.deepEqual(body, data.subarray(first, last + 1));
    for (let i = first; i <= last; i++) covered.add(i);
  }
  for (let i = 1; i <= 40; i++) assert.ok(covered.has(i), `byte ${i}`);
});

test('Range: bytes=10-20, 1-40 from an upstream that sends multipart passes through untouched', async () => {
  const r = await get(`${fixtureProxy.url}/multi`, { range: 'bytes=10-20, 1-40' });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-type'), `multipart/byteranges; boundary=${FIXTURE_BOUNDARY}`);
  assert.deepEqual(r.body, FIXTURE_MULTIPART);
  const parts = parseByteranges(r.body, FIXTURE_BOUNDARY);
  assert.deepEqual(parts.map((p) => [p.first, p.last]), [[10, 20], [1, 40]]);
  assert.deepEqual(seen.at(-1)!.range, ['bytes=10-20, 1-40']);
});

test('an incongruent header and parameter get 416 with Content-Range: bytes */N', async () => {
  const r = await get(`${proxy.url}/data.bin?range=20-345`, { range: 'bytes=0-9' });
  assert.equal(r.status, 416);
  assert.equal(r.headers.get('content-range'), `bytes */${SIZE}`);
  assert.match(r.body.toString(), /different bytes/);
});

test('416 without Content-Range when the upstream does not tell the size', async () => {
  const r = await get(`${fixtureProxy.url}/nolength?range=20-345`, { range: 'bytes=0-9' });
  assert.equal(r.status, 416);
  assert.equal(r.headers.get('content-range'), null);
  assert.equal(seen.at(-1)!.method, 'HEAD');
});

test('header and parameter asking for the same bytes are forwarded once', async () => {
  const same = await get(`${proxy.url}/data.bin?range=20-345`, { range: 'bytes=20-100,101-345' });
  assert.equal(same.status, 206);
  assert.deepEqual(same.body, data.subarray(20, 346));
  // Equal only for this length: ferry learns N (HEAD) and then forwards.
  const whole = await get(`${proxy.url}/data.bin?range=0-`, { range: `bytes=0-${SIZE - 1}` });
  assert.equal(whole.status, 206);
  assert.equal(whole.body.length, SIZE);
  const before = seen.length;
  const r = await get(`${fixtureProxy.url}/same?range=5-6`, { range: 'bytes=5-6' });
  assert.equal(r.status, 200);
  assert.deepEqual(seen.slice(before).map((s) => [s.method, s.url, s.range]), [['GET', '/same', ['bytes=5-6']]]);
});

test('the parameter leaves the forwarded query; every other byte and their order are kept', async () => {
  const cases: Array<[string, string, string[]]> = [
    ['/q?b=%2F%20x&range=0-9&a=+&c', '/q?b=%2F%20x&a=+&c', ['bytes=0-9']],
    ['/q?range=0-9%2C20-29', '/q', ['bytes=0-9,20-29']],
    ['/q?', '/q?', []],
    ['/q?x=%E2%82%AC&y', '/q?x=%E2%82%AC&y', []],
    ['/q?&range=1-2', '/q?', ['bytes=1-2']],
  ];
  for (const [sent, forwarded, range] of cases) {
    const before = seen.length;
    const r = await get(`${fixtureProxy.url}${sent}`);
    assert.equal(r.status, 200, sent);
    assert.deepEqual(seen.slice(before).map((s) => [s.url, s.range]), [[forwarded, range]], sent);
  }
});

test('other methods than GET and HEAD keep the parameter in the query and get no Range', async () => {
  const before = seen.length;
  const r = await fetch(`${fixtureProxy.url}/up?range=0-9&x=1`, { method: 'POST', body: 'data' });
  assert.equal(r.status, 200);
  await r.arrayBuffer();
  assert.deepEqual(seen.slice(before).map((s) => [s.method, s.url, s.range]), [['POST', '/up?range=0-9&x=1', []]]);
});

test('a malformed parameter is a 400 with a message, and the proxy keeps serving', async () => {
  for (const bad of ['abc', '9-1', '', '%zz', '1-2-3']) {
    const before = seen.length;
    const r = await get(`${fixtureProxy.url}/x?range=${bad}`);
    assert.equal(r.status, 400, bad);
    assert.match(r.body.toString(), /range parameter/);
    assert.equal(seen.length, before, 'nothing forwarded');
  }
  assert.equal((await get(`${proxy.url}/data.bin?range=0-0`)).body[0], data[0]);
});
