/**
 * @module Relay benchmark (issue 7): a 100 MiB download and a 100 MiB upload (to /echo, so the bytes also come
 * back) through relay-client → relay-server with 1 MiB messages on loopback, as a ratio of the same transfer
 * straight to the origin. Also through the narrow-gateway test fixture (a buffering proxy in the middle, as a
 * real gateway is). 5 interleaved runs (direct, relay, relay + gateway, in turn); every loop is bounded.
 *
 * The ratio is the median of the per-run ratios (each relayed transfer over the direct one just before it):
 * on a shared machine the load moves absolute figures by 2× within a minute, so pairing neighbours is
 * steadier than dividing two medians taken over the whole run (that figure is printed too). Also printed:
 * the CPU seconds (user + system, /proc) relay-client and relay-server spend per 100 MiB, the least noisy
 * measure of the relay's own cost. And a reference in the same rounds: two chained peers/hashing-hop.mjs, the
 * leanest Node hops (hash every byte, nothing else) in the relay's four-process layout: the floor of that layout here.
 * The roles run from a build (JavaScript compiled as `npm run build` does, what `npx ferry` runs), not from the
 * TypeScript sources: type stripping alone adds ~18 MiB of RSS at start (92 against 74 MiB), which the memory target would count.
 * Run alone: `node bench/relay.bench.ts`; bench/run.ts calls `run()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { startRole, type RunningRole } from '../test/helpers/cli.ts';
import { startGateway } from '../test/fixtures/gateway.ts';
import { patternStream } from '../test/relay/harness.ts';
import { measureRelayMemory } from './relay-memory.ts';
import { buildFerry } from './transfer.ts';

export interface BenchResult { name: string; value: number; unit: string; notes?: string }

const MiB = 1024 * 1024;
const SIZE = 100 * MiB;
const RUNS = 5;
const SECRET = 'relay-bench-secret-0123456789abcdef';

/** One transfer; resolves with MiB/s. `proxy` set: absolute-form through that proxy. */
function transfer(kind: 'download' | 'upload', origin: string, proxy?: string): Promise<number> {
  const target = new URL(kind === 'download' ? `/bytes/${SIZE}` : '/echo', origin);
  const via = proxy ? new URL(proxy) : target;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request({
      host: via.hostname, port: via.port, method: kind === 'download' ? 'GET' : 'POST', agent: false,
      path: proxy ? target.href : target.pathname, headers: { host: target.host, ...(kind === 'upload' ? { 'content-length': String(SIZE) } : {}) },
    }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => {
        if (res.statusCode !== 200 || n !== SIZE) reject(new Error(`${kind} via ${proxy ?? 'direct'}: status ${res.statusCode}, ${n} bytes`));
        else resolve(SIZE / MiB / ((performance.now() - started) / 1000));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (kind === 'upload') patternStream(SIZE).pipe(req);
    else req.end();
  });
}

/** bench/peers/hashing-hop.mjs, started; resolves once it listens. */
function startHop(next?: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [fileURLToPath(new URL('./peers/hashing-hop.mjs', import.meta.url)), ...(next ? [next] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => { const m = /"url":"([^"]+)"/.exec(c.toString()); if (m) resolve({ url: m[1]!, proc }); });
    proc.on('exit', (code) => reject(new Error(`hashing hop exited ${code}`)));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU seconds (user + system) a process has used so far (fields 14 and 15 of /proc/PID/stat, in clock ticks). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch { return Number.NaN; } // not Linux: the figure is left out
}

/** Gateway latencies the bench adds per message (issue 18), each with an adaptive and a fixed-window relay-client. */
const LATENCIES = [30, 60] as const;
/** A relay-client whose session memory allows no more than --window 4: the fixed window of before issue 18. */
const FIXED_WINDOW = ['--session-memory', '2MiB'];

interface Route { key: string; label: string; url: string }

export async function run(ctx?: { log(m: string): void }): Promise<BenchResult[]> {
  const log = ctx?.log ?? ((m: string) => console.log(m));
  const runs = Number(process.env.FERRY_RELAY_BENCH_RUNS ?? RUNS);
  const roles: RunningRole[] = [];
  const env = { FERRY_RELAY_SECRET: SECRET };
  const main = process.env.FERRY_MAIN ?? `${buildFerry('ferry-relay-bench/dist')}/cli/main.js`;
  log(`relay bench: ferry from ${main}`);
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0', '--log-level', 'warn'], { main });
  roles.push(origin);
  const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--log-level', 'warn'], { env, main });
  roles.push(server);
  const gateway = await startGateway({ targets: [server.url], maxMessage: MiB });
  const slow = await Promise.all(LATENCIES.map((latencyMs) => startGateway({ targets: [server.url], maxMessage: MiB, latencyMs })));
  const farHop = await startHop();
  const nearHop = await startHop(farHop.url);
  const client = async (gw: string, extra: string[] = []) => {
    const r = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', gw, '--max-message', '1MiB', '--log-level', 'warn', ...extra], { env, main });
    roles.push(r);
    return r;
  };
  const results: BenchResult[] = [];
  try {
    const direct = await client(server.url);
    const gated = await client(gateway.url);
    // Relayed routes besides the plain relay: the narrow gateway, then each latency with the adaptive and the fixed window.
    const routes: Route[] = [{ key: 'gateway', label: 'relay+gateway', url: gated.url }];
    for (const [i, ms] of LATENCIES.entries()) {
      routes.push({ key: `gw${ms}`, label: `gateway +${ms} ms`, url: (await client(slow[i]!.url)).url });
      routes.push({ key: `gw${ms}fixed`, label: `gateway +${ms} ms, fixed window 4`, url: (await client(slow[i]!.url, FIXED_WINDOW)).url });
    }
    for (const kind of ['download', 'upload'] as const) {
      const t: Record<string, number[]> = { direct: [], relay: [], relayRatio: [], hopsRatio: [], clientCpu: [], serverCpu: [] };
      for (const r of routes) { t[r.key] = []; t[`${r.key}Ratio`] = []; }
      await transfer(kind, origin.url, nearHop.url);
      await transfer(kind, origin.url, direct.url); // warm-up
      for (const r of routes) await transfer(kind, origin.url, r.url);
      for (let i = 0; i < runs; i++) {
        const d = await transfer(kind, origin.url);
        const before = [cpuSeconds(direct.proc.pid!), cpuSeconds(server.proc.pid!)];
        const r = await transfer(kind, origin.url, direct.url);
        t.clientCpu!.push(cpuSeconds(direct.proc.pid!) - before[0]!);
        t.serverCpu!.push(cpuSeconds(server.proc.pid!) - before[1]!);
        const line: string[] = [];
        for (const route of routes) {
          const v = await transfer(kind, origin.url, route.url);
          t[route.key]!.push(v);
          // the gateway routes against the no-latency gateway just measured (issue 18's ratio), that one against direct
          const base = route.key === 'gateway' ? d : t.gateway!.at(-1)!;
          t[`${route.key}Ratio`]!.push(v / base);
          line.push(`${route.label} ${v.toFixed(0)} (${(v / base).toFixed(2)})`);
        }
        t.hopsRatio!.push((await transfer(kind, origin.url, nearHop.url)) / d);
        t.direct!.push(d); t.relay!.push(r); t.relayRatio!.push(r / d);
        log(`${kind} run ${i + 1}: direct ${d.toFixed(0)}, relay ${r.toFixed(0)} (${(r / d).toFixed(2)}; CPU s client ${t.clientCpu!.at(-1)!.toFixed(2)}, server ${t.serverCpu!.at(-1)!.toFixed(2)}), ${line.join(', ')} MiB/s, two hashing hops ${t.hopsRatio!.at(-1)!.toFixed(2)}`);
      }
      const d = median(t.direct!);
      const r = median(t.relay!);
      const hops = median(t.hopsRatio!);
      results.push(
        { name: `${kind} 100 MiB direct`, value: d, unit: 'MiB/s' },
        { name: `${kind} 100 MiB through the relay (1 MiB messages)`, value: r, unit: 'MiB/s', notes: `ratio ${median(t.relayRatio!).toFixed(2)} of direct, ${(median(t.relayRatio!) / hops).toFixed(2)}x the two hashing hops (target ≥ 0.85x; ratio of medians ${(r / d).toFixed(2)})` },
        { name: `${kind} 100 MiB through the relay: relay-client CPU (user+sys)`, value: median(t.clientCpu!), unit: 's' },
        { name: `${kind} 100 MiB through the relay: relay-server CPU (user+sys)`, value: median(t.serverCpu!), unit: 's' },
        { name: `${kind} 100 MiB through the relay and the narrow gateway fixture`, value: median(t.gateway!), unit: 'MiB/s', notes: `ratio ${median(t.gatewayRatio!).toFixed(2)} of direct` },
      );
      for (const ms of LATENCIES) {
        const target = ms === 30 ? 0.85 : 0.7;
        results.push(
          { name: `${kind} 100 MiB through the gateway fixture +${ms} ms per message`, value: median(t[`gw${ms}`]!), unit: 'MiB/s', notes: `ratio ${median(t[`gw${ms}Ratio`]!).toFixed(2)} of the no-latency gateway (target ≥ ${target})` },
          { name: `${kind} 100 MiB through the gateway fixture +${ms} ms, fixed window 4 (before issue 18)`, value: median(t[`gw${ms}fixed`]!), unit: 'MiB/s', notes: `ratio ${median(t[`gw${ms}fixedRatio`]!).toFixed(2)} of the no-latency gateway` },
        );
      }
      results.push({ name: `${kind} reference: two chained Node hops that only SHA-256 every byte (the relay's layout, no protocol)`, value: hops, unit: 'of direct', notes: 'the floor four processes on this machine set' });
    }
    results.push({ name: 'largest message seen by the gateways', value: Math.max(...[gateway, ...slow].flatMap((g) => [g.largestRequest(), g.largestResponse()])), unit: 'bytes', notes: `limit ${MiB}` });
    for (const [i, ms] of LATENCIES.entries()) {
      results.push({ name: `most messages in flight at the +${ms} ms gateway (both clients, all runs)`, value: slow[i]!.counts.maxInFlight, unit: 'messages', notes: `no-latency gateway: ${gateway.counts.maxInFlight}` });
    }
  } finally {
    await gateway.close();
    await Promise.all(slow.map((g) => g.close()));
    nearHop.proc.kill();
    farHop.proc.kill();
    await Promise.all(roles.reverse().map((r) => r.stop()));
  }
  // Peak RSS after many transfers (issue 18), with fresh relay processes (bench/relay-memory.ts).
  const transfers = Number(process.env.FERRY_RELAY_MEMORY_TRANSFERS ?? 50);
  if (transfers > 0) {
    const m = await measureRelayMemory(transfers, [], main);
    log(`memory: ${JSON.stringify(m)}`);
    const notes = `${transfers} transfers of 100 MiB (half down, half up) in ${m.seconds.toFixed(0)} s; target < 120 MiB`;
    results.push(
      { name: 'relay-client peak RSS (VmHWM)', value: m.clientPeakMiB, unit: 'MiB', notes: `${notes}; ${m.clientIdleMiB.toFixed(0)} MiB at start` },
      { name: 'relay-server peak RSS (VmHWM)', value: m.serverPeakMiB, unit: 'MiB', notes: `${notes}; ${m.serverIdleMiB.toFixed(0)} MiB at start` },
    );
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) console.log(`${r.name.padEnd(80)} ${r.value.toFixed(r.unit === 's' || r.unit === 'of direct' ? 2 : 1).padStart(9)} ${r.unit}${r.notes ? `  (${r.notes})` : ''}`);
}
