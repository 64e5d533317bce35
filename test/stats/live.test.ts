/**
 * The dashboard's live feed (live.ts) without sockets: the first event is `init` with the history, updates follow
 * once a tick, a reader that does not read is skipped (its buffer stays at about one update however long it lags),
 * the number of streams is capped, and endStreams ends them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PassThrough } from 'node:stream';
import { createCounterState, formatSnapshot, recordFinish, recordStart } from '../../src/stats/counters.ts';
import { createInspector } from '../../src/stats/inspector.ts';
import { createLiveFeed, MAX_STREAMS } from '../../src/stats/live.ts';
import { redactionSet } from '../../src/stats/redact.ts';
import type { HealthSample } from '../../src/stats/series.ts';

const HEALTH: HealthSample = { rssBytes: 1, heapUsedBytes: 1, heapTotalBytes: 1, loopP99Ms: 0, loopMaxMs: 0, gcMs: 0, gcMaxMs: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(tickMs = 20) {
  const state = createCounterState(Date.now());
  const inspector = createInspector(200, redactionSet());
  const feed = createLiveFeed({ local: () => state, snapshot: async () => formatSnapshot(state, Date.now()), inspector, health: { read: () => HEALTH }, tickMs });
  const traffic = (n: number) => {
    for (let i = 0; i < n; i++) {
      recordStart(state);
      recordFinish(state, { status: 200, bytesIn: 0, bytesOut: 10, durationMs: 1, upstreamError: false });
      inspector.record({ id: `r${i}`, startedAt: 0, method: 'GET', target: `/${'x'.repeat(200)}/${i}`, httpVersion: '1.1', status: 200, durationMs: 1, bytesIn: 0, bytesOut: 10,
        upstream: 'http://u:1', cache: '', error: '', requestHeaders: [['authorization', 'secret'], ['accept', '*/*']], responseHeaders: [] });
    }
  };
  return { feed, traffic };
}

const eventsIn = (text: string) => [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({ name: m[1]!, data: JSON.parse(m[2]!) as Record<string, unknown> }));

test('init first (history and rows), then one update per tick with the new rows only', async () => {
  const { feed, traffic } = setup();
  traffic(3);
  await sleep(50);
  const s = feed.open()!;
  let text = '';
  s.setEncoding('utf8').on('data', (c: string) => { text += c; });
  await sleep(30);
  traffic(2);
  await sleep(60);
  feed.close();
  const evs = eventsIn(text);
  assert.match(text, /^retry: \d+\n\n/);
  assert.equal(evs[0]!.name, 'init');
  assert.equal((evs[0]!.data.requests as unknown[]).length, 3);
  assert.ok(((evs[0]!.data.history as { rows: unknown[] }).rows).length >= 1);
  const updates = evs.slice(1);
  assert.ok(updates.length >= 2 && updates.every((e) => e.name === 'update'));
  const rows = updates.flatMap((e) => (e.data.requests as Array<{ seq: number }>).map((r) => r.seq));
  assert.ok(rows.includes(4) && rows.includes(5), 'the two new requests came in an update');
  assert.ok(!text.includes('secret'), 'heads are redacted');
});

test('a stream nobody reads is skipped: its buffer stays near one update however many ticks pass', async () => {
  const { feed, traffic } = setup(10);
  const s = feed.open()! as PassThrough;
  let largest = 0;
  for (let i = 0; i < 30; i++) {
    traffic(200); // every update carries 200 new rows (~100 KiB)
    await sleep(10);
    largest = Math.max(largest, s.writableLength + s.readableLength);
  }
  feed.close();
  assert.ok(largest < 600 * 1024, `buffered ${largest} bytes after 30 ticks`);
});

test(`at most ${MAX_STREAMS} streams; endStreams ends them all`, async () => {
  const { feed } = setup(1000);
  const streams = Array.from({ length: MAX_STREAMS }, () => feed.open());
  assert.ok(streams.every((s) => s !== null));
  assert.equal(feed.open(), null);
  const ended = Promise.all(streams.map((s) => new Promise((r) => { s!.resume().once('end', r); })));
  feed.endStreams();
  await ended;
  assert.equal(feed.streams(), 0);
  assert.notEqual(feed.open(), null);
  feed.close();
});
