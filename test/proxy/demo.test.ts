/**
 * `ferry demo` end to end: start it (small sample, port 0), run every curl command it prints, check what each shows,
 * then stop it with SIGINT (Ctrl-C). curl is installed by .ci/run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { sampleSlice } from '../../src/cli/commands/demo-sample.ts';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { boundaryOf, parseByteranges } from '../helpers/byteranges.ts';
import { parsePrometheusText } from '../stats/prometheus-parse.ts';

const SIZE = 256 * 1024;
let dataDir: string;
let demo: RunningRole;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ferry-demo-'));
  demo = await startDemo();
});
after(async () => {
  await demo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startDemo(): Promise<RunningRole> {
  const d = await startRole(['demo', '--listen', '127.0.0.1:0', '--origin-listen', '127.0.0.1:0', '--sample-size', '256KiB', '--data-dir', dataDir], { listeningCount: 2 });
  // The commands are printed (and logged as one JSON line: pino writes on its own schedule) after both servers listen.
  const ready = () => d.logs.some((l) => typeof l.raw === 'string' && l.raw.startsWith('Press Ctrl-C')) && d.logs.some((l) => l.event === 'demo-ready');
  for (let i = 0; i < 400 && !ready(); i++) await new Promise((r) => setTimeout(r, 25));
  return d;
}

const printed = (d: RunningRole): string[] => d.logs.flatMap((l) => (typeof l.raw === 'string' ? [l.raw] : []));

function sh(command: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', command], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command}: ${err.message} ${stderr.toString()}`));
      else resolve(stdout);
    });
  });
}

/** `curl -si` output → status, lowercase headers, body bytes. */
function splitResponse(out: Buffer): { status: number; headers: Record<string, string>; body: Buffer } {
  const end = out.indexOf('\r\n\r\n');
  const head = out.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(head[0]!.split(' ')[1]), headers, body: out.subarray(end + 4) };
}

test('the demo makes the sample with progress shown, prints a secret and nine curl commands', async () => {
  // stderr is another pipe: its data may arrive after stdout's.
  for (let i = 0; i < 200 && !/100%/.test(demo.stderr()); i++) await new Promise((r) => setTimeout(r, 25));
  assert.match(demo.stderr(), /generating the sample file: 100%/);
  assert.equal(statSync(join(dataDir, `sample-${SIZE}`, 'sample.txt')).size, SIZE);
  const lines = printed(demo);
  assert.ok(lines.some((l) => /secret for this run .*: [0-9a-f]{96}$/.test(l)));
  const commands = lines.filter((l) => l.startsWith('curl '));
  assert.equal(commands.length, 9);
  const ready = demo.logs.find((l) => l.event === 'demo-ready');
  assert.deepEqual(ready?.commands, commands);
});

test('every printed command works and shows what its title says', async () => {
  const lines = printed(demo);
  const secret = /: ([0-9a-f]{96})$/.exec(lines.find((l) => l.includes('secret for this run'))!)![1]!;
  const [head, param, header, multi, conflict, stats, metrics, upload, headers] = lines.filter((l) => l.startsWith('curl '));

  const h = splitResponse(await sh(head!));
  assert.equal(h.status, 200);
  assert.equal(h.headers['accept-ranges'], 'bytes');
  assert.match(h.headers.via!, /^1\.1 ferry/);
  assert.equal(h.headers['content-length'], String(SIZE));

  const p = splitResponse(await sh(param!));
  assert.equal(p.status, 206);
  assert.equal(p.headers['content-range'], `bytes 20-345/${SIZE}`);
  assert.deepEqual(p.body, sampleSlice(20, 345));

  const r = splitResponse(await sh(header!));
  assert.equal(r.status, 206);
  assert.deepEqual(r.body, sampleSlice(100, 199));

  const m = splitResponse(await sh(multi!));
  assert.equal(m.status, 206);
  const parts = parseByteranges(m.body, boundaryOf(m.headers['content-type']));
  assert.deepEqual(parts.map((x) => [x.first, x.last]), [[0, 63], [128, 191]]);
  for (const x of parts) assert.deepEqual(x.body, sampleSlice(x.first, x.last));

  const c = splitResponse(await sh(conflict!));
  assert.equal(c.status, 416);
  assert.equal(c.headers['content-range'], `bytes */${SIZE}`);

  const s = JSON.parse((await sh(stats!)).toString()) as { requests: { total: number; byStatus: Record<string, number> } };
  assert.equal(s.requests.total, 5);
  assert.deepEqual(s.requests.byStatus, { 200: 1, 206: 3, 416: 1 });

  const prom = parsePrometheusText((await sh(metrics!)).toString());
  assert.equal(prom.get('ferry_request_duration_seconds_count'), 5);

  assert.equal((await sh(upload!)).toString(), `200: ${SIZE} bytes up, ${SIZE} bytes back\n`);

  const seen = JSON.parse((await sh(headers!)).toString()) as Record<string, string>;
  const { payload } = await jwtVerify(seen['x-my-jwt']!, new TextEncoder().encode(secret), { algorithms: ['HS512'] });
  assert.equal((payload.payload as { user: string }).user, 'username');
});

test('Ctrl-C stops both servers; a second run reuses the sample without generating it again', async () => {
  const sample = join(dataDir, `sample-${SIZE}`, 'sample.txt');
  const before = readFileSync(sample);
  const exited = new Promise<number | null>((r) => demo.proc.once('exit', (code) => r(code)));
  demo.proc.kill('SIGINT');
  assert.equal(await exited, 0);
  const urls = demo.logs.filter((l) => l.event === 'listening').map((l) => l.url as string);
  for (const url of urls) await assert.rejects(fetch(url), 'nothing listens after Ctrl-C');
  demo = await startDemo();
  assert.doesNotMatch(demo.stderr(), /generating/);
  assert.equal(demo.logs.find((l) => l.event === 'demo-sample')?.created, false);
  assert.deepEqual(readFileSync(sample), before);
});
