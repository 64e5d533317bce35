/**
 * Request smuggling corpus (RELIABILITY S1–S7, T1): raw bytes on a socket (vectors in smuggling-corpus.ts).
 * Invalid vectors: the expected status, the connection closed, 0 bytes and 0 connections at the recording upstream,
 * and the proxy still serves the next client (whose request is then the only one the upstream saw).
 * Valid-but-risky vectors: the upstream receives exactly the canonical requests, byte for byte (framing by ferry:
 * plain decimal Content-Length or lower-case chunked re-framed with bare hex sizes; lower-case names; CRLF).
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';
import { rawRequest } from '../fixtures/raw-client.ts';
import { startProxy, waitFor, type RunningProxy } from '../fixtures/proxy.ts';
import { CORPUS, family, type Forwarded, type InvalidVector, type RiskyVector } from './smuggling-corpus.ts';

const INVALID = CORPUS.filter((v): v is InvalidVector => v.kind === 'invalid');
const RISKY = CORPUS.filter((v): v is RiskyVector => v.kind === 'risky');

function counts(): string {
  const by = new Map<string, number>();
  for (const v of CORPUS) by.set(family(v), (by.get(family(v)) ?? 0) + 1);
  return [...by].map(([k, n]) => `${k} ${n}`).join(', ');
}

/** The head ferry forwards for `f`, up to its framing field: every part of it is fixed by ferry's rules. */
function expectedHead(f: Forwarded): string {
  const fields = (f.fields ?? []).map(([n, v]) => `${n}: ${v}\r\n`).join('');
  return `${f.method} ${f.target} HTTP/1.1\r\nhost: ${f.host}\r\nconnection: keep-alive\r\n${fields}`
    + `via: ${f.via ?? '1.1'} ferry\r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: ${f.host}\r\nx-request-id: *\r\n`;
}

/** Match one canonical request at `p`; the position after it, or -1. */
function consume(t: string, p: number, f: Forwarded): number {
  const head = expectedHead(f);
  if (!t.startsWith(head, p)) return -1;
  p += head.length;
  if (f.body === undefined) return t.startsWith('\r\n', p) ? p + 2 : -1;
  const cl = `content-length: ${f.body.length}\r\n\r\n${f.body}`;
  if (t.startsWith(cl, p)) return p + cl.length;
  const te = 'transfer-encoding: chunked\r\n\r\n';
  if (!t.startsWith(te, p)) return -1;
  p += te.length;
  let body = '';
  for (;;) {
    // canonical chunk: lower-case hex without leading zeros, no extensions; no trailer section
    const m = /^(0|[1-9a-f][0-9a-f]{0,7})\r\n/.exec(t.slice(p, p + 12));
    if (!m) return -1;
    const n = Number.parseInt(m[1]!, 16);
    p += m[0].length;
    if (n === 0) return t.startsWith('\r\n', p) && body === f.body ? p + 2 : -1;
    body += t.slice(p, p + n);
    p += n;
    if (!t.startsWith('\r\n', p)) return -1;
    p += 2;
  }
}

/** Every upstream connection's bytes are a sequence of the expected requests, each used exactly once, in order. */
function matchesExactly(texts: string[], expected: readonly Forwarded[]): boolean {
  let next = 0;
  for (const t of texts) {
    let p = 0;
    while (p < t.length) {
      // requests of one client connection reach the upstream in their order, over one or more pooled connections
      const q = next < expected.length ? consume(t, p, expected[next]!) : -1;
      if (q < 0) return false;
      p = q;
      next++;
    }
  }
  return next === expected.length;
}

const normalize = (t: string) => t.replace(/\r\nx-request-id: [0-9a-f-]{36}\r\n/g, '\r\nx-request-id: *\r\n');

describe(`smuggling corpus: ${CORPUS.length} vectors (${INVALID.length} invalid, ${RISKY.length} valid-but-risky; ${counts()})`, () => {
  let up: RecordingUpstream;
  let proxy: RunningProxy;
  let limited: RunningProxy;
  before(async () => {
    up = await startRecordingUpstream();
    proxy = await startProxy({ upstream: up.url });
    limited = await startProxy({ upstream: up.url, maxBodyBytes: 1024 });
  });
  after(async () => { await proxy.close(); await limited.close(); await up.close(); });

  it('has at least 120 vectors, each with a source', () => {
    assert.ok(CORPUS.length >= 120, `${CORPUS.length} vectors`);
    for (const v of CORPUS) assert.ok(v.source.length > 0 && v.name.length > 0);
    assert.equal(new Set(CORPUS.map((v) => v.raw)).size, CORPUS.length, 'no duplicate payloads');
  });

  describe('invalid: refused, closed, nothing forwarded', () => {
    for (const v of INVALID) {
      it(`${v.name} [${v.source}]`, async () => {
        const port = v.limited ? limited.port : proxy.port;
        up.reset();
        const accepted = up.acceptedConnections();
        const r = await rawRequest(port, v.raw);
        const allowed: readonly number[] = typeof v.status === 'number' ? [v.status] : v.status;
        assert.equal(r.statuses.length, 1, `exactly one response, got ${JSON.stringify(r.text.slice(0, 200))}`);
        assert.ok(allowed.includes(r.statuses[0]!), `status ${r.statuses[0]} not in ${allowed.join('/')}`);
        assert.ok(r.closedByServer, 'connection closed after the answer');
        assert.equal(up.totalBytes(), 0, `upstream received ${up.totalBytes()} bytes`);
        assert.equal(up.acceptedConnections(), accepted, 'no upstream connection opened');
        // the proxy still serves the next client, and that request is the only one the upstream ever sees
        const next = await rawRequest(port, 'GET /next HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n');
        assert.deepEqual(next.statuses, [200]);
        assert.deepEqual(up.requests.map((q) => q.url), ['/next']);
      });
    }
  });

  describe('valid but risky: forwarded in canonical form only', () => {
    for (const v of RISKY) {
      it(`${v.name} [${v.source}]`, async () => {
        up.reset();
        const r = await rawRequest(proxy.port, v.raw, { quietMs: 150 });
        await waitFor(() => up.requests.length >= v.forwarded.length, `${v.forwarded.length} upstream requests`);
        await delay(30); // room for any extra request to show up
        const texts = up.connections.map((c) => normalize(c.text())).filter((t) => t.length > 0);
        assert.ok(matchesExactly(texts, v.forwarded), `upstream bytes not canonical:\n${JSON.stringify(texts, null, 1).slice(0, 3000)}\nexpected heads:\n${JSON.stringify(v.forwarded.map(expectedHead)).slice(0, 2000)}`);
        assert.equal(up.requests.length, v.forwarded.length, 'one upstream request per client request');
        const statuses = v.statuses ?? v.forwarded.map(() => [200]);
        assert.equal(r.statuses.length, statuses.length, `responses ${r.statuses.join(',')}`);
        r.statuses.forEach((s, i) => assert.ok(statuses[i]!.includes(s), `response ${i}: ${s} not in ${statuses[i]!.join('/')}`));
      });
    }
  });
});

describe('Expect: 100-continue with a chunked body on a method node:http does not frame by default (found by the differential test)', () => {
  const smuggled = 'GET /admin HTTP/1.1\r\nHost: a\r\n\r\n';
  for (const method of ['GET', 'DELETE', 'OPTIONS']) {
    it(`${method}: the body stays a body (chunked upstream), never a second request`, async () => {
      const up = await startRecordingUpstream();
      const proxy = await startProxy({ upstream: up.url });
      try {
        const raw = `${method} /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
        const r = await rawRequest(proxy.port, raw);
        assert.deepEqual(r.statuses, [100, 200]);
        await delay(50);
        assert.deepEqual(up.requests.map((q) => `${q.method} ${q.url}`), [`${method} /e`]);
        const wire = up.connections.map((c) => c.text()).join('');
        assert.match(wire, /\r\ntransfer-encoding: chunked\r\n/);
        assert.ok(wire.endsWith(`\r\n\r\n${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`), JSON.stringify(wire));
      } finally { await proxy.close(); await up.close(); }
    });
  }
});

describe('a parse error cancels every request pipelined before it on that connection', () => {
  it('two complete requests, then a NUL: 400, closed, 0 bytes upstream (the pool may have started a connection)', async () => {
    const up = await startRecordingUpstream();
    const proxy = await startProxy({ upstream: up.url });
    try {
      const r = await rawRequest(proxy.port, 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n\x00');
      assert.deepEqual(r.statuses, [400]);
      assert.ok(r.closedByServer);
      await delay(50);
      assert.equal(up.totalBytes(), 0);
      assert.equal(up.requests.length, 0);
    } finally { await proxy.close(); await up.close(); }
  });
});

describe('Expect: 100-continue with obs-text field values (found by the differential test)', () => {
  it('ferry answers 100 itself and relays the fields byte for byte (node:http would have sent them UTF-8 encoded)', async () => {
    const up = await startRecordingUpstream();
    const proxy = await startProxy({ upstream: up.url });
    try {
      const r = await rawRequest(proxy.port, 'POST /e HTTP/1.1\r\nHost: a\r\nX-A: b\xa0\xff\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
      assert.deepEqual(r.statuses, [100, 200]);
      await delay(50);
      const wire = up.connections.map((c) => c.text()).join('');
      assert.match(wire, /\r\nx-a: b\xa0\xff\r\n/);
      assert.doesNotMatch(wire, /expect:/i, 'the expectation was met by ferry, not passed on');
      assert.ok(wire.endsWith('\r\n\r\nhello'), JSON.stringify(wire));
      assert.deepEqual(up.requests.map((q) => `${q.method} ${q.url}`), ['POST /e']);
    } finally { await proxy.close(); await up.close(); }
  });
});

describe('crash-proofing (RELIABILITY S12)', () => {
  it('prototype-named header fields are plain data: forwarded, no crash', async () => {
    const up = await startRecordingUpstream();
    const proxy = await startProxy({ upstream: up.url });
    try {
      const r = await rawRequest(proxy.port, 'GET /headers HTTP/1.1\r\nHost: a\r\n__proto__: {"polluted":1}\r\nconstructor: x\r\nhasOwnProperty: y\r\nConnection: close\r\n\r\n');
      assert.deepEqual(r.statuses, [200]);
      assert.match(r.text, /"__proto__","\{\\"polluted\\":1\}"/);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    } finally { await proxy.close(); await up.close(); }
  });
});
