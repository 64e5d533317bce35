/**
 * The log destination for a stdout that is a regular file (server/file-line-writer.ts): batches of whole lines, none
 * lost at exit (process.exit, an uncaught exception, SIGTERM of the CLI, --workers 2), none torn when processes
 * share the file, memory one buffer whatever is logged, a failed write counted and reported.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createFileLineWriter, isRegularFile } from '../../src/server/file-line-writer.ts';
import { MAIN } from '../helpers/cli.ts';

const FIXTURE = fileURLToPath(new URL('./file-line-writer-fixture.ts', import.meta.url));
let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'ferry-file-writer-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the fixture with stdout to `file` (opened for appending: several processes may share it). */
function fixture(file: string, how: string, env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const fd = openSync(file, 'a');
  try {
    const r = spawnSync(process.execPath, ['--expose-gc', FIXTURE, how], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', env: { ...process.env, ...env } });
    return { status: r.status, stderr: r.stderr };
  } finally { closeSync(fd); }
}

/** Every line parsed as JSON (a torn or interleaved line fails the parse) and the access lines' request ids. */
function accessIds(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'the file ends with a whole line');
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as { event?: string; requestId?: string })
    .filter((r) => r.event === 'access').map((r) => r.requestId!);
}
const expected = (tag: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

describe('file line writer', () => {
  it('is chosen for a regular file only', () => {
    const file = join(dir, 'kind.log');
    const fd = openSync(file, 'w');
    try { assert.equal(isRegularFile(fd), true); } finally { closeSync(fd); }
    const r = spawnSync(process.execPath, ['-e', `import('${join(fileURLToPath(new URL('../../src/server/file-line-writer.ts', import.meta.url)))}').then((m) => process.stdout.write(String(m.isRegularFile(1))))`], { encoding: 'utf8' });
    assert.equal(r.stdout, 'false', 'a pipe is not');
  });

  it('writes whole lines in batches, in order, each at most the flush interval late', async () => {
    const file = join(dir, 'batches.log');
    const fd = openSync(file, 'w');
    try {
      const w = createFileLineWriter(fd, { batchBytes: 100, flushMs: 30 });
      for (let i = 0; i < 9; i++) w.write(`line ${i} éé\n`); // 12 bytes each: 108 ≥ 100 after the 9th
      assert.equal(statSync(file).size, 108, 'one batch written once 100 bytes were pending');
      w.write('late\n');
      assert.equal(statSync(file).size, 108, 'a line below the batch size waits');
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(statSync(file).size, 113, 'and goes out after the flush interval');
      w.write(`${'z'.repeat(50_000)}\n`); // larger than the buffer: on its own
      w.flushSync();
      assert.equal(readFileSync(file, 'utf8'), `${Array.from({ length: 9 }, (_, i) => `line ${i} éé\n`).join('')}late\n${'z'.repeat(50_000)}\n`);
    } finally { closeSync(fd); }
  });

  it('loses no line on process.exit within the flush interval nor on an uncaught exception', () => {
    for (const how of ['exit', 'throw']) {
      const file = join(dir, `${how}.log`);
      const r = fixture(file, how, { TAG: how, LINES: '1000' });
      assert.equal(r.status, how === 'exit' ? 0 : 1, r.stderr);
      if (how === 'throw') assert.match(r.stderr, /fatal in the fixture/);
      assert.deepEqual(accessIds(file), expected(how, 1000));
    }
  });

  it('keeps lines whole when several processes write to the same file at once', async () => {
    const file = join(dir, 'shared.log');
    const runs = ['p', 'q', 'r'].map((tag) => new Promise<void>((resolve, reject) => {
      const fd = openSync(file, 'a');
      const p = spawn(process.execPath, [FIXTURE, 'exit'], { stdio: ['ignore', fd, 'inherit'], env: { ...process.env, TAG: tag, LINES: '20000' } });
      closeSync(fd);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fixture ${tag} exited ${code}`))));
    }));
    await Promise.all(runs);
    const ids = accessIds(file);
    for (const tag of ['p', 'q', 'r']) assert.deepEqual(ids.filter((id) => id.startsWith(`${tag}-`)), expected(tag, 20000));
  });

  it('holds one buffer whatever is logged (200 000 lines at once: the heap does not grow with them)', () => {
    const file = join(dir, 'burst.log');
    const r = fixture(file, 'burst', { TAG: 'b', LINES: '200000' });
    assert.equal(r.status, 0, r.stderr);
    const { heapGrowth } = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { heapGrowth: number };
    assert.ok(heapGrowth < 8 * 1024 * 1024, `heap grew by ${heapGrowth} bytes`);
    assert.equal(accessIds(file).length, 200000);
  });

  it('counts the lines of a failed write and reports them once a write succeeds', () => {
    const readOnly = join(dir, 'ro.log');
    closeSync(openSync(readOnly, 'w'));
    const fd = openSync(readOnly, 'r');
    const reports: number[] = [];
    const w = createFileLineWriter(fd, { batchBytes: 1 << 20, flushMs: 60_000, reportDropped: (n) => { reports.push(n); w.write(`dropped ${n}\n`); } });
    for (let i = 0; i < 3; i++) w.write(`lost ${i}\n`);
    w.drain(); // EBADF: the batch is dropped, nothing thrown
    assert.deepEqual(reports, []);
    closeSync(fd);
    const file = join(dir, 'ro-then-rw.log');
    const again = openSync(file, 'w'); // the lowest free descriptor: the one just closed
    try {
      assert.equal(again, fd);
      w.write('kept\n');
      w.drain();
      assert.deepEqual(reports, [3]);
      w.drain();
      assert.equal(readFileSync(file, 'utf8'), 'kept\ndropped 3\n');
    } finally { closeSync(again); }
  });
});

describe('ferry proxy with stdout to a file', () => {
  let origin: http.Server;
  let originUrl = '';
  before(async () => {
    origin = http.createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  after(() => origin.close());

  for (const workers of [1, 2]) {
    it(`writes the access line of every request answered before SIGTERM (--workers ${workers})`, async () => {
      const file = join(dir, `cli-${workers}.log`);
      const fd = openSync(file, 'w');
      const proc = spawn(process.execPath, [MAIN, 'proxy', '--listen', '127.0.0.1:0', '--upstream', originUrl, '--workers', String(workers)], { stdio: ['ignore', fd, 'pipe'] });
      closeSync(fd);
      let stderr = '';
      proc.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
      const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
      try {
        let urls: string[] = [];
        for (const until = Date.now() + 20_000; urls.length < workers && Date.now() < until;) {
          await new Promise((r) => setTimeout(r, 100));
          urls = [...readFileSync(file, 'utf8').matchAll(/"event":"listening","url":"([^"]+)"/g)].map((m) => m[1]!);
        }
        assert.ok(urls.length >= workers, `not listening: ${stderr}`);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
        const get = (i: number) => new Promise<void>((resolve, reject) => {
          http.get(`${urls[0]}/r/${i}`, { agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
        });
        const N = 400;
        await Promise.all(Array.from({ length: N }, (_, i) => get(i)));
        agent.destroy();
        proc.kill('SIGTERM'); // at once: the last lines are still in the 10 ms batch
        assert.equal(await exited, 0, stderr);
        const text = readFileSync(file, 'utf8');
        const records = text.trim().split('\n').map((l) => JSON.parse(l) as { event?: string; path?: string });
        const paths = records.filter((r) => r.event === 'access').map((r) => r.path!).sort();
        assert.deepEqual(paths, Array.from({ length: N }, (_, i) => `/r/${i}`).sort());
      } finally {
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
    });
  }
});
