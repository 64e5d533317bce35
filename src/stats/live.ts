/**
 * @module The dashboard's live feed: one timer per proxy samples the time series every second (whether or not a
 * page is open, so a page opened later sees the last 15 minutes), and, while pages are open, sends each of them
 * the same update as Server-Sent Events (WHATWG HTML §9.2). The update is built and serialised once per tick,
 * whatever the number of pages; a page that does not read fast enough misses updates instead of growing a buffer.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { CounterState, StatsSnapshot } from './counters.ts';
import type { HealthProbe } from './health.ts';
import type { Inspector } from './inspector.ts';
import { createSeries, type SeriesPoint } from './series.ts';
import { steadyNow } from '../util/clock.ts';

export const TICK_MS = 1_000;
/** Open event streams per process; more get 503 (each is a connection held open). */
export const MAX_STREAMS = 100;
/** How long a browser waits before reconnecting a dropped stream (the `retry` field). */
export const RECONNECT_MS = 2_000;

export interface LiveFeedOptions {
  /** This process's counters (the time series and the inspector are per process). */
  local(): CounterState;
  /** The totals (over workers under --workers). */
  snapshot(): Promise<StatsSnapshot>;
  inspector: Inspector | null;
  health: HealthProbe;
  now?: () => number;
  tickMs?: number;
}

export interface LiveFeed {
  /** A new event stream (first event `init`, then `update` every tick), or null when MAX_STREAMS are open. */
  open(): Readable | null;
  streams(): number;
  /** End every open stream (a graceful shutdown must not wait for pages that never hang up). */
  endStreams(): void;
  close(): void;
}

/** Columns of the history in the `init` event: `{ fields, rows }` is about half the size of an array of objects. */
function columns(points: readonly SeriesPoint[]): { fields: string[]; rows: unknown[][] } {
  const fields = points.length > 0 ? Object.keys(points[0]!) : [];
  return { fields, rows: points.map((p) => fields.map((f) => (p as unknown as Record<string, unknown>)[f])) };
}

const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const now = options.now ?? steadyNow;
  const series = createSeries();
  const streams = new Set<PassThrough>();
  /** Streams whose reader is behind: skipped until they drain. */
  const behind = new WeakSet<PassThrough>();
  let sentSeq = options.inspector?.lastSeq() ?? 0;
  let building = false;
  const common = () => ({ pid: process.pid, tickMs: options.tickMs ?? TICK_MS, inspectorSize: options.inspector?.size ?? 0 });

  const send = (s: PassThrough, text: string) => {
    if (behind.has(s) || s.destroyed || s.writableEnded) return; // ended by endStreams before its init was ready
    if (!s.write(text)) {
      behind.add(s);
      s.once('drain', () => behind.delete(s));
    }
  };

  const tick = () => {
    const point = series.sample(options.local(), now(), options.health.read());
    if (streams.size === 0) { sentSeq = options.inspector?.lastSeq() ?? 0; return; }
    if (building) return; // the previous totals are still being collected from the workers
    building = true;
    const rows = options.inspector?.rowsSince(sentSeq) ?? null;
    sentSeq = options.inspector?.lastSeq() ?? 0;
    options.snapshot().then((snapshot) => {
      const text = event('update', { ...common(), snapshot, point, requests: rows });
      for (const s of streams) send(s, text);
    }, () => { /* totals unavailable this tick (a worker is restarting): the next tick tries again */ }).finally(() => { building = false; });
  };
  const timer = setInterval(tick, options.tickMs ?? TICK_MS);
  timer.unref();

  return {
    open() {
      if (streams.size >= MAX_STREAMS) return null;
      const s = new PassThrough();
      streams.add(s);
      s.once('close', () => streams.delete(s));
      s.write(`retry: ${RECONNECT_MS}\n\n`);
      options.snapshot().then((snapshot) => {
        send(s, event('init', { ...common(), snapshot, history: columns(series.points()), requests: options.inspector?.rowsSince(0) ?? null }));
      }, (err: unknown) => s.destroy(err as Error));
      return s;
    },
    streams: () => streams.size,
    endStreams() {
      for (const s of streams) s.end();
      streams.clear();
    },
    close() {
      clearInterval(timer);
      this.endStreams();
    },
  };
}
