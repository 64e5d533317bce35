/**
 * @module A raw HTTP/2 frame writer and reader for hardening tests (RFC 9113 §4.1 framing, RFC 7541 HPACK with static
 * and literal fields only): frames are written by hand — including ones node:http2's client would never send —
 * and the server's answers (SETTINGS, RST_STREAM, GOAWAY) are read back.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface Frame { type: number; flags: number; stream: number; payload: Buffer }

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export function rstStream(stream: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, stream, p);
}

/** An HPACK string literal, no Huffman (RFC 7541 §5.2); lengths below 127. */
function str(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  if (b.length >= 127) throw new Error('h2-frames: string too long for this encoder');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/**
 * A request header block: `:method` GET/POST (static index 2/3), `:scheme http` (6), `:path` and `:authority` as
 * literals without indexing on a static name (RFC 7541 §6.2.2), then `extra` as literals with new names.
 */
export function requestBlock(path: string, authority: string, method: 'GET' | 'POST' = 'GET', extra: Array<[string, string]> = []): Buffer {
  const parts = [Buffer.from([method === 'GET' ? 0x82 : 0x83, 0x86]), Buffer.from([0x04]), str(path), Buffer.from([0x01]), str(authority)];
  for (const [n, v] of extra) parts.push(Buffer.from([0x00]), str(n), str(v));
  return Buffer.concat(parts);
}

/** One raw connection: the client preface and an empty SETTINGS sent; server SETTINGS are acknowledged. */
export class RawH2 {
  readonly frames: Frame[] = [];
  closed = false;
  readonly socket: Duplex;
  #buf: Buffer = Buffer.alloc(0);
  #waiters: Array<() => void> = [];

  constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => this.#read(c));
    socket.on('error', () => { /* a reset by the server is what some tests expect; 'close' records it */ });
    socket.on('close', () => { this.closed = true; this.#wake(); });
    socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
  }

  /** h2c with prior knowledge to 127.0.0.1:`port`. */
  static async cleartext(port: number): Promise<RawH2> {
    const s = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
    return new RawH2(s);
  }

  /** TLS with ALPN h2 (the test certificate's `ca`). */
  static async secure(port: number, ca: Buffer | string): Promise<RawH2> {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: ['h2'] });
    await new Promise<void>((resolve, reject) => { s.once('secureConnect', resolve); s.once('error', reject); });
    if (s.alpnProtocol !== 'h2') throw new Error(`ALPN chose ${String(s.alpnProtocol)}`);
    return new RawH2(s);
  }

  write(...frames: Buffer[]): boolean { return this.socket.write(Buffer.concat(frames)); }

  /** Resolve with the first frame matching `pred` (already received or to come), or null once the connection closed. */
  async waitFor(pred: (f: Frame) => boolean, timeoutMs = 5_000): Promise<Frame | null> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(pred);
      if (found) return found;
      if (this.closed) return null;
      if (Date.now() > until) throw new Error('h2-frames: timed out waiting for a frame');
      await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 50); });
    }
  }

  async waitClosed(timeoutMs = 5_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > until) throw new Error('h2-frames: the server kept the connection open');
      await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 50); });
    }
  }

  goaway(): { lastStream: number; code: number } | null {
    const g = this.frames.find((f) => f.type === FRAME.GOAWAY);
    return g ? { lastStream: g.payload.readUInt32BE(0) & 0x7fffffff, code: g.payload.readUInt32BE(4) } : null;
  }

  /** SETTINGS parameters of the server's first SETTINGS frame (RFC 9113 §6.5.1). */
  settings(): Map<number, number> {
    const f = this.frames.find((x) => x.type === FRAME.SETTINGS && (x.flags & FLAG.ACK) === 0);
    const out = new Map<number, number>();
    if (!f) return out;
    for (let i = 0; i + 6 <= f.payload.length; i += 6) out.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
    return out;
  }

  destroy(): void { this.socket.destroy(); }

  #read(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 9) {
      const len = this.#buf.readUIntBE(0, 3);
      if (this.#buf.length < 9 + len) break;
      const f: Frame = { type: this.#buf[3]!, flags: this.#buf[4]!, stream: this.#buf.readUInt32BE(5) & 0x7fffffff, payload: this.#buf.subarray(9, 9 + len) };
      this.#buf = this.#buf.subarray(9 + len);
      this.frames.push(f);
      if (f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0 && !this.socket.destroyed) this.socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    }
    this.#wake();
  }

  #wake(): void { const w = this.#waiters; this.#waiters = []; for (const f of w) f(); }
}
