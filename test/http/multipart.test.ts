import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { createBoundary, multipartBody, planMultipart, type OpenRange } from '../../src/http/multipart.ts';
import { pipeExactly, pipeMultipart } from '../../src/http/range-streams.ts';
import { resolveRanges, type ByteRange, type RangeSpec } from '../../src/http/range.ts';
import { boundaryOf, parseByteranges } from '../helpers/byteranges.ts';

/** A source of `size` bytes where byte i = i mod 251 (like /bytes/N), read in small chunks. */
function sourceOf(data: Buffer, chunk = 7): OpenRange {
  return (r: ByteRange) => Readable.from((function* () {
    for (let i = r.first; i <= r.last; i += chunk) yield data.subarray(i, Math.min(i + chunk, r.last + 1));
  })());
}

async function collect(iterable: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of iterable) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks);
}

const fixedRandom = (n: number) => new Uint8Array(n).fill(0xab);

describe('planMultipart', () => {
  it('builds the boundary from the injected random source', () => {
    assert.equal(createBoundary(fixedRandom), `ferry-${'ab'.repeat(16)}`);
    assert.notEqual(createBoundary(), createBoundary());
  });

  it('writes the RFC 9110 §14.6 layout with a Content-Type and Content-Range per part', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    const plan = planMultipart([{ first: 0, last: 2 }, { first: 10, last: 11 }], data.length, { partContentType: 'text/plain', randomBytes: fixedRandom });
    const b = plan.boundary;
    const body = (await collect(multipartBody(plan, sourceOf(data)))).toString();
    assert.equal(body,
      `--${b}\r\ncontent-type: text/plain\r\ncontent-range: bytes 0-2/20\r\n\r\n012` +
      `\r\n--${b}\r\ncontent-type: text/plain\r\ncontent-range: bytes 10-11/20\r\n\r\nab` +
      `\r\n--${b}--\r\n`);
    assert.equal(plan.contentLength, Buffer.byteLength(body));
    assert.equal(plan.contentType, `multipart/byteranges; boundary=${b}`);
  });

  it('fails instead of sending a body whose length breaks the plan', async () => {
    const data = Buffer.alloc(10);
    const plan = planMultipart([{ first: 0, last: 4 }, { first: 6, last: 9 }], 10);
    const short: OpenRange = (r) => Readable.from([data.subarray(r.first, r.last)]);
    await assert.rejects(collect(multipartBody(plan, short)), /ended after 4 of 5 bytes/);
    const long: OpenRange = (r) => Readable.from([data.subarray(r.first, r.last + 2)]);
    await assert.rejects(collect(multipartBody(plan, long)), /more than 5 bytes/);
  });
});

const specArb: fc.Arbitrary<RangeSpec> = fc.oneof(
  fc.tuple(fc.nat(5000), fc.nat(3000)).map(([first, len]): RangeSpec => ({ kind: 'from-to', first, last: first + len })),
  fc.nat(5000).map((first): RangeSpec => ({ kind: 'from', first })),
  fc.integer({ min: 1, max: 3000 }).map((length): RangeSpec => ({ kind: 'suffix', length })),
);

describe('multipart properties (fast-check)', () => {
  it('the bytes a client reassembles equal the source at those offsets; Content-Length equals bytes written', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 6000 }), fc.array(specArb, { minLength: 2, maxLength: 12 }), fc.integer({ min: 1, max: 4096 }),
      async (size, specs, chunk) => {
        const data = Buffer.alloc(size);
        for (let i = 0; i < size; i++) data[i] = i % 251;
        const r = resolveRanges(specs, size);
        fc.pre(r.kind === 'satisfiable');
        if (r.kind !== 'satisfiable') return;
        const plan = planMultipart(r.ranges, size, { partContentType: 'application/x-test' });
        // Write through a real Writable with a tiny highWaterMark so backpressure is exercised.
        const written: Buffer[] = [];
        const sink = new Writable({
          highWaterMark: 64,
          write(c: Buffer, _enc, cb) { written.push(Buffer.from(c)); setImmediate(cb); },
        });
        await pipeline(multipartBody(plan, sourceOf(data, chunk)), sink);
        const body = Buffer.concat(written);
        assert.equal(body.length, plan.contentLength);
        const parts = parseByteranges(body, boundaryOf(plan.contentType));
        assert.equal(parts.length, r.ranges.length);
        parts.forEach((p, i) => {
          assert.deepEqual({ first: p.first, last: p.last }, r.ranges[i]);
          assert.equal(p.size, size);
          assert.equal(p.headers['content-type'], 'application/x-test');
          assert.ok(p.body.equals(data.subarray(p.first, p.last + 1)));
        });
      }), { numRuns: 150 });
  });
});

/** A Writable that collects and acknowledges each chunk on a later turn (so backpressure is real). */
function slowSink(written: Buffer[]): Writable {
  return new Writable({ highWaterMark: 64, write(c: Buffer, _e, cb) { written.push(Buffer.from(c)); setImmediate(cb); } });
}

describe('pipeMultipart / pipeExactly (stream to stream, no copies)', () => {
  it('property: the reassembled parts equal the source; bytes written equal the planned Content-Length', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 6000 }), fc.array(specArb, { minLength: 2, maxLength: 12 }), fc.integer({ min: 1, max: 4096 }),
      async (size, specs, chunk) => {
        const data = Buffer.alloc(size);
        for (let i = 0; i < size; i++) data[i] = (i * 31) % 256;
        const r = resolveRanges(specs, size);
        fc.pre(r.kind === 'satisfiable');
        if (r.kind !== 'satisfiable') return;
        const plan = planMultipart(r.ranges, size, { partContentType: 'text/x' });
        const written: Buffer[] = [];
        await pipeMultipart(plan, (range) => Readable.from(sourceOf(data, chunk)(range)), slowSink(written));
        const body = Buffer.concat(written);
        assert.equal(body.length, plan.contentLength);
        const parts = parseByteranges(body, boundaryOf(plan.contentType));
        assert.deepEqual(parts.map((p) => ({ first: p.first, last: p.last })), r.ranges);
        for (const p of parts) assert.ok(p.body.equals(data.subarray(p.first, p.last + 1)));
      }), { numRuns: 100 });
  });

  it('rejects when a source breaks the plan, and when the destination goes away', async () => {
    const data = Buffer.alloc(10);
    const plan = planMultipart([{ first: 0, last: 4 }, { first: 6, last: 9 }], 10);
    await assert.rejects(pipeMultipart(plan, (r) => Readable.from([data.subarray(r.first, r.last)]), slowSink([])), /ended after 4 of the 5 bytes/);
    await assert.rejects(pipeMultipart(plan, (r) => Readable.from([data.subarray(r.first, r.last + 2)]), slowSink([])), /more than the 5 bytes/);
    await assert.rejects(pipeExactly(Readable.from([Buffer.alloc(3)]), 4, slowSink([])), /ended after 3 of the 4/);
    const broken = new Writable({ write(_c, _e, cb) { cb(new Error('client went away')); } });
    await assert.rejects(pipeMultipart(plan, (r) => Readable.from([data.subarray(r.first, r.last + 1)]), broken), /client went away/);
    const ok: Buffer[] = [];
    await pipeExactly(Readable.from([Buffer.alloc(2), Buffer.alloc(2)]), 4, slowSink(ok));
    assert.equal(Buffer.concat(ok).length, 4);
  });
});
