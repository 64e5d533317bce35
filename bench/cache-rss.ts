/**
 * @module RSS of `ferry proxy --cache memory` (default 64 MiB store) idle, right after 33 000 stored 1 KiB entries and
 * at rest 10 s later (issue 18).
 *   node bench/cache-rss.ts DIST [NODE_FLAGS...]   # DIST: a build's dist directory (bench/transfer.ts buildFerry)
 *   CR_CACHE=none node bench/cache-rss.ts DIST      # the same 33 000 requests with no cache: what the traffic alone
 *                                                   # leaves (the reference); CR_CACHE=SPEC another --cache spec
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
const dist = process.argv[2]!;
const extra = process.argv.slice(3);
const BODY = Buffer.alloc(1024, 'x');
const origin = http.createServer((req, res) => { res.writeHead(200, { 'cache-control': 'public, max-age=3600', 'content-type': 'text/plain', 'content-length': '1024' }); res.end(BODY); });
origin.listen(0, '127.0.0.1'); await once(origin, 'listening');
const o = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
const p = spawn('taskset', ['-c', '0', process.execPath, ...extra, `${dist}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', o, '--log-level', 'warn', ...(process.env.CR_CACHE === 'none' ? [] : ['--cache', process.env.CR_CACHE ?? 'memory'])], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = ''; let url = '';
await new Promise<void>((r) => p.stdout!.on('data', (c) => { out += c; const m = /"url":"(http:\/\/[^"]+)"/.exec(out); if (m && !url) { url = m[1]!; r(); } }));
const status = (): string => { const s = readFileSync(`/proc/${p.pid}/status`, 'utf8'); return ['VmRSS', 'VmHWM'].map((k) => `${k} ${(Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]) / 1024).toFixed(0)} MiB`).join(', '); };
console.log('idle:', status());
let n = 0;
const r = await autocannon({ url, connections: 32, amount: 33000, requests: [{ setupRequest: (q) => ({ ...q, path: `/e/${++n}` }) }] });
console.log('requests', r.requests.total, 'non2xx', r.non2xx);
await new Promise((res) => setTimeout(res, 1500));
console.log('after 33000 entries:', status());
// V8's memory reducer runs ~8 s after the load stops (--gc-memory-reducer-start-delay-ms): a memory-reducing major GC
// that shrinks the new space and the old generation's slack; what a proxy holds at rest
await new Promise((res) => setTimeout(res, 10_000));
console.log('at rest (11.5 s after):', status());
p.kill('SIGKILL'); origin.close();
