/**
 * @module Load and attack generators for the resource-exhaustion targets (RELIABILITY R3, R5, R9), shared by
 * test/proxy/attack-scale.test.ts and bench/attacks.bench.ts: a pattern origin, a slowloris swarm, keep-alive
 * clients that count errors and latencies, a connection flood, and parallel SHA-256-checked transfers. Every loop
 * is bounded (a count or a give-up time) and every socket is destroyed before a function returns.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

const MIB = 1024 * 1024;
/** byte i = i mod 251, a whole number of periods so that every full block is the same buffer. */
const BLOCK = Buffer.from(Array.from({ length: 251 * 261 }, (_, i) => i % 251));

const digests = new Map<number, string>();
/** SHA-256 (hex) of the first `total` bytes of the pattern (memoised: sizes repeat). */
export function patternDigest(total: number): string {
  const known = digests.get(total);
  if (known !== undefined) return known;
  const h = createHash('sha256');
  for (let left = total; left > 0; left -= BLOCK.length) h.update(left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left));
  const hex = h.digest('hex');
  digests.set(total, hex);
  return hex;
}

/** Write `total` pattern bytes into `out` with backpressure, then call `done`. */
export function pump(out: NodeJS.WritableStream, total: number, done: () => void): void {
  let left = total;
  const go = () => {
    while (left > 0) {
      const n = Math.min(left, BLOCK.length);
      left -= n;
      if (!out.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) { out.once('drain', go); return; }
    }
    done();
  };
  go();
}

export interface PatternOrigin { url: string; server: http.Server; close(): Promise<void> }

/**
 * GET /bytes/N → N pattern bytes; POST /upload → "N sha256hex" of what arrived; anything else → "ok".
 * `pauseUpload`: stop reading an upload once, for `ms`, after `afterBytes` (only backpressure then bounds memory).
 */
export async function startPatternOrigin(options: { pauseUpload?: { afterBytes: number; ms: number } } = {}): Promise<PatternOrigin> {
  const server = http.createServer((req, res) => {
    const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (m) {
      const n = Number(m[1]);
      res.writeHead(200, { 'content-length': n, 'content-type': 'application/octet-stream' });
      pump(res, n, () => res.end());
      return;
    }
    if (req.url === '/upload') {
      const h = createHash('sha256');
      let seen = 0;
      let paused = false;
      req.on('data', (c: Buffer) => {
        h.update(c);
        seen += c.length;
        const pause = options.pauseUpload;
        if (pause && !paused && seen > pause.afterBytes) { paused = true; req.pause(); setTimeout(() => req.resume(), pause.ms); }
      });
      req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(`${seen} ${h.digest('hex')}`); });
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-length': 2, 'content-type': 'text/plain' });
    res.end('ok');
  });
  server.keepAliveTimeout = 120_000;
  server.maxRequestsPerSocket = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export interface SlowlorisResult {
  /** ms from just before connect() to the server closing the connection, one per connection that was cut. */
  cutMs: number[];
  /** Connections answered `HTTP/1.1 408` before the close. */
  answered408: number;
  /** Connections still open when the swarm gave up (destroyed by us). */
  notCut: number;
  /** Connections that failed to connect at all. */
  connectFailures: number;
}

/**
 * `connections` sockets each send a request head one byte every `dripEveryMs` (`GET / HTTP/1.1`, Host, then an
 * endless header value), never finishing it. Resolves when the server has closed every one of them or after
 * `giveUpMs` from the start (whatever is still open is then destroyed and counted in notCut). `onAllOpen` is called
 * once every connection has been opened (and has sent its first byte).
 */
export function slowloris(o: { port: number; connections: number; dripEveryMs: number; giveUpMs: number; batch?: number; onAllOpen?: () => void }): Promise<SlowlorisResult> {
  const head = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ';
  const result: SlowlorisResult = { cutMs: [], answered408: 0, notCut: 0, connectFailures: 0 };
  const live = new Map<net.Socket, { sent: number }>();
  let open = 0;
  return new Promise((resolve) => {
    let finished = false;
    let allOpened = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(drip);
      clearTimeout(giveUp);
      result.notCut = live.size;
      for (const s of live.keys()) s.destroy();
      resolve(result);
    };
    const maybeDone = () => { if (allOpened && open === 0) finish(); };
    const drip = setInterval(() => {
      for (const [s, st] of live) {
        if (!s.writable) continue;
        s.write(st.sent < head.length ? head[st.sent]! : 'a');
        st.sent++;
      }
    }, o.dripEveryMs);
    const giveUp = setTimeout(finish, o.giveUpMs);
    const openOne = () => new Promise<void>((connected) => {
      const t0 = performance.now();
      const s = net.connect(o.port, '127.0.0.1');
      open++;
      let answer = '';
      let wasConnected = false;
      s.setEncoding('latin1');
      s.on('data', (c: string) => { if (answer.length < 64) answer += c; });
      s.on('error', () => { /* EPIPE/ECONNRESET after the server's cut: the close below counts it */ });
      s.once('connect', () => {
        wasConnected = true;
        s.write(head[0]!);
        live.set(s, { sent: 1 });
        connected();
      });
      s.once('close', () => {
        open--;
        if (live.delete(s) && !finished) {
          result.cutMs.push(performance.now() - t0);
          if (answer.startsWith('HTTP/1.1 408 ')) result.answered408++;
        } else if (!wasConnected) {
          result.connectFailures++;
          connected();
        }
        maybeDone();
      });
    });
    void (async () => {
      const batch = o.batch ?? 100;
      for (let i = 0; i < o.connections && !finished; i += batch) {
        await Promise.all(Array.from({ length: Math.min(batch, o.connections - i) }, openOne));
      }
      allOpened = true;
      o.onAllOpen?.();
      maybeDone();
    })();
  });
}

export interface ClientsResult { requests: number; errors: number; errorSamples: string[]; latenciesMs: number[] }

/**
 * `clients` keep-alive clients (one connection each), each sending GET `path` back to back until `stop()` is true
 * or it has sent `maxRequests`. Any failure or non-200 answer counts as an error.
 */
export async function keepAliveClients(o: { url: string; clients: number; stop: () => boolean; maxRequests: number; path?: string }): Promise<ClientsResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.clients, maxFreeSockets: o.clients, keepAliveMsecs: 1000 });
  const out: ClientsResult = { requests: 0, errors: 0, errorSamples: [], latenciesMs: [] };
  const one = () => new Promise<void>((resolve) => {
    const t0 = performance.now();
    const fail = (why: string) => {
      out.errors++;
      if (out.errorSamples.length < 5) out.errorSamples.push(why);
      resolve();
    };
    const req = http.get(`${o.url}${o.path ?? '/small'}`, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; });
      res.on('end', () => {
        out.latenciesMs.push(performance.now() - t0);
        if (res.statusCode !== 200) fail(`status ${res.statusCode}: ${body.slice(0, 200)}`);
        else resolve();
      });
      res.on('error', (err) => fail(err.message));
    });
    req.on('error', (err) => fail(err.message));
  });
  try {
    await Promise.all(Array.from({ length: o.clients }, async () => {
      for (let n = 0; n < o.maxRequests && !o.stop(); n++) {
        out.requests++;
        await one();
      }
    }));
  } finally {
    agent.destroy();
  }
  return out;
}

/** Open `count` plain TCP connections (sequentially in batches) and keep them; the caller destroys them. */
export async function openConnections(port: number, count: number, batch = 100): Promise<net.Socket[]> {
  const socks: net.Socket[] = [];
  for (let i = 0; i < count; i += batch) {
    const more = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    })));
    for (const s of more) { s.on('error', () => {}); socks.push(s); }
  }
  return socks;
}

/**
 * One request on an already open socket: resolves with the status (0 when the server closed the connection
 * without answering) and leaves the connection open (keep-alive) when the server does.
 */
export function requestOnSocket(s: net.Socket, path = '/small', timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve) => {
    let text = '';
    const done = (status: number) => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onClose);
      resolve(status);
    };
    const onData = (c: Buffer) => {
      text += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n[\s\S]*?\r\n\r\n/.exec(text);
      const len = /\r\ncontent-length: *(\d+)/i.exec(text);
      if (m && len && text.length >= m[0].length + Number(len[1])) done(Number(m[1]));
    };
    const onClose = () => done(0);
    const timer = setTimeout(() => done(-1), timeoutMs);
    s.on('data', onData);
    s.once('close', onClose);
    s.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
  });
}

/** Whether the server closes `s` within `withinMs` without sending a byte (the --max-connections behaviour). */
export function closedWithoutAnswer(s: net.Socket, withinMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let got = 0;
    const timer = setTimeout(() => resolve(false), withinMs);
    s.on('data', (c: Buffer) => { got += c.length; });
    if (s.destroyed) { clearTimeout(timer); resolve(got === 0); return; }
    s.once('close', () => { clearTimeout(timer); resolve(got === 0); });
  });
}

export interface TransferResult { kind: 'download' | 'upload'; ok: boolean; detail: string; mibPerS: number }

/** GET /bytes/N through `url`, hashing what arrives; ok when the length and SHA-256 match the pattern. */
export function checkedDownload(url: string, bytes: number): Promise<TransferResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const h = createHash('sha256');
    let seen = 0;
    const end = (ok: boolean, detail: string) => resolve({ kind: 'download', ok, detail, mibPerS: seen / MIB / ((performance.now() - t0) / 1000) });
    http.get(`${url}/bytes/${bytes}`, { agent: false }, (res) => {
      res.on('data', (c: Buffer) => { h.update(c); seen += c.length; });
      res.on('end', () => {
        const hex = h.digest('hex');
        end(seen === bytes && hex === patternDigest(bytes), `status ${res.statusCode}, ${seen} bytes, sha256 ${hex.slice(0, 12)}…`);
      });
      res.on('error', (err) => end(false, err.message));
    }).on('error', (err) => end(false, err.message));
  });
}

/** POST N pattern bytes to /upload through `url`; ok when the origin saw exactly those bytes (length and SHA-256). */
export function checkedUpload(url: string, bytes: number): Promise<TransferResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const end = (ok: boolean, detail: string) => resolve({ kind: 'upload', ok, detail, mibPerS: bytes / MIB / ((performance.now() - t0) / 1000) });
    const req = http.request(`${url}/upload`, { method: 'POST', agent: false, headers: { 'content-length': bytes, 'content-type': 'application/octet-stream' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; });
      res.on('end', () => end(text === `${bytes} ${patternDigest(bytes)}`, `status ${res.statusCode}: ${text.slice(0, 100)}`));
      res.on('error', (err) => end(false, err.message));
    });
    req.on('error', (err) => end(false, err.message));
    pump(req, bytes, () => req.end());
  });
}

/** `downloads` + `uploads` checked transfers of `bytes` each, all at once. */
export function parallelTransfers(url: string, o: { downloads: number; uploads: number; bytes: number }): Promise<TransferResult[]> {
  patternDigest(o.bytes); // computed once before the clock matters
  return Promise.all([
    ...Array.from({ length: o.downloads }, () => checkedDownload(url, o.bytes)),
    ...Array.from({ length: o.uploads }, () => checkedUpload(url, o.bytes)),
  ]);
}

/** The p-th percentile (0–100) of `xs`, nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
