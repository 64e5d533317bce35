/**
 * Stalls reach ferry's own timeouts (RELIABILITY R4, T6): a client that uploads slowly and then stops, an upstream
 * that stops in the middle of a body, and a client that stops reading a large download are each cut at the configured
 * `--idle-timeout` (1 s here, docs/proxy.md), not left open for ever; afterwards the proxy process's open descriptors
 * (/proc/PID/fd) and RSS are back near their baseline, and it serves a normal request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { startRandomOrigin, type RandomOrigin } from '../fixtures/random-origin.ts';
import { transferSeeded } from '../helpers/transfer.ts';

const IDLE_MS = 1000;
/** Generous: the cut must come from the idle timeout, not from the test's own guard (15 s). */
const CUT_WITHIN_MS = IDLE_MS * 4 + 1000;
const fdsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with how long after `since` the socket closed (or rejects after 15 s: the stall was never cut). */
function closedAfter(socket: net.Socket, since: () => number): Promise<number> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => { socket.destroy(); reject(new Error('never cut: still open after 15 s')); }, 15_000);
    socket.on('error', () => {});
    socket.on('close', () => { clearTimeout(guard); resolve(Date.now() - since()); });
  });
}

describe('stalls are cut at --idle-timeout and leave nothing behind', () => {
  let origin: RandomOrigin;
  let proxy: RunningRole;
  let baseFds: number;
  let baseRss: number;
  const longest: number[] = [];

  before(async () => {
    origin = await startRandomOrigin();
    proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--idle-timeout', `${IDLE_MS}ms`, '--log-level', 'warn']);
    // warm up (pools, lazy modules), then take the baseline
    for (let i = 0; i < 3; i++) assert.equal((await transferSeeded({ kind: 'download', seed: i, size: 1 << 20, port: proxy.port, origin: origin.host })).kind, 'ok');
    await sleep(IDLE_MS * 2);
    baseFds = fdsOf(proxy.proc.pid!);
    baseRss = proxy.rss();
  });
  after(async (t) => {
    t.diagnostic(`longest stall before the cut: ${Math.max(...longest)} ms (idle timeout ${IDLE_MS} ms)`);
    await proxy.stop();
    await origin.close();
  });

  async function settled(what: string): Promise<void> {
    // descriptors come back once the sockets' close callbacks ran; RSS after V8 had a moment
    for (let i = 0; i < 50 && fdsOf(proxy.proc.pid!) > baseFds + 2; i++) await sleep(100);
    assert.ok(fdsOf(proxy.proc.pid!) <= baseFds + 2, `${what}: fds ${fdsOf(proxy.proc.pid!)}, baseline ${baseFds}`);
    assert.ok(proxy.rss() < baseRss + 48 * 1024 * 1024, `${what}: RSS ${proxy.rss() >> 20} MiB, baseline ${baseRss >> 20} MiB`);
    const next = await transferSeeded({ kind: 'download', seed: 99, size: 1 << 20, port: proxy.port, origin: origin.host });
    assert.equal(next.kind, 'ok', `${what}: the proxy serves normally afterwards`);
  }

  test('a client that uploads slowly, then stops: cut at the idle timeout', async () => {
    const requestsBefore = origin.counts.requests;
    const s = net.connect(proxy.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.write(`POST /random/5/1048576 HTTP/1.1\r\nHost: ${origin.host}\r\nContent-Length: 1048576\r\n\r\n`);
    let last = Date.now();
    const closed = closedAfter(s, () => last);
    for (let i = 0; i < 5 && !s.destroyed; i++) { s.write(Buffer.alloc(1000, 7)); last = Date.now(); await sleep(IDLE_MS / 3); }
    const ms = await closed; // then silence
    longest.push(ms);
    assert.ok(ms < CUT_WITHIN_MS, `cut ${ms} ms after the last byte`);
    assert.ok(origin.counts.requests - requestsBefore <= 1);
    await settled('slow upload');
  });

  test('an upstream that stops in the middle of a body: the client connection is cut, not completed', async () => {
    const s = net.connect(proxy.port, '127.0.0.1');
    let last = Date.now();
    let got = 0;
    s.on('data', (c: Buffer) => { got += c.length; last = Date.now(); });
    s.write(`GET /random/6/4194304?stall=100000 HTTP/1.1\r\nHost: ${origin.host}\r\n\r\n`);
    const ms = await closedAfter(s, () => last);
    longest.push(ms);
    assert.ok(got > 0 && got < 4194304, `some bytes, never the whole body (got ${got})`);
    assert.ok(ms < CUT_WITHIN_MS, `cut ${ms} ms after the last byte`);
    await settled('upstream stall');
  });

  test('a client that stops reading a large download: cut, memory and descriptors released', async () => {
    const s = net.connect(proxy.port, '127.0.0.1');
    const size = 4 * 1024 ** 3;
    let got = 0;
    let stoppedAt = 0;
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (got > 2 << 20 && stoppedAt === 0) { s.pause(); stoppedAt = Date.now(); } // 2 MiB of a 4 GiB body, then nothing
    });
    const closed = new Promise<void>((r) => { s.on('close', () => r()); s.on('error', () => {}); });
    s.write(`GET /random/7/${size} HTTP/1.1\r\nHost: ${origin.host}\r\n\r\n`);
    let peak = 0;
    const sampler = setInterval(() => { try { peak = Math.max(peak, proxy.rss()); } catch { /* gone */ } }, 50);
    // a paused client cannot see the FIN behind the bytes it has not read: watch the proxy's side instead (its
    // access line for the request, logged when it gives the connection up)
    const path = `/random/7/${size}`;
    const until = Date.now() + 15_000;
    while (!proxy.logs.some((l) => l.event === 'access' && l.path === path) && Date.now() < until) await sleep(50);
    clearInterval(sampler);
    const line = proxy.logs.find((l) => l.event === 'access' && l.path === path);
    assert.ok(line, 'the proxy gave the stalled download up within 15 s');
    const ms = Date.now() - stoppedAt;
    longest.push(ms);
    assert.ok(ms < CUT_WITHIN_MS, `cut ${ms} ms after the client stopped reading`);
    // resuming, the client gets what was already in flight and then the close: never the whole body
    s.resume();
    await closed;
    assert.ok(got < size, `the download was cut (${got} bytes of ${size})`);
    // backpressure: the proxy stopped reading the origin instead of buffering the body
    assert.ok(peak < baseRss + 64 * 1024 * 1024, `peak RSS ${peak >> 20} MiB, baseline ${baseRss >> 20} MiB`);
    await settled('stalled reader');
  });

  test('control: without the stall the same requests complete (the cuts above are the timeout, not the fixture)', async () => {
    const up = await transferSeeded({ kind: 'upload', seed: 5, size: 1048576, port: proxy.port, origin: origin.host });
    assert.equal(up.kind, 'ok');
    const res = await new Promise<http.IncomingMessage>((r) => http.get({ port: proxy.port, path: '/random/6/4194304', headers: { host: origin.host } }, r));
    let n = 0;
    for await (const c of res) n += (c as Buffer).length;
    assert.equal(n, 4194304);
  });
});
