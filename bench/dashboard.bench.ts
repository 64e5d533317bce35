/**
 * @module Dashboard benchmark (issue 16: "the dashboard open in 20 tabs at once costs at most a few percent of request
 * throughput"): requests/s through `ferry proxy` (GET /bytes/100, autocannon) with no page open and with 20 event
 * streams open — what 20 tabs cost the proxy (each gets the update every second, with the inspector's new rows) —
 * alternating A/B/A/B so drift on the shared machine hits both. The streams are read by this process, not by 20
 * browser tabs, whose rendering would compete with the proxy for the same cores. Bounded: about 30 s.
 * Run alone: `node bench/dashboard.bench.ts`; bench/run.ts calls `run()`.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startRole } from '../test/helpers/cli.ts';

export interface BenchResult { name: string; value: number; unit: string; notes?: string }

const LOAD_SECONDS = 5;
const CONNECTIONS = 32;
const TABS = 20;
const ROUNDS = 2;

/** TABS event streams, as EventSource opens them; counts what they receive. */
function openTabs(url: string): { bytes: () => number; close: () => void } {
  let bytes = 0;
  const reqs = Array.from({ length: TABS }, () => http.get(`${url}/stats`, { headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
    res.on('data', (c: Buffer) => { bytes += c.length; });
  }).on('error', () => { /* closed at the end */ }));
  return { bytes: () => bytes, close: () => { for (const r of reqs) r.destroy(); } };
}

async function rps(url: string): Promise<{ rps: number; p99: number; errors: number }> {
  const r = await autocannon({ url: `${url}/bytes/100`, connections: CONNECTIONS, duration: LOAD_SECONDS });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

export async function run(ctx?: { log(m: string): void }): Promise<BenchResult[]> {
  const log = ctx?.log ?? ((m: string) => console.log(m));
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0']);
  const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--log-level', 'warn']);
  const closed: number[] = [];
  const open: number[] = [];
  let streamed = 0;
  let p99 = { closed: 0, open: 0 };
  try {
    await autocannon({ url: `${proxy.url}/bytes/100`, connections: CONNECTIONS, duration: 2 }); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      const a = await rps(proxy.url);
      closed.push(a.rps);
      p99.closed = Math.max(p99.closed, a.p99);
      log(`no page open: ${Math.round(a.rps)} req/s`);
      const tabs = openTabs(proxy.url);
      await new Promise((r) => setTimeout(r, 500));
      const before = tabs.bytes();
      const b = await rps(proxy.url);
      streamed += tabs.bytes() - before;
      tabs.close();
      open.push(b.rps);
      p99.open = Math.max(p99.open, b.p99);
      log(`${TABS} pages open: ${Math.round(b.rps)} req/s`);
    }
  } finally {
    await Promise.all([proxy.stop(), origin.stop()]);
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ratio = mean(open) / mean(closed);
  return [
    { name: `proxy, no dashboard open: GET /bytes/100, ${CONNECTIONS} connections`, value: Math.round(mean(closed)), unit: 'req/s', notes: `p99 ≤ ${p99.closed} ms` },
    { name: `proxy, dashboard open in ${TABS} tabs (${TABS} event streams)`, value: Math.round(mean(open)), unit: 'req/s', notes: `p99 ≤ ${p99.open} ms; ${Math.round(streamed / (ROUNDS * LOAD_SECONDS) / TABS / 1024)} KiB/s to each tab` },
    { name: `throughput with ${TABS} tabs open / without`, value: Math.round(ratio * 1000) / 1000, unit: 'ratio', notes: `${ROUNDS} alternating rounds of ${LOAD_SECONDS} s each` },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) console.log(`${r.name.padEnd(70)} ${String(r.value).padStart(9)} ${r.unit}${r.notes ? `  (${r.notes})` : ''}`);
}
