/**
 * @module Redis Cluster and Redis Sentinel on loopback, started by a test (issue 17: "tested with local instances
 * started by the tests"): a three-master cluster (`redis-server --cluster-enabled yes` + `redis-cli --cluster
 * create … --cluster-yes`) and a master with one replica watched by one sentinel (quorum 1, down after 1 s), whose
 * master the test can kill to see the replica take over. Same rules as redis.ts: CI must have redis-server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis.ts';
import { waitFor } from './wait.ts';

function startServer(args: string[], ready: RegExp): Promise<ChildProcess> {
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server ${args.join(' ')} did not start: ${out}`)), 10_000);
    const onData = (c: string): void => {
      out += c;
      if (ready.test(out)) { clearTimeout(timer); out = ''; proc.stdout!.off('data', onData); proc.stdout!.resume(); resolve(proc); }
    };
    proc.stdout!.setEncoding('utf8').on('data', onData);
    proc.stderr!.resume();
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}: ${out}`)); });
  });
}

const cli = (port: number, ...args: string[]): string => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout ?? '';

/** (each check runs redis-cli: polled every 100 ms) */
const until = (check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> => waitFor(check, what, timeoutMs, 100);

async function stopAll(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) { resolve(); return; }
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  })));
}

export interface RunningCluster { url: string; ports: number[]; stop(): Promise<void> }

/** Three masters, no replicas, slots spread by redis-cli. */
export async function startCluster(): Promise<RunningCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const procs: ChildProcess[] = [];
  try {
    for (const port of ports) {
      procs.push(await startServer(['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--dir', dir],
      /Ready to accept connections/));
    }
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await until(() => ports.every((p) => cli(p, 'cluster', 'info').includes('cluster_state:ok')), 'cluster_state:ok on every node');
  } catch (err) {
    await stopAll(procs);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    ports,
    stop: async () => { await stopAll(procs); rmSync(dir, { recursive: true, force: true }); },
  };
}

export interface RunningSentinel {
  url: string;
  masterPort: number;
  replicaPort: number;
  /** SIGKILL the current master; resolves with the new master's port once the sentinel reports the promotion. */
  killMaster(): Promise<number>;
  stop(): Promise<void>;
}

export const SENTINEL_MASTER = 'ferrymaster';

/** A master, one replica of it, and one sentinel (quorum 1, down-after 1 s, failover timeout 3 s). */
export async function startSentinel(): Promise<RunningSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-sentinel-'));
  const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()] as [number, number, number];
  const procs: ChildProcess[] = [];
  // (a master waits repl-diskless-sync-delay, 5 s, for more replicas before the first full sync: none will come)
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--repl-diskless-sync-delay', '0'];
  try {
    procs.push(await startServer(['--port', String(masterPort), ...common], /Ready to accept connections/));
    procs.push(await startServer(['--port', String(replicaPort), '--replicaof', '127.0.0.1', String(masterPort), ...common], /Ready to accept connections/));
    await until(() => cli(replicaPort, 'info', 'replication').includes('master_link_status:up'), 'the replica in sync');
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, [
      `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`,
      `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
      `sentinel failover-timeout ${SENTINEL_MASTER} 3000`,
      `sentinel parallel-syncs ${SENTINEL_MASTER} 1`, '',
    ].join('\n'));
    procs.push(await startServer([conf, '--sentinel'], /Sentinel ID|monitor master/));
    await until(() => cli(sentinelPort, 'sentinel', 'replicas', SENTINEL_MASTER).includes(String(replicaPort)), 'the sentinel to know the replica');
  } catch (err) {
    await stopAll(procs);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const masterNow = (): number => Number(cli(sentinelPort, 'sentinel', 'get-master-addr-by-name', SENTINEL_MASTER).trim().split('\n')[1]);
  return {
    url: `redis-sentinel://127.0.0.1:${sentinelPort}/${SENTINEL_MASTER}`,
    masterPort,
    replicaPort,
    async killMaster() {
      const before = masterNow();
      procs[before === masterPort ? 0 : 1]!.kill('SIGKILL');
      await until(() => { const m = masterNow(); return m > 0 && m !== before; }, 'the sentinel to promote the replica', 30_000);
      return masterNow();
    },
    stop: async () => { await stopAll(procs); rmSync(dir, { recursive: true, force: true }); },
  };
}
