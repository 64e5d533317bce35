/**
 * @module Relay memory benchmark (issue 18): the peak RSS (VmHWM) of relay-client and relay-server after 50 transfers
 * of 100 MiB (25 downloads and 25 uploads to /echo, one after the other, 1 MiB messages, loopback, no gateway).
 * Run alone: `node bench/relay-memory.ts [transfers] [flags for both relay roles]`; bench/relay.bench.ts reports it with its figures.
 * `FERRY_MAIN=dist/cli/main.js` runs the relay roles from a build (what `npx ferry` runs) instead of the sources.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { startRole } from '../test/helpers/cli.ts';
import { patternStream } from '../test/relay/harness.ts';

const MiB = 1024 * 1024;
const SIZE = 100 * MiB;
const SECRET = 'relay-bench-secret-0123456789abcdef';

/** Peak resident set size of a process so far, in MiB (VmHWM in /proc/PID/status; NaN off Linux). */
export function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch { return Number.NaN; }
}

/** CPU time (user + system) of a process so far, in seconds (/proc/PID/stat; NaN off Linux). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14 and 15), in clock ticks of 1/100 s
  } catch { return Number.NaN; }
}

function transfer(kind: 'download' | 'upload', origin: string, proxy: string): Promise<void> {
  const target = new URL(kind === 'download' ? `/bytes/${SIZE}` : '/echo', origin);
  const via = new URL(proxy);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: via.hostname, port: via.port, method: kind === 'download' ? 'GET' : 'POST', agent: false, path: target.href,
      headers: { host: target.host, ...(kind === 'upload' ? { 'content-length': String(SIZE) } : {}) },
    }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => (res.statusCode === 200 && n === SIZE ? resolve() : reject(new Error(`${kind}: ${res.statusCode}, ${n} bytes`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (kind === 'upload') patternStream(SIZE).pipe(req);
    else req.end();
  });
}

export interface RelayMemoryResult { transfers: number; clientPeakMiB: number; serverPeakMiB: number; clientIdleMiB: number; serverIdleMiB: number; seconds: number; clientCpuSeconds: number; serverCpuSeconds: number }

/** `extra`: more flags for both relay roles (e.g. to compare settings). */
export async function measureRelayMemory(transfers = 50, extra: string[] = [], main = process.env.FERRY_MAIN): Promise<RelayMemoryResult> {
  const env = { FERRY_RELAY_SECRET: SECRET };
  const from = main === undefined ? {} : { main };
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0', '--log-level', 'warn']);
  const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--log-level', 'warn', ...extra], { env, ...from });
  const client = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', server.url, '--max-message', '1MiB', '--log-level', 'warn', ...extra], { env, ...from });
  try {
    const clientIdleMiB = peakRssMiB(client.proc.pid!);
    const serverIdleMiB = peakRssMiB(server.proc.pid!);
    const cpu0 = [cpuSeconds(client.proc.pid!), cpuSeconds(server.proc.pid!)];
    const started = performance.now();
    for (let i = 0; i < transfers; i++) await transfer(i % 2 === 0 ? 'download' : 'upload', origin.url, client.url);
    return {
      transfers, clientIdleMiB, serverIdleMiB, seconds: (performance.now() - started) / 1000,
      clientCpuSeconds: cpuSeconds(client.proc.pid!) - cpu0[0]!, serverCpuSeconds: cpuSeconds(server.proc.pid!) - cpu0[1]!,
      clientPeakMiB: peakRssMiB(client.proc.pid!), serverPeakMiB: peakRssMiB(server.proc.pid!),
    };
  } finally {
    await Promise.all([client.stop(), server.stop(), origin.stop()]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 50);
  console.log(JSON.stringify(await measureRelayMemory(n, process.argv.slice(3))));
}
