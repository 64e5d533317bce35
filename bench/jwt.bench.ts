/**
 * @module JWT benchmark (issue 4: "signing must not be a bottleneck"): tokens/s of the jose signer per algorithm, one
 * at a time and 64 in flight; then requests/s through `ferry proxy` with and without --jwt (autocannon, loopback).
 * Bounded: every loop runs for a fixed time. Run alone: `node bench/jwt.bench.ts`; bench/run.ts calls `run()`.
 */
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createJwtSigner } from '../src/proxy/filters/jwt.ts';
import { JWT_ALGORITHMS, MIN_SECRET_BYTES } from '../src/http/jwt-claims.ts';
import { startRole } from '../test/helpers/cli.ts';

export interface BenchResult { name: string; value: number; unit: string; notes?: string }

const SIGN_SECONDS = 2;
const LOAD_SECONDS = 5;
const CONNECTIONS = 32;

async function tokensPerSecond(alg: (typeof JWT_ALGORITHMS)[number], inFlight: number): Promise<number> {
  const signer = await createJwtSigner({ secret: new Uint8Array(MIN_SECRET_BYTES[alg]).fill(42), alg, header: 'x-my-jwt', user: 'username', extraClaims: {} });
  const end = performance.now() + SIGN_SECONDS * 1000;
  const started = performance.now();
  let n = 0;
  while (performance.now() < end) {
    await Promise.all(Array.from({ length: inFlight }, () => signer.sign()));
    n += inFlight;
  }
  return n / ((performance.now() - started) / 1000);
}

async function proxyRps(url: string): Promise<{ rps: number; p99: number; errors: number }> {
  const r = await autocannon({ url: `${url}/bytes/100`, connections: CONNECTIONS, duration: LOAD_SECONDS });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const alg of JWT_ALGORITHMS) {
    for (const inFlight of [1, 64]) {
      results.push({ name: `jwt sign ${alg}, ${inFlight} in flight`, value: Math.round(await tokensPerSecond(alg, inFlight)), unit: 'tokens/s' });
    }
  }
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0']);
  const plain = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url]);
  const signing = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url], { env: { FERRY_JWT_SECRET: 'b'.repeat(64) } });
  try {
    for (const [name, role] of [['proxy without JWT', plain], ['proxy with JWT HS512', signing]] as const) {
      const r = await proxyRps(role.url);
      results.push({ name: `${name}: GET /bytes/100, ${CONNECTIONS} connections`, value: Math.round(r.rps), unit: 'req/s', notes: `p99 ${r.p99} ms, ${r.errors} errors` });
    }
  } finally {
    await Promise.all([plain.stop(), signing.stop(), origin.stop()]);
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) console.log(`${r.name.padEnd(60)} ${String(r.value).padStart(9)} ${r.unit}${r.notes ? `  (${r.notes})` : ''}`);
}
