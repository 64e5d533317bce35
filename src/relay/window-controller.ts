/**
 * @module The relay client's window controller: how many messages one session keeps in flight in one direction,
 * adapted to the measured round trip and delivery rate as TCP does (issue 18). Pure: the caller reports when each
 * message was sent and answered, and reads `window`.
 *
 * A fixed window of 4 makes a transfer latency-bound behind a gateway that adds tens of milliseconds per message
 * (measured through the gateway fixture: 0.54× the no-delay download at 30 ms, 0.32× at 60 ms). The controller keeps
 * the two estimates BBR keeps (Cardwell et al., "BBR: congestion-based congestion control", ACM Queue 14(5), 2016):
 * the smallest round trip seen (the path's latency without queueing) and the highest delivery rate over the last
 * rounds (a round: one window's worth of answers), and sets the window to GAIN × rate × min RTT (the bandwidth-delay
 * product) in messages. While the window limits the rate, each round measures about window / RTT, so the window about
 * doubles per round, as in TCP slow start (RFC 5681 §3.1); once the relay's own CPU limits the rate, the estimate stops
 * growing and so does the window. It never goes under `initial` (--window, the behaviour before) nor over `max`
 * (the per-session memory bound, --session-memory), so a wrong estimate costs throughput, never unbounded memory.
 * Each session starts where the last one on the same path (this relay client's gateway, one direction) left off, as
 * TCP may start a connection from the metrics its host cached for the destination (RFC 9040, temporal sharing): a new session's
 * first window is the product the last session measured, within the same bounds, instead of `initial` again: with
 * one session per request, a 100 MiB transfer behind a 30-60 ms gateway otherwise spent several round trips of its
 * ~1 s climbing back from `initial`.
 * Flow control stays with relay-server (session.ts): it refuses up chunks past its own window and produces down
 * chunks only for polls it has received.
 */

/** --session-memory's default: a window of up to 16 messages of 1 MiB each way. */
export const DEFAULT_SESSION_MEMORY = 32 * 1024 * 1024;

/** BBR's congestion-window gain: twice the estimated product keeps the pipe full while the estimate lags. */
export const WINDOW_GAIN = 2;
/** Rounds the delivery-rate maximum looks back over (BBR: 10 rounds). */
export const RATE_ROUNDS = 8;

export interface WindowLimits {
  /** The window to start from and the least it may be (--window). */
  initial: number;
  /** The most it may be (per-session memory / message size; see maxWindow). */
  max: number;
  /** Payload bytes of a full message. */
  chunkSize: number;
}

/** One answered message: when it was sent and answered (ms, any monotonic clock) and the payload bytes it carried. */
export interface MessageSample { sentMs: number; answeredMs: number; bytes: number }

/**
 * The largest window a memory bound allows: `sessionMemory` covers both directions of a session, each holding up to
 * its window of full chunks; at least `initial`, at most 64 (the --window range).
 */
export function maxWindow(initial: number, sessionMemory: number, chunkSize: number): number {
  return Math.min(64, Math.max(initial, Math.floor(sessionMemory / 2 / chunkSize)));
}

/** What the last round of any session on a path measured (shared by that path's controllers; see the module comment). */
export interface PathEstimate { minRttMs: number; rateBytesPerMs: number }

export function newPathEstimate(): PathEstimate {
  return { minRttMs: Number.POSITIVE_INFINITY, rateBytesPerMs: 0 };
}

export class WindowController {
  readonly #limits: WindowLimits;
  readonly #path: PathEstimate | null;
  #window: number;
  #minRttMs = Number.POSITIVE_INFINITY;
  readonly #rates: number[] = [];
  #roundStartMs = Number.NaN;
  #roundBytes = 0;
  #roundAnswers = 0;

  constructor(limits: WindowLimits, path: PathEstimate | null = null) {
    if (!(limits.initial >= 1 && limits.max >= limits.initial && limits.chunkSize > 0)) throw new RangeError('window limits: need 1 <= initial <= max and chunkSize > 0');
    this.#limits = limits;
    this.#path = path;
    this.#window = path === null ? limits.initial : this.#fit(path.rateBytesPerMs * path.minRttMs);
    // The shared rate counts as this session's first round: a session's own first round also measures its start (the
    // open, the wait for the response head), so alone it reads low, and the window fell from the seeded value to
    // climb back over the next rounds (measured at +30 ms: 13 → 6 → 14 in a 100 MiB download). It ages out after
    // RATE_ROUNDS rounds like any other.
    if (path !== null && Number.isFinite(path.rateBytesPerMs) && path.rateBytesPerMs > 0) this.#rates.push(path.rateBytesPerMs);
  }

  /** The window for a bandwidth-delay product (bytes), within [initial, max]. */
  #fit(bdp: number): number {
    const wanted = Math.ceil((WINDOW_GAIN * bdp) / this.#limits.chunkSize);
    return Math.min(this.#limits.max, Math.max(this.#limits.initial, Number.isFinite(wanted) ? wanted : this.#limits.initial));
  }

  /** Messages to keep in flight now. */
  get window(): number { return this.#window; }

  /** The estimates, for logs and tests: min RTT (ms) and the best delivery rate of the last rounds (bytes/ms). */
  get estimates(): { minRttMs: number; rateBytesPerMs: number } {
    return { minRttMs: this.#minRttMs, rateBytesPerMs: this.#rates.length > 0 ? Math.max(...this.#rates) : 0 };
  }

  /** Record one answered message; returns the (possibly new) window. Samples with a negative or non-finite time are ignored. */
  answered(s: MessageSample): number {
    const rtt = s.answeredMs - s.sentMs;
    if (!Number.isFinite(rtt) || rtt < 0 || !(s.bytes >= 0)) return this.#window;
    if (rtt < this.#minRttMs) this.#minRttMs = rtt;
    if (Number.isNaN(this.#roundStartMs)) this.#roundStartMs = s.sentMs;
    this.#roundBytes += s.bytes;
    this.#roundAnswers++;
    if (this.#roundAnswers < this.#window) return this.#window;
    const elapsed = s.answeredMs - this.#roundStartMs;
    if (elapsed > 0) {
      this.#rates.push(this.#roundBytes / elapsed);
      if (this.#rates.length > RATE_ROUNDS) this.#rates.shift();
    }
    this.#roundStartMs = s.answeredMs;
    this.#roundBytes = 0;
    this.#roundAnswers = 0;
    const { rateBytesPerMs } = this.estimates;
    if (this.#path !== null) { this.#path.minRttMs = this.#minRttMs; this.#path.rateBytesPerMs = rateBytesPerMs; }
    this.#window = this.#fit(rateBytesPerMs * this.#minRttMs);
    return this.#window;
  }
}

/**
 * Down polls worth having in flight. A seeded window (RFC 9040 sharing, above) is the last large transfer's, and a
 * poll past the end of a response is a wasted message (a gateway request, two HMACs, store calls, a cancelled
 * connection): measured behind a 30 ms gateway, a 1000-byte GET after a 40 MiB download took 17.6 gateway messages
 * instead of 6.4. So: before the response head, no more than `initial` (what a session started with before seeding);
 * once the head gave the body's length, no more than the chunks the remaining bytes can fill, plus one for a last
 * empty chunk. Chunks may be cut short when the target pauses, so this is only a prefetch bound: it never goes under
 * 1, and the poll for the next chunk is always sent. Without a length (chunked, a tunnel) the window stands.
 */
export function downPolls(window: number, initial: number, remaining: 'before-head' | number | undefined, chunkSize: number): number {
  if (remaining === 'before-head') return Math.min(window, initial);
  if (remaining === undefined || !Number.isFinite(remaining)) return window;
  return Math.min(window, Math.max(1, Math.ceil(Math.max(0, remaining) / chunkSize) + 1));
}
