/**
 * @module CPU per request of the cache's paths against an uncached request, same run (issue 18): two ferry
 * processes pinned to CPU 0 in turn — `--cache memory` and no cache, both `--log-level warn` — an origin and the load
 * (autocannon, in this process) on CPU 1, alternating rounds. Scenarios on 1 KiB `public, max-age=3600` objects:
 * uncached (the plain proxy), hit (one URL), miss that stores (a new URL per request), revalidation (client
 * `Cache-Control: no-cache`, the origin answers 304); with nginx installed, nginx `proxy_cache` hits on the same
 * object as the reference (req/s and CPU per request), and nginx answering 1 KiB from memory as the load generator's
 * ceiling in the same run. Prints each round and the medians of the per-round ratios.
 *   node bench/cache-cost.ts [REV]      # with REV: the same for that git revision's build first; CC_ROUNDS (5), CC_SECONDS (2)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { startCacheOrigin } from './peers/cache-origin.ts';
import { nginxCache } from './peers/nginx-cache.ts';
import { buildBaseline, buildFerry, cpuMicros, median, startPinned } from './transfer.ts';

const ROUNDS = Number(process.env.CC_ROUNDS ?? 5);
const SECONDS = Number(process.env.CC_SECONDS ?? 2);
const BODY = Buffer.alloc(1024, 'x');
type Scenario = 'uncached' | 'hit' | 'miss' | 'revalidate' | 'nginx hit' | 'nginx static';

let unique = 0;
async function load(base: string, s: Scenario): Promise<number> {
  const headers = s === 'revalidate' ? { 'cache-control': 'no-cache' } : {};
  const r = await autocannon({
    url: base, connections: 32, duration: SECONDS,
    requests: [{ method: 'GET', headers, setupRequest: (req) => ({ ...req, path: s === 'miss' ? `/u/${process.pid}-${++unique}` : s === 'nginx static' ? '/ref' : '/obj' }) }],
  });
  return r.requests.total;
}

/** CPU µs per request of each scenario, for one build; rounds alternate the scenarios' order. */
async function measure(dist: string, origin: string): Promise<Record<Scenario, number[]>> {
  const procs: ChildProcess[] = [];
  const rps: Record<Scenario, number[]> = { uncached: [], hit: [], miss: [], revalidate: [], 'nginx hit': [], 'nginx static': [] };
  try {
    const nginx = await nginxCache()?.start(origin, '0');
    if (nginx) { procs.push(nginx.proc); await load(nginx.url, 'hit'); }
    const plain = await startPinned('0', [`${dist}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', origin, '--log-level', 'warn']);
    const cached = await startPinned('0', [`${dist}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', origin, '--log-level', 'warn', '--cache', 'memory']);
    procs.push(plain.proc, cached.proc);
    const out: Record<Scenario, number[]> = { uncached: [], hit: [], miss: [], revalidate: [], 'nginx hit': [], 'nginx static': [] };
    const order: Scenario[] = ['uncached', 'hit', 'miss', 'revalidate', ...(nginx ? ['nginx hit' as const, 'nginx static' as const] : [])];
    await load(plain.url, 'uncached'); await load(cached.url, 'hit'); // warm-up
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of round % 2 ? order : [...order].reverse()) {
        const p = s === 'uncached' ? plain : s.startsWith('nginx') ? nginx! : cached;
        const before = cpuMicros(p.proc.pid!);
        const n = await load(p.url, s === 'nginx hit' ? 'hit' : s);
        out[s].push((cpuMicros(p.proc.pid!) - before) / Math.max(1, n));
        rps[s].push(n / SECONDS);
      }
      const r = (s: Scenario): string => `${s} ${out[s].at(-1)!.toFixed(1)} µs ${rps[s].at(-1)!.toFixed(0)}/s (${(out[s].at(-1)! / out.uncached.at(-1)!).toFixed(2)}×)`;
      console.log(`  round ${round}/${ROUNDS}: ${order.map(r).join(', ')}`);
    }
    if (nginx) {
      const ratio = (a: Scenario, b: Scenario): string => median(rps[a].map((v, i) => v / rps[b][i]!)).toFixed(2);
      console.log(`  ferry hit req/s ÷ nginx proxy_cache hit req/s, median of per-round ratios: ${ratio('hit', 'nginx hit')}`);
      // nginx's static answer is the cheapest there is: when the nginx hit runs at its rate, the load generator is the bound.
      console.log(`  nginx hit req/s ÷ nginx static (the load generator's ceiling): ${ratio('nginx hit', 'nginx static')}; ferry hit ÷ that ceiling: ${ratio('hit', 'nginx static')}`);
    }
    return out;
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

function summary(label: string, m: Record<Scenario, number[]>): void {
  const ratio = (s: Scenario): string => median(m[s].map((v, i) => v / m.uncached[i]!)).toFixed(2);
  const nginx = m['nginx hit'].length ? `; nginx proxy_cache hit ${median(m['nginx hit']).toFixed(1)} µs/req` : '';
  console.log(`${label}: uncached ${median(m.uncached).toFixed(1)} µs/req; hit ${median(m.hit).toFixed(1)} (${ratio('hit')}×), miss that stores ${median(m.miss).toFixed(1)} (${ratio('miss')}×), revalidation ${median(m.revalidate).toFixed(1)} (${ratio('revalidate')}×)${nginx} — medians of per-round ratios`);
}

execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
const origin = await startCacheOrigin(BODY);
try {
  const rev = process.argv[2];
  const results: Array<[string, Record<Scenario, number[]>]> = [];
  if (rev) { console.log(`${rev}:`); results.push([rev, await measure(buildBaseline(rev), origin.url)]); }
  console.log('this tree:');
  results.push(['this tree', await measure(buildFerry('ferry-cache-cost/dist'), origin.url)]);
  for (const [label, m] of results) summary(label, m);
} finally {
  origin.close();
}

