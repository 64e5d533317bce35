/**
 * @module The owner side of a session on relay-server: the one connection to the real target, and the two
 * pumps that move bytes between it and the session store.
 *
 * Up chunks are written to the target in index order as they arrive, waiting for `drain` (a slow target
 * slows the client through the window). Down bytes are cut into chunks as they come; at most `window`
 * unconfirmed chunks are kept, after which the target is simply not read (TCP backpressure).
 * The target hop is one stream that is never replayed: if it breaks, the client gets an error chunk
 * and the application a failed request (RELIABILITY L7).
 * When the store cannot answer (StoreUnavailableError: Redis stalled or down) the session is given up: the
 * target connection is closed, and the client, whose messages are answered 503 meanwhile, fails the request.
 */
import { createHash } from 'node:crypto';
import type { Agent, ClientRequest } from 'node:http';
import { http } from '../http/node-http.ts';
import net from 'node:net';
import type { Writable } from 'node:stream';
import type { Logger } from '../server/logger.ts';
import { ChunkReader } from './chunk-reader.ts';
import type { DownType, ErrorPayload, OpenRequest, ResponseHeadPayload } from './protocol.ts';
import { fromRawHeaders, toFlatHeaders } from '../http/headers.ts';
import { stripHopByHop } from '../http/hop-by-hop.ts';
import { mayProduce } from './session.ts';
import { StoreUnavailableError, type SessionStore } from './session-store.ts';
import type { RelayCounters } from './relay-stats.ts';
import type { SlabPool } from './slab-pool.ts';

/** Longest a pump sleeps before re-reading the store (notifications are hints; see session-store). */
const PUMP_WAIT_MS = 250;
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a partly filled down chunk waits for more bytes before it is published. */
const LINGER_MS = 3;

export interface TargetSessionOptions {
  id: string;
  open: OpenRequest;
  store: SessionStore;
  window: number;
  chunkSize: number;
  agent: Agent;
  log: Logger;
  counters: RelayCounters;
  onEnd: (id: string) => void;
  /** Reused buffers down data is copied into (the store gives each back when it no longer holds the chunk). */
  slabs?: SlabPool;
  /** Told the size of every body chunk moved (RelayServerOptions.onBodyBytes). */
  onBodyBytes?: ((bytes: number) => void) | undefined;
}

export class TargetSession {
  readonly id: string;
  readonly #o: TargetSessionOptions;
  readonly #abort = new AbortController();
  #downIndex = 0;
  #target: ClientRequest | net.Socket | undefined;
  #ended = false;

  constructor(options: TargetSessionOptions) {
    this.id = options.id;
    this.#o = options;
  }

  get signal(): AbortSignal { return this.#abort.signal; }

  /** Connect (CONNECT) or send the request head (HTTP); the session state tells the open handler. */
  start(): void {
    const open = this.#o.open;
    if (open.kind === 'connect') this.#startTunnel(open.host, open.port);
    else this.#startHttp(open);
  }

  /**
   * Where every store call made in the background ends up (nothing awaits those): a store outage ends the session
   * (logged once by the store itself); anything else is logged. Never an unhandled rejection.
   */
  #background(p: Promise<unknown>): void {
    p.catch((err: unknown) => {
      if (err instanceof StoreUnavailableError) { this.destroy('session store unavailable'); return; }
      this.#o.log.warn({ event: 'relay-session-error', session: this.id, err: (err as Error).message }, 'relay session failed');
      this.destroy('internal error');
    });
  }

  #endReason: string | undefined;

  /** Why the session ended (destroy's reason), undefined while it runs. */
  get endReason(): string | undefined { return this.#endReason; }

  /** Free everything: the target connection, the pumps. Idempotent. */
  destroy(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endReason = reason;
    this.#abort.abort(new Error(reason));
    this.#target?.destroy();
    this.#o.onEnd(this.id);
  }

  #startTunnel(host: string, port: number): void {
    const { store, id } = this.#o;
    const socket = net.connect({ host, port });
    this.#target = socket;
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    const fail = (status: number, reason: string) => {
      this.#background(store.update(id, { state: 'failed', failStatus: status, failReason: reason }).finally(() => this.destroy(reason)));
    };
    socket.once('timeout', () => fail(504, `connect to ${host}:${port} timed out`));
    socket.once('error', (err) => fail(502, `connect to ${host}:${port} failed: ${err.message}`));
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeAllListeners('timeout');
      socket.removeAllListeners('error');
      socket.on('error', (err) => this.#o.log.debug({ event: 'relay-target-error', session: id, err: err.message }, 'tunnel target error'));
      this.#background(store.update(id, { state: 'open' }).then(() => {
        this.#background(this.#upPump(socket));
        this.#background(this.#downPump(socket));
      }));
    });
  }

  #startHttp(open: Extract<OpenRequest, { kind: 'http' }>): void {
    const { store, id } = this.#o;
    const url = new URL(open.url);
    const req = http.request({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || 80,
      method: open.method,
      path: `${url.pathname}${url.search}`,
      headers: toFlatHeaders(stripHopByHop(open.headers)),
      agent: this.#o.agent,
      setHost: false,
    });
    this.#target = req;
    let responded = false;
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (responded) return; // the response reader sees the failure and sends the error chunk
      const status = err.code === 'ETIMEDOUT' ? 504 : 502;
      this.#background(this.#produce('error', Buffer.from(JSON.stringify({ status, reason: `target ${url.host}: ${err.message}` } satisfies ErrorPayload)), true)
        .finally(() => this.#o.log.info({ event: 'relay-target-error', session: id, err: err.message }, 'target request failed')));
    });
    req.on('response', (res) => {
      responded = true;
      const head: ResponseHeadPayload = { status: res.statusCode ?? 502, headers: stripHopByHop(fromRawHeaders(res.rawHeaders)) };
      const encoded = Buffer.from(JSON.stringify(head));
      if (encoded.length > this.#o.chunkSize) {
        // A head is never split (RELIABILITY L1): it must fit in one message, as at the gateway itself.
        res.destroy();
        const reason = `target response head of ${encoded.length} bytes does not fit in one relay message (--max-message)`;
        this.#background(this.#produce('error', Buffer.from(JSON.stringify({ status: 502, reason } satisfies ErrorPayload)), true));
        return;
      }
      this.#background(this.#produce('head', encoded, false).then((ok) => { if (ok) this.#background(this.#downPump(res)); }));
    });
    this.#background(store.update(id, { state: 'open' }));
    if (open.hasBody) this.#background(this.#upPump(req));
    else req.end();
  }

  /** Write up chunks to the target in order, each once. */
  async #upPump(dest: Writable): Promise<void> {
    const { store, id, counters } = this.#o;
    let index = 0;
    try {
      while (!this.#ended) {
        const c = await store.takeUp(id, index);
        if (!c) {
          if (!(await store.get(id))) { this.destroy('session gone'); return; }
          await store.wait(id, PUMP_WAIT_MS, this.signal);
          continue;
        }
        // Written (or failed): the stream is done with the bytes, the store may give them back.
        if (c.data.length === 0) c.release();
        else if (!dest.write(c.data, c.release)) await drained(dest);
        if (dest.destroyed) return;
        index++;
        counters.bytesUp += c.data.length;
        this.#o.onBodyBytes?.(c.data.length);
        await store.update(id, { upDelivered: index });
        if (c.fin) { dest.end(); return; }
      }
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err; // ends the session (#background)
      this.#o.log.debug({ event: 'relay-up-pump', session: id, err: (err as Error).message }, 'up pump stopped');
    }
  }

  /** Cut the target's bytes into down chunks; an error chunk if the target breaks mid-way. */
  async #downPump(src: NodeJS.ReadableStream & import('node:stream').Readable): Promise<void> {
    const reader = new ChunkReader(src);
    try {
      for (;;) {
        if (!(await this.#waitWindow())) return;
        const pool = this.#o.slabs;
        if (pool) {
          // Read straight into the slab the chunk will be kept in (chunk-reader.ts readInto: each piece dies young).
          const slab = pool.take();
          let filled: Buffer | null;
          try { filled = await reader.readInto(slab.subarray(0, this.#o.chunkSize), LINGER_MS); } catch (err) { pool.give(slab); throw err; }
          if (filled === null) { pool.give(slab); await this.#produce('data', [], true); return; }
          if (!(await this.#produce('data', filled, reader.done, slab)) || reader.done) return;
          continue;
        }
        const data = await reader.readPieces(this.#o.chunkSize, LINGER_MS);
        if (data === null) { await this.#produce('data', [], true); return; }
        // The last bytes carry fin themselves: the client can end the response as it writes them.
        if (!(await this.#produce('data', data, reader.done)) || reader.done) return;
      }
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err; // ends the session (#background)
      const reason = `target connection broke mid-stream: ${(err as Error).message}`;
      await this.#produce('error', Buffer.from(JSON.stringify({ status: 502, reason } satisfies ErrorPayload)), true);
    }
  }

  /** Wait until the client has confirmed enough chunks for one more; false when the session is gone. */
  async #waitWindow(): Promise<boolean> {
    const { store, id, window } = this.#o;
    for (;;) {
      if (this.#ended) return false;
      const meta = await store.get(id);
      if (!meta) { this.destroy('session gone'); return false; }
      if (mayProduce(this.#downIndex, meta.downAcked, window, meta.downWanted)) return true;
      await store.wait(id, PUMP_WAIT_MS, this.signal);
    }
  }

  /** `inSlab`: `body` already lies in this slab of the pool (the down pump read it there); it is given back when done. */
  async #produce(type: DownType, body: Buffer | Buffer[], fin: boolean, inSlab?: Buffer): Promise<boolean> {
    if (!(await this.#waitWindow())) { if (inSlab) this.#o.slabs?.give(inSlab); return false; }
    const index = this.#downIndex++;
    let data = Array.isArray(body) ? body : [body];
    const hash = createHash('sha256');
    let length = 0;
    const pool = this.#o.slabs;
    let slab: Buffer | undefined;
    if (inSlab && !Array.isArray(body)) {
      slab = inSlab;
      length = body.length;
      hash.update(body);
    } else if (type === 'data' && pool && data.length > 0) {
      // Data chunks are copied into a reused slab: the target's 64 KiB reads then die young instead of being
      // held, and promoted, until the client confirms the chunk (old-space garbage waits for a major GC:
      // measured, this is most of the relay-server's peak RSS). The copy is hashed, so the digest covers what is sent.
      slab = pool.take();
      for (const p of data) length += p.copy(slab, length);
      data = [slab.subarray(0, length)];
      hash.update(data[0]!);
    } else for (const p of data) { hash.update(p); length += p.length; }
    const digest = `sha-256=:${hash.digest('base64')}:`;
    const held = slab;
    await this.#o.store.putDown(this.#o.id, index, { type, fin, digest, data, length }, held ? pool!.releaseOf(held) : undefined);
    if (type === 'data') { this.#o.counters.bytesDown += length; this.#o.onBodyBytes?.(length); }
    return true;
  }
}

function drained(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { w.off('drain', done); w.off('close', done); resolve(); };
    w.on('drain', done);
    w.on('close', done);
  });
}
