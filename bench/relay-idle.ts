/**
 * @module Does the relays' scavenge pacer (relay-gc.ts, server/scavenge-pacer.ts: gc() loaded on the first 8 MiB
 * relayed) make traffic after idle pauses cost more CPU, as merely loading gc() did on the proxy (docs/performance.md)?
 * Two relay pairs (relay-client → relay-server, no gateway, memory store) run at the same time: A as shipped, B with
 * bench/peers/no-gc.mjs preloaded (a no-op gc(): nothing loaded, nothing collected by the pacer). Both first relay
 * 100 MiB (A loads gc() there) and a burst of small GETs. Then each round: both idle IDLE s, then at once a burst of small GETs
 * (CONCURRENCY loops of /bytes/1024 for BURST_MS) and one 20 MiB download through each. Per round: CPU (user+sys,
 * relay-client + relay-server) per small request and per MiB, A ÷ B; the median of the per-round ratios is printed.
 *   RELAY_IDLE_ROUNDS=6 RELAY_IDLE_S=25 node bench/relay-idle.ts
 *   RELAY_IDLE_B=same ...   # B as shipped too: the spread of A ÷ B when nothing differs
 *   RELAY_IDLE_TRACE_GC=1 ... # also count V8's collections (--trace-gc lines) per phase, relay-client + relay-server
 * Every loop is bounded (rounds, a burst's duration and request count).
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { startRole, type RunningRole } from '../test/helpers/cli.ts';
import { cpuMicros, median } from './transfer.ts';

const ROUNDS = Number(process.env.RELAY_IDLE_ROUNDS ?? 6);
const IDLE_S = Number(process.env.RELAY_IDLE_S ?? 25);
const BURST_MS = 3_000;
const CONCURRENCY = 4;
const MAX_BURST_REQUESTS = 20_000;
const MiB = 1024 * 1024;
const SECRET = 'relay-idle-bench-secret-0123456789';
const NO_GC = fileURLToPath(new URL('./peers/no-gc.mjs', import.meta.url));
const TRACE_GC = process.env.RELAY_IDLE_TRACE_GC === '1' ? `--import=${fileURLToPath(new URL('./peers/trace-gc.mjs', import.meta.url))}` : '';

interface Pair { name: string; client: RunningRole; server: RunningRole; agent: http.Agent }

async function startPair(name: string, nodeOptions: string | undefined): Promise<Pair> {
  const options = [nodeOptions ?? '', TRACE_GC].filter((o) => o !== '').join(' ');
  const env = { FERRY_RELAY_SECRET: SECRET, ...(options ? { NODE_OPTIONS: options } : {}) };
  const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--log-level', 'warn'], { env });
  const client = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', server.url, '--max-message', '1MiB', '--log-level', 'warn'], { env });
  return { name, client, server, agent: new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY }) };
}

/** One GET through the pair's relay-client (absolute form); resolves with the bytes read. */
function get(p: Pair, url: string): Promise<number> {
  const proxy = new URL(p.client.url);
  const t = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.hostname, port: proxy.port, path: t.href, headers: { host: t.host }, agent: p.agent }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`${p.name}: status ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const cpu = (p: Pair) => cpuMicros(p.client.proc.pid!) + cpuMicros(p.server.proc.pid!);

/** Collections so far (--trace-gc lines on stdout, kept by startRole as { raw }), both processes, by kind. */
function gcs(p: Pair): { scavenges: number; majors: number } {
  let scavenges = 0;
  let majors = 0;
  for (const r of [...p.client.logs, ...p.server.logs]) {
    const raw = typeof r.raw === 'string' ? r.raw : '';
    if (/ Scavenge /.test(raw)) scavenges++;
    else if (/ Mark-Compact| Mark-sweep/i.test(raw)) majors++;
  }
  return { scavenges, majors };
}
const gcDelta = (a: { scavenges: number; majors: number }, b: { scavenges: number; majors: number }) => `${b.scavenges - a.scavenges}s/${b.majors - a.majors}m`;

/** Small GETs for BURST_MS: CPU µs per request. */
async function burst(p: Pair, origin: string): Promise<{ perRequest: number; requests: number }> {
  const c0 = cpu(p);
  const end = performance.now() + BURST_MS;
  let requests = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end && requests < MAX_BURST_REQUESTS) { await get(p, `${origin}/bytes/1024`); requests++; }
  }));
  return { perRequest: (cpu(p) - c0) / requests, requests };
}

/** One download of `size`: CPU µs per MiB. */
async function bulk(p: Pair, origin: string, size: number): Promise<number> {
  const c0 = cpu(p);
  const n = await get(p, `${origin}/bytes/${size}`);
  if (n !== size) throw new Error(`${p.name}: ${n} of ${size} bytes`);
  return (cpu(p) - c0) / (size / MiB);
}

const origin = await startRole(['origin', '--listen', '127.0.0.1:0', '--log-level', 'warn']);
const pairs: Pair[] = [];
try {
  const same = process.env.RELAY_IDLE_B === 'same';
  pairs.push(await startPair('A (pacer, gc() loaded)', undefined), await startPair(same ? 'B (as A)' : 'B (no gc())', same ? undefined : `--import=${NO_GC}`));
  const [a, b] = pairs as [Pair, Pair];
  await Promise.all(pairs.map((p) => bulk(p, origin.url, 100 * MiB))); // A's pacer loads gc() here
  await Promise.all(pairs.map((p) => burst(p, origin.url))); // the small-request path compiled in both
  const small: number[] = [];
  const big: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const g0 = [gcs(a), gcs(b)];
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const g1 = [gcs(a), gcs(b)];
    const [sa, sb] = await Promise.all([burst(a, origin.url), burst(b, origin.url)]);
    const g2 = [gcs(a), gcs(b)];
    const [ba, bb] = await Promise.all([bulk(a, origin.url, 20 * MiB), bulk(b, origin.url, 20 * MiB)]);
    const g3 = [gcs(a), gcs(b)];
    if (TRACE_GC) {
      console.log(`round ${i + 1} collections (scavenges/majors) idle A ${gcDelta(g0[0]!, g1[0]!)} B ${gcDelta(g0[1]!, g1[1]!)}; `
        + `burst A ${gcDelta(g1[0]!, g2[0]!)} B ${gcDelta(g1[1]!, g2[1]!)}; 20 MiB A ${gcDelta(g2[0]!, g3[0]!)} B ${gcDelta(g2[1]!, g3[1]!)}`);
    }
    small.push(sa.perRequest / sb.perRequest);
    big.push(ba / bb);
    console.log(`round ${i + 1}: small GET CPU µs/request A ${sa.perRequest.toFixed(0)} (${sa.requests}) B ${sb.perRequest.toFixed(0)} (${sb.requests}) ratio ${small.at(-1)!.toFixed(3)}; `
      + `20 MiB CPU µs/MiB A ${ba.toFixed(0)} B ${bb.toFixed(0)} ratio ${big.at(-1)!.toFixed(3)}`);
  }
  console.log(`A ÷ B after ${IDLE_S} s idle, median of ${ROUNDS} rounds: small GETs ${median(small).toFixed(3)} (range ${Math.min(...small).toFixed(2)}-${Math.max(...small).toFixed(2)}), `
    + `20 MiB download ${median(big).toFixed(3)} (range ${Math.min(...big).toFixed(2)}-${Math.max(...big).toFixed(2)})`);
} finally {
  for (const p of pairs) p.agent.destroy();
  await Promise.all(pairs.flatMap((p) => [p.client.stop(), p.server.stop()]));
  await origin.stop();
}
