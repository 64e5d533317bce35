/** Unit and property tests of the relay client's adaptive window (src/relay/window-controller.ts, issue 18). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { downPolls, maxWindow, newPathEstimate, WindowController, type PathEstimate, type WindowLimits } from '../../src/relay/window-controller.ts';

const CHUNK = 1024 * 1024 - 8 * 1024;

/**
 * A path with a fixed latency and one bottleneck served in order (a gateway and a relay that move `capacity` bytes
 * per ms): a message sent at s reaches the bottleneck at s + latency/2, leaves it once served and is answered
 * latency/2 later. The sender keeps the controller's window in flight. Returns the delivery rate (bytes/ms) over the
 * second half of `messages` and every window the controller chose.
 */
function simulate(limits: WindowLimits, latencyMs: number, capacity: number, messages = 400, path: PathEstimate | null = null): { rate: number; windows: number[] } {
  const c = new WindowController(limits, path);
  const service = limits.chunkSize / capacity;
  let busyUntil = 0;
  let now = 0;
  let sent = 0;
  const inflight: Array<{ sentMs: number; answeredMs: number }> = [];
  const send = () => {
    const arrive = now + latencyMs / 2;
    busyUntil = Math.max(arrive, busyUntil) + service;
    inflight.push({ sentMs: now, answeredMs: busyUntil + latencyMs / 2 });
    sent++;
  };
  const windows: number[] = [];
  let halfAt = 0;
  let answered = 0;
  while (answered < messages) {
    while (inflight.length < c.window && sent < messages) send();
    inflight.sort((a, b) => a.answeredMs - b.answeredMs);
    const m = inflight.shift()!;
    now = m.answeredMs;
    windows.push(c.answered({ sentMs: m.sentMs, answeredMs: m.answeredMs, bytes: limits.chunkSize }));
    answered++;
    if (answered === messages / 2) halfAt = now;
  }
  return { rate: ((messages / 2) * limits.chunkSize) / (now - halfAt), windows };
}

test('maxWindow: the memory bound in full messages per direction, between --window and 64', () => {
  assert.equal(maxWindow(4, 32 * 1024 * 1024, CHUNK), 16);
  assert.equal(maxWindow(4, 1024 * 1024, CHUNK), 4); // below two windows: stays at --window
  assert.equal(maxWindow(4, 1024 * 1024 * 1024, 16 * 1024), 64);
});

test('starts at --window and stays there when the path adds no latency (the relay, not the window, is the limit)', () => {
  const limits = { initial: 4, max: 16, chunkSize: CHUNK };
  assert.equal(new WindowController(limits).window, 4);
  // 160 MiB/s with no latency: a message is served in ~6 ms, one at a time.
  const { windows } = simulate(limits, 0, 160 * 1048.576);
  assert.ok(windows.every((w) => w === 4), `windows ${[...new Set(windows)].join(',')}`);
});

test('grows with the round trip: 30 ms and 60 ms paths reach ≥ 0.85× the no-latency rate, within the bound', () => {
  const limits = { initial: 4, max: 16, chunkSize: CHUNK };
  const capacity = 160 * 1048.576; // bytes per ms
  for (const latency of [30, 60]) {
    const fixed = simulate({ ...limits, max: 4 }, latency, capacity);
    const adaptive = simulate(limits, latency, capacity);
    assert.ok(adaptive.rate >= 0.85 * capacity, `${latency} ms: ${(adaptive.rate / capacity).toFixed(2)}× of capacity (fixed window: ${(fixed.rate / capacity).toFixed(2)}×)`);
    assert.ok(fixed.rate < 0.75 * capacity, `${latency} ms: the fixed window is latency-bound (${(fixed.rate / capacity).toFixed(2)}×)`);
    assert.ok(Math.max(...adaptive.windows) <= 16);
    // slow start: the window is at its final size within the first 40 answers
    assert.equal(adaptive.windows[40], adaptive.windows.at(-1));
  }
});

test('the memory bound holds: with max 6 the window never passes 6, and the rate is what 6 messages in flight allow', () => {
  const capacity = 160 * 1048.576;
  const { rate, windows } = simulate({ initial: 4, max: 6, chunkSize: CHUNK }, 60, capacity);
  assert.equal(Math.max(...windows), 6);
  const bound = (6 * CHUNK) / (60 + CHUNK / capacity);
  assert.ok(rate <= bound * 1.02 && rate >= bound * 0.9, `rate ${rate.toFixed(0)} vs bound ${bound.toFixed(0)} bytes/ms`);
});

test('property: any answers at all keep initial ≤ window ≤ max; bad samples change nothing', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 48 }), fc.integer({ min: 1, max: 4 * CHUNK }),
    fc.array(fc.record({ sentMs: fc.double({ min: -1e6, max: 1e6, noNaN: false }), rttMs: fc.double({ min: -100, max: 1e5, noNaN: false }), bytes: fc.integer({ min: 0, max: 4 * CHUNK }) }), { maxLength: 300 }),
    (initial, extra, chunkSize, samples) => {
      const limits = { initial, max: initial + extra, chunkSize };
      const c = new WindowController(limits);
      for (const s of samples) {
        const w = c.answered({ sentMs: s.sentMs, answeredMs: s.sentMs + s.rttMs, bytes: s.bytes });
        assert.ok(Number.isInteger(w) && w >= initial && w <= limits.max, `window ${w} outside [${initial}, ${limits.max}]`);
      }
    },
  ), { numRuns: 500 });
});

test('property: on any latency and capacity the window reaches ≥ 0.85× of what the memory bound allows', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 120 }), fc.integer({ min: 20, max: 600 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 40 }),
    (latency, mibPerS, initial, extra) => {
      const capacity = mibPerS * 1048.576;
      const max = initial + extra;
      const { rate, windows } = simulate({ initial, max, chunkSize: CHUNK }, latency, capacity, 300);
      const best = Math.min(capacity, (max * CHUNK) / (latency + CHUNK / capacity));
      assert.ok(rate >= 0.85 * best, `latency ${latency} ms, ${mibPerS} MiB/s, window ${initial}..${max}: ${(rate / best).toFixed(2)}× of ${best.toFixed(0)}`);
      assert.ok(windows.every((w) => w >= initial && w <= max));
    },
  ), { numRuns: 200 });
});

test('a session starts from what the last session on the same path measured (RFC 9040, temporal sharing), within the bounds', () => {
  const limits = { initial: 4, max: 16, chunkSize: CHUNK };
  const capacity = 160 * 1048.576;
  const path = newPathEstimate();
  assert.equal(new WindowController(limits, path).window, 4, 'nothing measured yet: --window');
  const first = simulate(limits, 30, capacity, 400, path);
  assert.ok(first.windows[0] === 4 && path.minRttMs >= 30 && path.rateBytesPerMs > 0, `first session ${first.windows[0]}, path ${JSON.stringify(path)}`);
  const settled = first.windows.at(-1)!;
  const next = new WindowController(limits, path);
  assert.ok(next.window > 4 && Math.abs(next.window - settled) <= 2, `next session starts at ${next.window}, the first settled at ${settled}`);
  // a path estimate past the memory bound still gives at most `max`
  assert.equal(new WindowController(limits, { minRttMs: 1_000, rateBytesPerMs: capacity }).window, 16);
  // a short transfer on the seeded path: its first 40 messages move faster than the unseeded one's
  const cold = simulate(limits, 30, capacity, 40);
  const warm = simulate(limits, 30, capacity, 40, path);
  assert.ok(warm.windows[0]! > cold.windows[0]!, `warm starts at ${warm.windows[0]}, cold at ${cold.windows[0]}`);
});

test('a seeded session keeps its window through a first round slowed by its own start (the open, the response head)', () => {
  const limits = { initial: 4, max: 16, chunkSize: CHUNK };
  const path = newPathEstimate();
  simulate(limits, 30, 160 * 1048.576, 400, path);
  const c = new WindowController(limits, path);
  const seeded = c.window;
  assert.ok(seeded > 4, `seeded at ${seeded}`);
  // the first round: the poll for the head answered after one round trip (35 ms), the data polls sent then and answered
  // a round trip later, 5 ms apart (the bottleneck), as the server produces only what the client has polled for
  c.answered({ sentMs: 0, answeredMs: 35, bytes: 300 });
  for (let i = 1; i < seeded; i++) c.answered({ sentMs: 35, answeredMs: 70 + 5 * i, bytes: CHUNK });
  assert.ok(c.window >= seeded, `the window fell from ${seeded} to ${c.window} after a slow first round`);
  // the shared estimate ages out: rounds that really are slower (the path got slower) bring the window down
  for (let round = 0; round < 12; round++) {
    const w = c.window;
    const start = 1000 + round * 1000;
    for (let i = 0; i < w; i++) c.answered({ sentMs: start, answeredMs: start + 35 + 100 * i, bytes: CHUNK });
  }
  assert.ok(c.window < seeded, `still ${c.window} after 12 rounds at a tenth of the rate`);
});

test('down polls: at most --window before the head, then no more than the rest of a known body can fill, never under 1', () => {
  // a seeded window of 20 chunks, --window 4
  assert.equal(downPolls(20, 4, 'before-head', CHUNK), 4, 'before the head: what an unseeded session starts with');
  assert.equal(downPolls(2, 4, 'before-head', CHUNK), 2, 'a window under --window is kept (never happens, but no growth)');
  assert.equal(downPolls(20, 4, 1000, CHUNK), 2, 'a 1000-byte body: its chunk and a last empty one');
  assert.equal(downPolls(20, 4, 0, CHUNK), 1, 'nothing left: the poll for the next (fin) chunk only');
  assert.equal(downPolls(20, 4, -5, CHUNK), 1, 'more bytes than declared: still the next chunk');
  assert.equal(downPolls(20, 4, 5 * CHUNK, CHUNK), 6);
  assert.equal(downPolls(20, 4, 100 * CHUNK, CHUNK), 20, 'a large body: the whole window');
  assert.equal(downPolls(20, 4, undefined, CHUNK), 20, 'no length (chunked, tunnel): the whole window');
  fc.assert(fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: -10, max: 1e9 }), (w, initial, rest) => {
    const n = downPolls(w, initial, rest, CHUNK);
    assert.ok(n >= 1 && n <= w);
  }));
});
