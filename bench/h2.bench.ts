/**
 * @module HTTP/2 over TLS (issues 14, 18): ferry's TLS listener (the built CLI with its defaults: access log on,
 * stdout to a file) against nginx 1.22 (`listen … ssl http2`) on the same certificate, both in front of the bench
 * origin over HTTP/1.1, each over h2 and over HTTP/1.1 on the same TLS port (ALPN), so that h2's own cost is the
 * same-run ratio of the two (issue 18: h2 CPU per request within 1.3× ferry's HTTP/1.1 figure).
 *
 * - small GET: h2load (nghttp2-client; a separate process on the load CPU), 10 connections × 10 concurrent streams
 *   over h2, 100 connections × 1 request over HTTP/1.1 (`--h1`: the same 100 requests in flight, no pipelining),
 *   for FERRY_BENCH_SECONDS (5) after 1 s warm-up; requests per second and the proxy's CPU time per request
 *   (/proc/PID/stat utime+stime over the run / requests);
 * - TLS handshakes per second: `openssl s_time -new` (a full handshake per connection, no resumption), 3 s.
 *
 * Proxy on CPU 0, origin + h2load + openssl on CPU 1 (taskset), median of FERRY_BENCH_REPS (3) interleaved runs.
 * No target: the figures are measured and explained (bench/RESULTS.md), the performance issue sets targets.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { localhostCert } from '../test/helpers/certs.ts';
import type { BenchContext, BenchReport } from './run.ts';
import { buildFerry, cpuMicros, median, startPinned, startPinnedLogToFile } from './transfer.ts';
import { nginxPreamble } from './peers/native-proxies.ts';

const run = promisify(execFile);
const SECONDS = Number(process.env.FERRY_BENCH_SECONDS ?? 5);
const REPS = Number(process.env.FERRY_BENCH_REPS ?? 3);
const PROXY_CPU = '0';
const LOAD_CPU = '1';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); }).on('error', reject);
  });
}

async function waitPort(port: number, proc: ChildProcess): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); }).on('error', () => resolve(false)); });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** nginx 1.22 with HTTP/2 on TLS, proxying over HTTP/1.1 with keep-alive, no buffering, no access log. */
async function startNginx(origin: string, certFile: string, keyFile: string): Promise<{ proc: ChildProcess; port: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-nginx-h2-'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `${nginxPreamble(dir, new URL(origin))}  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    keepalive_requests 1000000;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffering off;
    }
  }
}
`);
  const proc = spawn('taskset', ['-c', PROXY_CPU, 'nginx', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  await waitPort(port, proc);
  return { proc, port, dir };
}

/** h2load's summary: requests per second and succeeded requests. */
export function parseH2load(out: string): { rps: number; succeeded: number; failed: number } {
  const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out);
  const req = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(out);
  if (!rps || !req) throw new Error(`unexpected h2load output: ${out.slice(-400)}`);
  return { rps: Number(rps[1]), succeeded: Number(req[1]), failed: Number(req[2]) };
}

async function h2load(port: number, seconds: number, h1: boolean): Promise<{ rps: number; succeeded: number; failed: number }> {
  const shape = h1 ? ['--h1', '-c', '100', '-m', '1'] : ['-c', '10', '-m', '10'];
  const { stdout } = await run('taskset', ['-c', LOAD_CPU, 'h2load', ...shape, '-D', String(seconds), '--warm-up-time=1', `https://127.0.0.1:${port}/small`], { maxBuffer: 1 << 22 });
  return parseH2load(stdout);
}

/** Full TLS handshakes per second (`openssl s_time -new`: no session reuse). */
async function handshakes(port: number, seconds: number): Promise<number> {
  const { stdout } = await run('taskset', ['-c', LOAD_CPU, 'openssl', 's_time', '-connect', `127.0.0.1:${port}`, '-new', '-time', String(seconds)], { maxBuffer: 1 << 22 });
  const m = /(\d+) connections in ([\d.]+)s/.exec(stdout);
  if (!m) throw new Error(`unexpected s_time output: ${stdout.slice(-300)}`);
  return Number(m[1]) / Number(m[2]);
}

export async function run_(ctx: BenchContext): Promise<BenchReport> {
  for (const bin of ['h2load', 'nginx', 'openssl']) {
    if (spawnSync(bin, ['-v'], { stdio: 'ignore' }).error) throw new Error(`${bin} is not installed (Debian: ${bin === 'h2load' ? 'nghttp2-client' : bin})`);
  }
  const cert = localhostCert();
  const procs: ChildProcess[] = [];
  const dirs: string[] = [];
  try {
    const origin = await startPinned(LOAD_CPU, ['bench/peers/origin.mjs']);
    procs.push(origin.proc);
    const dist = buildFerry('ferry-h2-bench/dist');
    const ferry = await startPinnedLogToFile(PROXY_CPU, [`${dist}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile]);
    procs.push(ferry.proc);
    const nginx = await startNginx(origin.url, cert.certFile, cert.keyFile);
    procs.push(nginx.proc);
    dirs.push(nginx.dir);
    const ferryPort = Number(new URL(ferry.url).port);
    const candidates = [
      { name: 'ferry (TLS, h2)', port: ferryPort, pid: ferry.proc.pid!, h1: false },
      { name: 'ferry (TLS, HTTP/1.1)', port: ferryPort, pid: ferry.proc.pid!, h1: true },
      { name: 'nginx 1.22 (ssl http2)', port: nginx.port, pid: nginx.proc.pid!, h1: false },
      { name: 'nginx 1.22 (ssl, HTTP/1.1)', port: nginx.port, pid: nginx.proc.pid!, h1: true },
    ];
    const figs = new Map(candidates.map((c) => [c.name, { rps: [] as number[], cpu: [] as number[], hs: [] as number[], failed: 0 }]));
    for (let rep = 0; rep < REPS; rep++) {
      for (const c of candidates) {
        const f = figs.get(c.name)!;
        const cpu0 = cpuMicros(c.pid);
        const r = await h2load(c.port, SECONDS, c.h1);
        f.rps.push(r.rps);
        // CPU over warm-up + run, per request done in both (h2load counts the measured ones; warm-up adds ~1/SECONDS)
        f.cpu.push((cpuMicros(c.pid) - cpu0) / Math.max(1, r.succeeded * (1 + 1 / SECONDS)));
        f.failed += r.failed;
        const hs = await handshakes(c.port, 3);
        f.hs.push(hs);
        ctx.log(`round ${rep + 1}  ${c.name.padEnd(24)} ${Math.round(r.rps)} req/s  ${f.cpu.at(-1)!.toFixed(1)} µs CPU/req  ${Math.round(hs)} handshakes/s`);
      }
    }
    const results = candidates.flatMap((c) => {
      const f = figs.get(c.name)!;
      return [
        { name: `${c.name} small GET`, value: median(f.rps), unit: 'req/s' },
        { name: `${c.name} CPU per request`, value: median(f.cpu), unit: 'µs' },
        { name: `${c.name} TLS handshakes`, value: median(f.hs), unit: '/s' },
      ];
    });
    const row = (c: { name: string }) => {
      const f = figs.get(c.name)!;
      return `| ${c.name} | ${Math.round(median(f.rps)).toLocaleString('en-US')} | ${median(f.cpu).toFixed(1)} | ${Math.round(median(f.hs)).toLocaleString('en-US')} | ${f.failed} |`;
    };
    const cpuOf = (name: string): number => median(figs.get(name)!.cpu);
    const ratio = (a: string, b: string): string => (cpuOf(a) / cpuOf(b)).toFixed(2);
    results.push({ name: 'ferry h2 ÷ HTTP/1.1 CPU per request (TLS)', value: cpuOf('ferry (TLS, h2)') / cpuOf('ferry (TLS, HTTP/1.1)'), unit: '×' });
    const markdown = [
      `Small GET over TLS: h2load, 10 connections × 10 streams over h2, 100 connections over HTTP/1.1 (\`--h1\`), ${SECONDS} s per run after 1 s warm-up; TLS handshakes: openssl s_time -new, 3 s. Median of ${REPS} interleaved runs. Same self-signed P-256 certificate for both; ferry is the built CLI with its defaults (access log on, to a file); proxy on CPU ${PROXY_CPU}, origin + load on CPU ${LOAD_CPU}.`,
      '',
      '| candidate | small GET req/s | proxy CPU µs/req | TLS handshakes/s | failed requests |',
      '|---|---:|---:|---:|---:|',
      ...candidates.map(row),
      '',
      `ferry's CPU per request over h2 is ${ratio('ferry (TLS, h2)', 'ferry (TLS, HTTP/1.1)')}× its HTTP/1.1 figure on the same TLS listener (issue 18's target: at most 1.3×); nginx's ${ratio('nginx 1.22 (ssl http2)', 'nginx 1.22 (ssl, HTTP/1.1)')}×. ferry over h2 uses ${ratio('ferry (TLS, h2)', 'nginx 1.22 (ssl http2)')}× nginx's CPU per request over h2.`,
      '',
      'nginx runs with `keepalive_requests 1000000`: its 1.22 default (1,000 requests per connection, HTTP/2 streams included) ends each h2load connection with GOAWAY after 1,000 streams, and h2load does not reconnect in duration mode, so nginx measured 98-1,900 req/s with that default. ferry has no per-connection request limit. ferry\'s CPU per request over h2 is that of node:http2 (nghttp2 plus its JavaScript compatibility layer) and Node\'s TLS, on top of the same HTTP/1.1 upstream path as the `proxy` table\'s small GET.',
    ].join('\n');
    return { results, markdown };
  } finally {
    for (const p of procs) p.kill();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export { run_ as run };
