/**
 * @module nginx and HAProxy as reference rows of the reverse-proxy benchmark, when installed (Debian: nginx-light,
 * haproxy). Both stream both ways (no request or response buffering), keep upstream connections alive, and run one
 * process with one thread pinned to the proxy core, like the Node candidates.
 *
 * The third row, HAProxy with 64 KiB buffers, is the control for the upload figure: on loopback with curl and the
 * origin sharing one core, the receiving proxy's read size changes what the *load* core spends per GiB. HAProxy's
 * default 16 KiB buffers leave curl and the origin more headroom than 64 KiB reads, and 64 KiB is the size Node
 * reads with (libuv's suggested size; node:http's parser buffer), for every Node proxy alike.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NativePeer {
  name: string;
  start(upstream: string, cpu: string): Promise<{ proc: ChildProcess; url: string }>;
}

export function installed(bin: string): boolean {
  return spawnSync(bin, ['-v'], { stdio: 'ignore' }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** Resolves once the port accepts a connection; rejects if the process exits first or 10 s pass. */
function listening(proc: ChildProcess, port: number, name: string): Promise<void> {
  let err = '';
  proc.stderr?.on('data', (c: Buffer) => { err += c.toString(); });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const onExit = (code: number | null) => reject(new Error(`${name} exited ${code}: ${err}`));
    proc.once('exit', onExit);
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); proc.off('exit', onExit); resolve(); });
      s.on('error', () => {
        if (Date.now() > deadline) { proc.off('exit', onExit); reject(new Error(`${name} did not listen on ${port}: ${err}`)); return; }
        setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** The top of every bench nginx config: one foreground process under `dir`, no access log, keep-alive to `upstream`. */
export function nginxPreamble(dir: string, upstream: URL, extra = ''): string {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
${extra}  upstream origin { server ${upstream.host}; keepalive 64; }
`;
}

function nginxConfig(dir: string, port: number, upstream: URL): string {
  return `${nginxPreamble(dir, upstream)}  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffering off;
    }
  }
}
`;
}

function haproxyConfig(port: number, upstream: URL, bufsize: number | null): string {
  return `global
  nbthread 1
${bufsize ? `  tune.bufsize ${bufsize}\n` : ''}defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend ferry_bench
  bind 127.0.0.1:${port}
  default_backend origin
backend origin
  server origin ${upstream.host}
`;
}

export async function startWith(name: string, cpu: string, write: (dir: string, port: number) => string[]): Promise<{ proc: ChildProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-native-'));
  const port = await freePort();
  const argv = write(dir, port);
  const proc = spawn('taskset', ['-c', cpu, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  await listening(proc, port, name);
  return { proc, url: `http://127.0.0.1:${port}` };
}

/** The native reference proxies installed on this machine (none is required). */
export function nativePeers(): NativePeer[] {
  const peers: NativePeer[] = [];
  if (installed('nginx')) {
    peers.push({
      name: 'nginx',
      start: (upstream, cpu) => startWith('nginx', cpu, (dir, port) => {
        writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, new URL(upstream)));
        return ['nginx', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')];
      }),
    });
  }
  if (installed('haproxy')) {
    for (const [name, bufsize] of [['HAProxy', null], ['HAProxy, 64 KiB buffers', 65536]] as const) {
      peers.push({
        name,
        start: (upstream, cpu) => startWith(name, cpu, (dir, port) => {
          writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(port, new URL(upstream), bufsize));
          return ['haproxy', '-db', '-f', join(dir, 'haproxy.cfg')];
        }),
      });
    }
  }
  return peers;
}
