/**
 * @module JWT benchmark (issue 4: "signing must not be a bottleneck"; issue 19: the asymmetric algorithms): tokens/s
 * and CPU per token of the jose signer for HS512, ES256 and EdDSA (keys generated per run), one at a time and 64 in
 * flight; then requests/s and proxy CPU per request through `ferry proxy` without JWT and with each of them
 * (autocannon, loopback). Bounded: every loop runs for a fixed time (FERRY_BENCH_JWT_SECONDS scales them down).
 * Run alone: `node bench/jwt.bench.ts`; bench/run.ts calls `run()`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createJwtSigner } from '../src/proxy/filters/jwt.ts';
import type { JwtOptions } from '../src/proxy/options.ts';
import { startRole, type RunningRole } from '../test/helpers/cli.ts';
import { cpuMicros } from './transfer.ts';

export interface BenchResult { name: string; value: number; unit: string; notes?: string }

const SCALE = Number(process.env.FERRY_BENCH_JWT_SECONDS ?? '') || 1;
const SIGN_SECONDS = 2 * SCALE;
const LOAD_SECONDS = 5 * SCALE;
const CONNECTIONS = 32;
const ALGS = ['HS512', 'ES256', 'EdDSA'] as const;
type Alg = (typeof ALGS)[number];

function privatePem(alg: Alg): string | null {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  return null;
}

/** Tokens/s, and CPU µs per token of this whole process (WebCrypto signs on libuv's threads: they count too). */
async function signing(alg: Alg, pem: string | null, inFlight: number): Promise<{ rate: number; cpuUs: number }> {
  const base = { alg, header: 'x-my-jwt', user: 'username', extraClaims: {} };
  const options: JwtOptions = pem === null ? { ...base, secret: new Uint8Array(64).fill(42) } : { ...base, privateKey: pem };
  const signer = await createJwtSigner(options);
  const end = performance.now() + SIGN_SECONDS * 1000;
  const started = performance.now();
  const cpu = process.cpuUsage();
  let n = 0;
  while (performance.now() < end) {
    await Promise.all(Array.from({ length: inFlight }, () => signer.sign()));
    n += inFlight;
  }
  const used = process.cpuUsage(cpu);
  return { rate: n / ((performance.now() - started) / 1000), cpuUs: (used.user + used.system) / n };
}

async function proxyLoad(role: RunningRole): Promise<{ rps: number; p99: number; errors: number; cpuUsPerRequest: number }> {
  const before = cpuMicros(role.proc.pid!);
  const r = await autocannon({ url: `${role.url}/bytes/100`, connections: CONNECTIONS, duration: LOAD_SECONDS });
  const cpu = cpuMicros(role.proc.pid!) - before;
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx, cpuUsPerRequest: cpu / Math.max(1, r.requests.total) };
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const pems = Object.fromEntries(ALGS.map((a) => [a, privatePem(a)])) as Record<Alg, string | null>;
  for (const alg of ALGS) {
    for (const inFlight of [1, 64]) {
      const s = await signing(alg, pems[alg], inFlight);
      results.push({ name: `jwt sign ${alg}, ${inFlight} in flight`, value: Math.round(s.rate), unit: 'tokens/s', notes: `${s.cpuUs.toFixed(1)} µs CPU per token` });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'ferry-jwt-bench-'));
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0']);
  const roles: Array<[string, RunningRole]> = [];
  try {
    const quiet = ['--listen', '127.0.0.1:0', '--upstream', origin.url, '--log-level', 'warn'];
    roles.push(['proxy without JWT', await startRole(['proxy', ...quiet])]);
    roles.push(['proxy with JWT HS512', await startRole(['proxy', ...quiet], { env: { FERRY_JWT_SECRET: 'b'.repeat(64) } })]);
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const file = join(dir, `${alg}.pem`);
      writeFileSync(file, pems[alg]!, { mode: 0o600 });
      roles.push([`proxy with JWT ${alg}`, await startRole(['proxy', ...quiet, '--jwt-alg', alg, '--jwt-key-file', file])]);
    }
    for (const [name, role] of roles) {
      const r = await proxyLoad(role);
      results.push({ name: `${name}: GET /bytes/100, ${CONNECTIONS} connections`, value: Math.round(r.rps), unit: 'req/s', notes: `p99 ${r.p99} ms, ${r.errors} errors, proxy CPU ${r.cpuUsPerRequest.toFixed(0)} µs/request` });
    }
  } finally {
    await Promise.all([...roles.map(([, r]) => r.stop()), origin.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) console.log(`${r.name.padEnd(60)} ${String(r.value).padStart(9)} ${r.unit}${r.notes ? `  (${r.notes})` : ''}`);
}
