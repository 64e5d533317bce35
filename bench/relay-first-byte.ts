/**
 * @module Small requests through the latency gateway (issue 18): a 1000-byte GET and a 64 KiB POST to /echo through
 * +30 and +60 ms gateways, for each build in FERRY_AB_MAINS (comma-separated src/cli/main.ts or dist/cli/main.js
 * paths; default this tree), 15 rounds alternating; prints the median time per request. A small request costs the
 * gateway round trips before its first byte, so this shows them (two before early messages, one after).
 * Run: `node bench/relay-first-byte.ts`.
 */
import http from 'node:http';
import { MAIN, startRole, type RunningRole } from '../test/helpers/cli.ts';
import { startGateway, type Gateway } from '../test/fixtures/gateway.ts';
const MiB = 1024 * 1024;
const env = { FERRY_RELAY_SECRET: 'relay-bench-secret-0123456789abcdef' };
const roles: RunningRole[] = []; const gws: Gateway[] = [];
const origin = await startRole(['origin', '--listen', '127.0.0.1:0', '--log-level', 'warn']); roles.push(origin);
const builds = (process.env.FERRY_AB_MAINS ?? MAIN).split(',');
const routes: Array<{ name: string; url: string; gw: Gateway }> = [];
for (const main of builds) for (const lat of [30, 60]) {
  const s = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--log-level', 'warn'], { env, main }); roles.push(s);
  const g = await startGateway({ targets: [s.url], maxMessage: MiB, latencyMs: lat }); gws.push(g);
  const c = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', g.url, '--max-message', '1MiB', '--log-level', 'warn'], { env, main }); roles.push(c);
  routes.push({ name: `${main.replace(/\/(src|dist)\/cli\/main\.[tj]s$/, '')} +${lat}`, url: c.url, gw: g });
}
function get(proxy: string, path: string, method = 'GET', body?: Buffer): Promise<number> {
  const u = new URL(proxy); const t = performance.now();
  return new Promise((res, rej) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: `${origin.url}${path}`, agent: false, headers: body ? { 'content-length': String(body.length) } : {} }, (r) => { r.resume(); r.on('end', () => res(performance.now() - t)); });
    req.on('error', rej); req.end(body);
  });
}
const med = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!;
for (const [label, path, method, body] of [['GET 1000 B', '/bytes/1000', 'GET', undefined], ['POST 64 KiB to /echo', '/echo', 'POST', Buffer.alloc(65536, 1)]] as const) {
  const acc = new Map<string, number[]>();
  for (const r of routes) await get(r.url, path, method, body);
  for (let i = 0; i < 15; i++) for (const r of routes) { const a = acc.get(r.name) ?? []; a.push(await get(r.url, path, method, body)); acc.set(r.name, a); }
  for (const [n, a] of acc) console.log(`${label} ${n}: median ${med(a).toFixed(0)} ms (min ${Math.min(...a).toFixed(0)})`);
}
for (const g of gws) await g.close();
for (const r of roles.reverse()) await r.stop();
