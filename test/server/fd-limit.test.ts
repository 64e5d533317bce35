/**
 * The open-file limit (docs/reliability.md R5): --max-connections is clamped to what the limit allows, with a log
 * line; a flood beyond it is closed at accept while an existing client keeps being served; nothing crashes on EMFILE
 * (before: the default 10 000 let a flood exhaust the descriptors, upstream connects failed with EMFILE, and the
 * dashboard's memory probe threw EMFILE from a timer and ended the process).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { clampConnections, parseOpenFileLimit, RESERVED_DESCRIPTORS } from '../../src/server/fd-limit.ts';
import { MAIN } from '../helpers/cli.ts';

describe('clampConnections / parseOpenFileLimit', () => {
  it('leaves a request that fits, clamps one that does not, keeps at least one', () => {
    assert.deepEqual(clampConnections(10_000, null), { value: 10_000, clamped: false });
    assert.deepEqual(clampConnections(100, 1024), { value: 100, clamped: false });
    assert.deepEqual(clampConnections(10_000, 1024), { value: (1024 - RESERVED_DESCRIPTORS) / 2, clamped: true });
    assert.deepEqual(clampConnections(10_000, 10), { value: 1, clamped: true });
  });
  it('reads the soft limit from /proc/self/limits text', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    assert.equal(parseOpenFileLimit(text), 1024);
    assert.equal(parseOpenFileLimit(text.replace('1024  ', 'unlimited')), null);
    assert.equal(parseOpenFileLimit('nothing here'), null);
  });
});

describe('ferry proxy under ulimit -n 256', () => {
  let origin: http.Server;
  let proxy: ChildProcess;
  let url = '';
  const lines: Array<Record<string, unknown>> = [];

  before(async () => {
    // an origin that closes after every response, so that each proxied request needs a new upstream descriptor
    origin = http.createServer((_req, res) => { res.setHeader('connection', 'close'); res.end('ok'); });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const up = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    proxy = spawn('sh', ['-c', 'ulimit -n 256 && exec "$0" "$@"', process.execPath, MAIN, 'proxy', '--listen', '127.0.0.1:0', '--upstream', up, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    url = await new Promise<string>((resolve, reject) => {
      proxy.once('exit', (code) => reject(new Error(`proxy exited ${code}`)));
      proxy.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
          buf = buf.slice(nl + 1);
          lines.push(line);
          if (line.event === 'listening') resolve(line.url as string);
        }
      });
    });
  });
  after(async () => {
    proxy.kill('SIGKILL');
    await new Promise<void>((r) => origin.close(() => r()));
  });

  it('clamps --max-connections with one log line, serves an existing client through a flood, and survives it', async () => {
    const clamp = lines.find((l) => l.event === 'max-connections-clamped');
    assert.ok(clamp, 'a max-connections-clamped line');
    assert.equal(clamp.maxConnections, (256 - RESERVED_DESCRIPTORS) / 2);
    assert.equal(clamp.openFileLimit, 256);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string, a: http.Agent | false = agent) => new Promise<number>((resolve, reject) => {
      http.get(`${url}${path}`, { agent: a }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); }).on('error', reject);
    });
    assert.equal(await get('/first'), 200, 'the existing client, before the flood');

    const flood: net.Socket[] = [];
    for (let i = 0; i < 400; i++) { const s = net.connect(new URL(url).port as unknown as number, '127.0.0.1'); s.on('error', () => {}); flood.push(s); }
    await new Promise((r) => setTimeout(r, 1000));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await get(`/r${i}`)); // each needs a new upstream socket
    assert.deepEqual(statuses, [200, 200, 200, 200, 200], 'the existing client is still served during the flood');
    for (const s of flood) s.destroy();
    agent.destroy();

    await new Promise((r) => setTimeout(r, 500));
    assert.equal(proxy.exitCode, null, 'the proxy is still running');
    assert.equal(await get('/after', false), 200, 'a new client after the flood');
  });
});
