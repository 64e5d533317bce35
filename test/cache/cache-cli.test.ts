/**
 * `ferry proxy --cache …` as users run it (the real CLI): usage errors, purge protection, and memory bounds with
 * large streamed bodies — not stored (memory store, over its entry bound) and stored (disk store).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, sampleRss, startRole, type RunningRole } from '../helpers/cli.ts';
import { patternBytes } from './helpers.ts';

const BIG = 512 * 1024 * 1024;
/** Growth over the idle process allowed while streaming BIG (buffering it would need BIG more). */
const RSS_BUDGET = 192 * 1024 * 1024;
const BLOCK = patternBytes(251 * 4096);
const dir = mkdtempSync(join(tmpdir(), 'ferry-cache-cli-'));
const tokenFile = join(dir, 'token');
const TOKEN = 'purge-token-0123456789abcdef';
writeFileSync(tokenFile, `${TOKEN}\n`);
let origin: http.Server;
let originUrl = '';
const counts = new Map<string, number>();
const procs: RunningRole[] = [];

before(async () => {
  origin = http.createServer((req, res) => {
    counts.set(req.url ?? '', (counts.get(req.url ?? '') ?? 0) + 1);
    if (req.url?.startsWith('/big')) {
      res.writeHead(200, { 'cache-control': 'max-age=3600', 'content-length': String(BIG), 'content-type': 'application/octet-stream' });
      let sent = 0;
      const pump = (): void => {
        while (sent < BIG) {
          const n = Math.min(BLOCK.length, BIG - sent);
          sent += n;
          if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) { res.once('drain', pump); return; }
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(200, { 'cache-control': 'max-age=3600', 'content-type': 'text/plain' });
    res.end(`page ${counts.get(req.url ?? '')}`);
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});

after(async () => {
  for (const p of procs) await p.stop();
  origin.closeAllConnections();
  origin.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(args: string[]): Promise<RunningRole> {
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', originUrl, ...args]);
  procs.push(p);
  return p;
}

function fetchText(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Stream a big body, checking every byte against the i mod 251 pattern without keeping it. */
function fetchBig(url: string): Promise<{ bytes: number; ok: boolean; cacheStatus: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let pos = 0;
      let ok = res.statusCode === 200;
      res.on('data', (c: Buffer) => {
        const off = pos % BLOCK.length;
        const head = Math.min(c.length, BLOCK.length - off);
        if (ok && (!c.subarray(0, head).equals(BLOCK.subarray(off, off + head)) || (head < c.length && !c.subarray(head).equals(BLOCK.subarray(0, c.length - head))))) ok = false;
        pos += c.length;
      });
      res.on('end', () => resolve({ bytes: pos, ok, cacheStatus: String(res.headers['cache-status']) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('a bad --cache spec is a usage error (exit 2)', async () => {
  const r = await runCli(['proxy', '--upstream', 'http://127.0.0.1:1', '--cache', 'memcached://x']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--cache/);
  const short = join(dir, 'short');
  writeFileSync(short, 'abc');
  const t = await runCli(['proxy', '--upstream', 'http://127.0.0.1:1', '--cache', 'memory', '--cache-purge-token-file', short]);
  assert.equal(t.code, 2);
});

test('ferry proxy --cache memory: hits, and purge protected by the token file', async () => {
  const p = await start(['--cache', 'memory:16MiB', '--cache-purge-token-file', tokenFile]);
  const a = await fetchText(`${p.url}/page`);
  const b = await fetchText(`${p.url}/page`);
  assert.equal(a.body, 'page 1');
  assert.equal(b.body, 'page 1');
  assert.match(String(b.headers['cache-status']), /^ferry; hit/);
  assert.equal((await fetchText(`${p.url}/page`, { method: 'PURGE' })).status, 401);
  assert.equal((await fetchText(`${p.url}/page`, { method: 'PURGE', headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
  const ok = await fetchText(`${p.url}/cache/purge?url=/page`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(ok.status, 200);
  assert.equal((await fetchText(`${p.url}/page`)).body, 'page 2');
  const stats = JSON.parse((await fetchText(`${p.url}/stats`)).body) as { cache?: unknown };
  assert.ok(stats.cache !== undefined, 'stats show cache.*');
});

test('memory store: a 512 MiB body over the entry bound streams through with bounded memory and is not stored', async () => {
  const p = await start(['--cache', 'memory:16MiB']);
  const idle = p.rss();
  const rss = sampleRss(p.proc.pid!);
  const r = await fetchBig(`${p.url}/big-mem`);
  const peak = rss.stop();
  assert.equal(r.bytes, BIG);
  assert.ok(r.ok, 'bytes match the pattern');
  assert.ok(peak - idle < RSS_BUDGET, `peak RSS ${Math.round(peak / 2 ** 20)} MiB, idle ${Math.round(idle / 2 ** 20)} MiB`);
  const again = await fetchBig(`${p.url}/big-mem`);
  assert.equal(again.bytes, BIG);
  assert.equal(counts.get('/big-mem'), 2);
});

test('disk store: a 512 MiB body is stored while it streams and served from disk, memory bounded both ways', async () => {
  const p = await start(['--cache', `disk:${join(dir, 'disk')}:4GiB`]);
  const idle = p.rss();
  const rss = sampleRss(p.proc.pid!);
  const first = await fetchBig(`${p.url}/big-disk`);
  const second = await fetchBig(`${p.url}/big-disk`);
  const peak = rss.stop();
  assert.equal(first.bytes, BIG);
  assert.ok(first.ok && second.ok, 'bytes match the pattern');
  assert.equal(second.bytes, BIG);
  assert.match(second.cacheStatus, /^ferry; hit/);
  assert.equal(counts.get('/big-disk'), 1);
  assert.ok(peak - idle < RSS_BUDGET, `peak RSS ${Math.round(peak / 2 ** 20)} MiB, idle ${Math.round(idle / 2 ** 20)} MiB`);
});
