/**
 * @module One relay session seen from relay-client: open it, stream the up bytes as a window of chunks,
 * fetch the down chunks with a window of long polls, deliver them in order with backpressure, close.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FerryError } from '../errors.ts';
import { declaredContentLength } from '../http/framing.ts';
import { ChunkReader } from './chunk-reader.ts';
import { replyText, type GatewayTransport, type RelayReply } from './gateway-transport.ts';
import { formatOpenRequest, H, parseErrorPayload, parseIndex, parseResponseHead, RELAY_PATHS, type DownType, type OpenRequest } from './protocol.ts';
import type { RelayCounters } from './relay-stats.ts';
import type { SlabPool } from './slab-pool.ts';
import { downPolls, WindowController, type PathEstimate } from './window-controller.ts';

/** How long a partly filled up chunk waits for more bytes before it is sent. */
const LINGER_MS = 3;

export interface ClientSessionOptions {
  transport: GatewayTransport;
  /** The initial and least window (--window), and the most (the memory bound): window-controller.ts adapts between. */
  window: number;
  maxWindow: number;
  chunkSize: number;
  counters: RelayCounters;
  /** Chunk-sized reused buffers, shared by the client's sessions (slab-pool.ts). */
  slabs: SlabPool;
  /** Told the size of every body chunk moved (RelayClientOptions.onBodyBytes). */
  onBodyBytes?: ((bytes: number) => void) | undefined;
  /** What earlier sessions to the same gateway measured, per direction: a new session's windows start from it. */
  paths?: { up: PathEstimate; down: PathEstimate };
}

export interface DownSink {
  head(status: number, headers: Array<[string, string]>): void;
  /** Resolves when the bytes may be followed by more (the application drained them); `written` runs once the bytes are flushed. */
  data(pieces: readonly Buffer[], written?: () => void): Promise<void>;
  end(): void;
}

export interface ReceivedChunk { type: DownType; fin: boolean; parts: Buffer[]; length: number; slab?: Buffer }

function refusal(r: RelayReply, what: string): FerryError {
  let reason = r.headers[H.error] ?? `status ${r.status}`;
  try { reason = (JSON.parse(replyText(r)) as { error?: string }).error ?? reason; } catch { /* keep */ }
  const status = r.status === 410 ? 502 : r.status >= 500 ? r.status : r.status === 403 ? 403 : 502;
  return new FerryError(r.status === 410 ? 'FERRY_ERR_RELAY_EXPIRED' : 'FERRY_ERR_RELAY', `${what}: ${reason}`, { source: 'upstream', status });
}

export class ClientSession {
  readonly id = randomUUID();
  readonly #o: ClientSessionOptions;
  readonly #abort = new AbortController();
  /** Whether anything was sent for this session (a session cancelled before its open sends no close either). */
  #started = false;
  /**
   * Until the open is answered, chunks and polls are sent marked early (`x-ferry-early`, relay-decisions.ts
   * decideArrival), so relay-server holds one that overtook its open instead of refusing it. Before that answer at
   * most --window down polls go, and up chunks as many as the up window (seeded from the path's last measured rate,
   * within --session-memory); past its bound on held messages relay-server refuses one `early`, and the transport
   * sends it again once the open may have landed, costing no retry (gateway-transport.ts).
   */
  #openAnswered = false;
  /** One window per direction, each adapted to what its messages measure (window-controller.ts). */
  readonly upWindow: WindowController;
  readonly downWindow: WindowController;

  constructor(options: ClientSessionOptions) {
    this.#o = options;
    const limits = { initial: options.window, max: options.maxWindow, chunkSize: options.chunkSize };
    this.upWindow = new WindowController(limits, options.paths?.up ?? null);
    this.downWindow = new WindowController(limits, options.paths?.down ?? null);
  }

  get signal(): AbortSignal { return this.#abort.signal; }

  abort(reason: Error): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(reason);
  }

  /**
   * Open on the server. The head is checked at once (a head too large for one message throws here, before anything is
   * sent); the promise resolves on success, or rejects with a FerryError carrying the status to show. Chunks and polls
   * may be sent before it resolves (a download's first poll then rides right behind the open instead of one gateway
   * round trip later); they wait on relay-server for the open, and fail with it.
   */
  beginOpen(open: OpenRequest): Promise<void> {
    const body = formatOpenRequest(open);
    if (body.length > this.#o.chunkSize) {
      throw new FerryError('FERRY_ERR_RELAY_HEAD', `request head of ${body.length} bytes does not fit in one relay message (--max-message)`, { source: 'downstream', status: 431 });
    }
    this.#started = true;
    return this.#open(body);
  }

  /** Open and wait for the answer before sending anything else (CONNECT: the application waits for the 200 anyway). */
  async open(open: OpenRequest): Promise<void> {
    await this.beginOpen(open);
  }

  async #open(body: Buffer): Promise<void> {
    const r = await this.#o.transport.call(RELAY_PATHS.open, { [H.session]: this.id }, body, this.signal);
    if (r.status !== 200) throw refusal(r, 'relay open refused');
    this.#openAnswered = true;
    this.#o.counters.sessionsOpened++;
  }

  /** The fields every chunk and poll carries: the session, and `early` while the open is unanswered. */
  #fields(): Record<string, string> {
    return this.#openAnswered ? { [H.session]: this.id } : { [H.session]: this.id, [H.early]: '1' };
  }

  /** Stream `src` up as numbered chunks, `window` in flight; the last one (possibly empty) has fin. */
  async sendUp(src: Readable): Promise<void> {
    const reader = new ChunkReader(src);
    const inflight = new Set<Promise<void>>();
    let failure: unknown;
    let index = 0;
    for (;;) {
      // Before the open's answer too: the window starts from the path's last measured rate (window-controller.ts),
      // within --session-memory, which also bounds what relay-server holds early (relay-decisions.ts admitEarly).
      while (inflight.size >= this.upWindow.window) await Promise.race(inflight);
      if (failure !== undefined) throw failure;
      if (this.signal.aborted) return;
      // Each chunk is copied into a reused slab: the source's 64 KiB pieces die young, and the slabs, at most
      // `window` of them, live as long as the session instead of being promoted and needing major GCs.
      const slab = this.#o.slabs.take();
      const data = await reader.readInto(slab, LINGER_MS);
      const fin = data === null || reader.done;
      const p: Promise<void> = this.#sendChunk(index++, data ?? Buffer.alloc(0), fin).then(
        () => { inflight.delete(p); this.#o.slabs.give(slab); }, // acknowledged: undici is done with the bytes
        (err: unknown) => { inflight.delete(p); failure ??= err; this.abort(err as Error); },
      );
      inflight.add(p);
      if (fin) break;
    }
    await Promise.all(inflight);
    if (failure !== undefined) throw failure;
  }

  async #sendChunk(index: number, data: Buffer, fin: boolean): Promise<void> {
    const sentMs = performance.now();
    const r = await this.#o.transport.call(RELAY_PATHS.up, { ...this.#fields(), [H.index]: String(index), [H.fin]: fin ? '1' : '0' }, data, this.signal);
    if (r.status !== 200) throw refusal(r, `up chunk ${index} refused`);
    this.upWindow.answered({ sentMs, answeredMs: performance.now(), bytes: data.length });
    this.#o.counters.chunksUp++;
    this.#o.counters.bytesUp += data.length;
    this.#o.onBodyBytes?.(data.length);
  }

  /** Fetch down chunks in order with `window` long polls in flight; feed the sink; resolve at fin. */
  async receiveDown(sink: DownSink, expectHead: boolean): Promise<void> {
    const prefetch = new AbortController();
    // the session's reason goes on: a poll cut by it fails with why the session ended, not a bare AbortError
    const onAbort = () => prefetch.abort(this.signal.reason);
    this.signal.addEventListener('abort', onAbort, { once: true });
    const fetches = new Map<number, Promise<ReceivedChunk>>();
    let next = 0;
    // Body bytes still to come when the head gave a length (window-controller.ts downPolls bounds the polls by it).
    let remaining: 'before-head' | number | undefined = expectHead ? 'before-head' : undefined;
    try {
      for (;;) {
        const polls = downPolls(this.downWindow.window, this.#o.window, remaining, this.#o.chunkSize);
        for (let i = next; i < next + polls; i++) {
          if (fetches.has(i)) continue;
          const p = this.#fetchChunk(i, () => next, prefetch.signal);
          p.catch(() => { /* awaited below, or abandoned after the end */ });
          fetches.set(i, p);
        }
        const c = await fetches.get(next)!;
        fetches.delete(next);
        next++;
        if (c.type === 'error') {
          const e = parseErrorPayload(Buffer.concat(c.parts), this.#o.chunkSize);
          throw new FerryError('FERRY_ERR_RELAY_TARGET', e.reason, { source: 'upstream', status: e.status });
        }
        if (c.type === 'head') {
          if (!expectHead || next !== 1) throw new FerryError('FERRY_ERR_RELAY', 'unexpected response head chunk', { source: 'upstream', status: 502 });
          const head = parseResponseHead(Buffer.concat(c.parts), this.#o.chunkSize);
          if (!head.ok) throw new FerryError('FERRY_ERR_RELAY_BAD_HEAD', `invalid response head from relay-server: ${head.reason}`, { source: 'upstream', status: 502 });
          sink.head(head.value.status, head.value.headers);
          remaining = declaredContentLength(head.value.headers);
        } else {
          if (expectHead && next === 1) throw new FerryError('FERRY_ERR_RELAY', 'response data before its head', { source: 'upstream', status: 502 });
          const slab = c.slab;
          const written = slab ? () => { this.#o.slabs.give(slab); } : undefined;
          if (typeof remaining === 'number') remaining -= c.length;
          if (c.length > 0) await sink.data(c.parts, written);
          this.#o.counters.bytesDown += c.length;
          this.#o.onBodyBytes?.(c.length);
        }
        if (c.fin) { sink.end(); return; }
      }
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      prefetch.abort();
      // Chunks fetched ahead and never delivered (the response ended, or failed): nothing reads their slabs.
      for (const p of fetches.values()) p.then((c) => { if (c.slab) this.#o.slabs.give(c.slab); }, () => { /* gave its own back */ });
    }
  }

  async #fetchChunk(index: number, ack: () => number, signal: AbortSignal): Promise<ReceivedChunk> {
    // The answer is read straight into a reused slab (gateway-transport.ts `into`): the gateway's pieces die young
    // instead of being held, and promoted, while the chunk waits its turn in the window; the slab goes back once the
    // application socket has flushed it, or at once when the answer is not a data chunk.
    // Taken only once an answer's length is known: a long poll that waits holds no slab.
    let slab: Buffer | undefined;
    let kept = false;
    try {
      const c = await this.#fetchInto(index, ack, signal, () => (slab ??= this.#o.slabs.take()));
      kept = slab !== undefined && c.slab === slab;
      return c;
    } finally {
      if (slab && !kept) this.#o.slabs.give(slab);
    }
  }

  async #fetchInto(index: number, ack: () => number, signal: AbortSignal, slabFor: () => Buffer): Promise<ReceivedChunk> {
    for (;;) {
      const sentMs = performance.now();
      const r = await this.#o.transport.call(RELAY_PATHS.down, { ...this.#fields(), [H.index]: String(index), [H.ack]: String(Math.min(ack(), index)) }, Buffer.alloc(0), signal, slabFor);
      if (r.status === 204) { continue; } // the long poll ended without data: ask again
      if (r.status !== 200) throw refusal(r, `down chunk ${index} refused`);
      const type = r.headers[H.type];
      if (parseIndex(r.headers[H.index]) !== index || (type !== 'head' && type !== 'data' && type !== 'error')) {
        throw new FerryError('FERRY_ERR_RELAY', `down chunk ${index}: malformed answer`, { source: 'upstream', status: 502 });
      }
      this.#o.counters.chunksDown++;
      // The last poll's round trip only (a 204 is the server having nothing yet, not the path).
      this.downWindow.answered({ sentMs, answeredMs: performance.now(), bytes: r.length });
      const inSlab = r.length > 0 && r.parts.length === 1 && r.parts[0]!.buffer === slabFor().buffer;
      if (type === 'data' && inSlab) return { type, fin: r.headers[H.fin] === '1', parts: r.parts, length: r.length, slab: slabFor() };
      // a head or error chunk (small), or an answer that did not fit: its own copy, the slab goes back
      return { type, fin: r.headers[H.fin] === '1', parts: inSlab ? [Buffer.from(r.parts[0]!)] : r.parts, length: r.length };
    }
  }

  /** Tell the server to free the session (best effort: the TTL frees it otherwise). */
  async close(): Promise<void> {
    if (!this.#started) return;
    try {
      await this.#o.transport.call(RELAY_PATHS.close, { [H.session]: this.id }, Buffer.alloc(0));
    } catch { /* expiry will free it */ }
  }
}
