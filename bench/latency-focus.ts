/**
 * @module Focused A/B of the relay behind the latency gateway (issue 18): the no-delay, +30 ms and +60 ms gateway
 * routes of bench/relay.bench.ts only, for one or two builds in alternating rounds (FERRY_AB_MAINS: comma-separated
 * src/cli/main.ts paths; default this tree). Prints each route's MiB/s and its ratio to the no-delay gateway just measured.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { MAIN, startRole, type RunningRole } from '../test/helpers/cli.ts';
import { startGateway, type Gateway } from '../test/fixtures/gateway.ts';
import { patternStream } from '../test/relay/harness.ts';

const MiB = 1024 * 1024;
const SIZE = 100 * MiB;
const SECRET = 'relay-bench-secret-0123456789abcdef';

function transfer(kind: 'download' | 'upload', origin: string, proxy: string): Promise<number> {
  const target = new URL(kind === 'download' ? `/bytes/${SIZE}` : '/echo', origin);
  const via = new URL(proxy);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request({
      host: via.hostname, port: via.port, method: kind === 'download' ? 'GET' : 'POST', agent: false,
      path: target.href, headers: { host: target.host, ...(kind === 'upload' ? { 'content-length': String(SIZE) } : {}) },
    }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => {
        if (res.statusCode !== 200 || n !== SIZE) reject(new Error(`${kind}: status ${res.statusCode}, ${n} bytes`));
        else resolve(SIZE / MiB / ((performance.now() - started) / 1000));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (kind === 'upload') patternStream(SIZE).pipe(req);
    else req.end();
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const LAT = [0, 30, 60];

const mains = (process.env.FERRY_AB_MAINS ?? MAIN).split(',');
const runs = Number(process.env.FERRY_AB_RUNS ?? 5);
const kinds = (process.env.FERRY_AB_KINDS ?? 'download,upload').split(',') as Array<'download' | 'upload'>;
const roles: RunningRole[] = [];
const gws: Gateway[] = [];
const env = { FERRY_RELAY_SECRET: SECRET };
try {
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0', '--log-level', 'warn']);
  roles.push(origin);
  const builds: Array<{ name: string; clients: string[] }> = [];
  for (const main of mains) {
    const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--log-level', 'warn'], { env, main });
    roles.push(server);
    const clients: string[] = [];
    for (const latencyMs of LAT) {
      const g = await startGateway({ targets: [server.url], maxMessage: MiB, latencyMs });
      gws.push(g);
      const c = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', g.url, '--max-message', '1MiB', '--log-level', 'warn'], { env, main });
      roles.push(c);
      clients.push(c.url);
    }
    builds.push({ name: main.replace(/\/src\/cli\/main\.ts$/, ''), clients });
  }
  for (const kind of kinds) {
    const ratios = builds.map(() => LAT.map(() => [] as number[]));
    for (const b of builds) for (const c of b.clients) await transfer(kind, origin.url, c); // warm-up, seeds the windows
    for (let i = 0; i < runs; i++) {
      // latency by latency, the builds back to back (their order alternating by round): a build's ratio is its +30 /
      // +60 ms transfer over its own no-delay one of the same round, taken within seconds of the other build's
      const v = builds.map(() => [] as number[]);
      for (const li of LAT.keys()) {
        const order = i % 2 === 0 ? [...builds.keys()] : [...builds.keys()].reverse();
        for (const bi of order) v[bi]![li] = await transfer(kind, origin.url, builds[bi]!.clients[li]!);
      }
      for (const [bi, b] of builds.entries()) {
        const x = v[bi]!;
        x.forEach((y, li) => ratios[bi]![li]!.push(y / x[0]!));
        console.log(`${kind} ${i + 1} ${b.name}: ${x.map((y) => y.toFixed(0)).join(' / ')} MiB/s; ratios ${x.slice(1).map((y) => (y / x[0]!).toFixed(2)).join(' / ')}`);
      }
    }
    for (const [bi, b] of builds.entries()) {
      console.log(`== ${kind} ${b.name}: median +30 ${median(ratios[bi]![1]!).toFixed(2)}, +60 ${median(ratios[bi]![2]!).toFixed(2)}`);
    }
  }
} finally {
  await Promise.all(gws.map((g) => g.close()));
  await Promise.all(roles.reverse().map((r) => r.stop()));
}
if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(0);
