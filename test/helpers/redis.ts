/**
 * @module A real redis-server on a free loopback port for one test file. CI (CI=true) must have it; elsewhere a missing
 * binary skips loudly. Also MONITOR on a server (watchCommands), to see the commands clients and scripts ran.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RunningRedis {
  url: string;
  port: number;
  /** Send a signal to the redis-server process (SIGSTOP / SIGCONT: a stalled Redis whose connections stay open). */
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/** Why Redis tests cannot run here, or null when they can. In CI a missing redis-server is an error, not a skip. */
export function redisUnavailable(): string | null {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (found) return null;
  if (process.env.CI) throw new Error('redis-server is not installed, but CI must run the Redis tests (.ci/run installs it)');
  return 'redis-server is not installed (apt-get install redis-server); .ci/run installs it and CI runs these tests';
}

/** A loopback port free at the time of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `port`: listen there (a restart on the port of a stopped instance, so clients reconnect to the same URL). */
export async function startRedis(options: { port?: number } = {}): Promise<RunningRedis> {
  const port = options.port ?? await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-redis-'));
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('Ready to accept connections')) { clearTimeout(timer); resolve(); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}: ${out}`)); });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    signal: (signal) => { proc.kill(signal); },
    stop: () => new Promise<void>((resolve) => {
      proc.once('exit', () => { rmSync(dir, { recursive: true, force: true }); resolve(); });
      proc.kill('SIGTERM');
    }),
  };
}

export interface CommandWatch {
  /** Resolves once MONITOR has reported every command the server ran before this call (an ECHO marker, not reported). */
  sync(): Promise<void>;
  stop(): void;
}

/**
 * Redis MONITOR on one server: `onCommand` sees each command it runs, in order, with its source (`lua` for a
 * command a script ran, right after the script's own line; else the client's address).
 */
export async function watchCommands(url: string, onCommand: (args: string[], source: string) => void): Promise<CommandWatch> {
  const marker = new Redis(url);
  const monitor = await marker.monitor(); // a connection of its own
  let waiting: { mark: string; resolve: () => void } | null = null;
  monitor.on('monitor', (_time: string, args: unknown[], source: string) => {
    const strings = args.map(String);
    if (strings[0]!.toLowerCase() === 'echo' && source !== 'lua') { if (waiting && strings[1] === waiting.mark) waiting.resolve(); return; }
    onCommand(strings, source);
  });
  let marks = 0;
  return {
    sync: () => new Promise<void>((resolve) => { waiting = { mark: `sync-${++marks}`, resolve }; void marker.echo(waiting.mark); }),
    stop: () => { monitor.disconnect(); marker.disconnect(); },
  };
}
