/** A small upstream body that arrived whole is stored in one write and served as one buffer (fill-whole.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { storeWhole, takeWholeBody } from '../../src/cache/fill-whole.ts';
import { createMemoryStore } from '../../src/cache/memory-store.ts';
import type { EntryRecord } from '../../src/cache/store.ts';
import { UpstreamBody } from '../../src/proxy/upstream-client.ts';

const record: EntryRecord = { kind: 'entry', policy: { v: 1 } as unknown as EntryRecord['policy'], size: 0 };

/** An upstream body as the undici handler leaves it: chunks pushed, then (when `complete`) the end. */
function upstream(chunks: string[], complete: boolean): UpstreamBody {
  const b = new UpstreamBody({ resume() {}, abandon() {} });
  for (const c of chunks) b.push(Buffer.from(c));
  if (complete) { b.complete = true; b.push(null); }
  return b;
}

describe('whole-body fill', () => {
  test('a complete body of the declared length is taken whole, chunks joined', () => {
    assert.equal(takeWholeBody(upstream(['ab', 'cd'], true), 4)?.toString(), 'abcd');
    assert.equal(takeWholeBody(upstream(['ab', 'cd'], true), undefined)?.toString(), 'abcd');
    assert.equal(takeWholeBody(upstream([], true), 0)?.length, 0);
  });

  test('an incomplete body, or one whose length differs from Content-Length, is left to the tee', () => {
    assert.equal(takeWholeBody(upstream(['ab'], false), 2), null);
    assert.equal(takeWholeBody(upstream(['ab'], true), 3), null, 'short: the tee reports it');
    assert.equal(takeWholeBody(upstream(['abcd'], true), 3), null, 'long');
  });

  test('storeWhole commits the bytes before resolving, and the client body is the same bytes', async () => {
    const store = createMemoryStore(1024 * 1024);
    const { body, result } = await storeWhole(store.createWriter('k', record, 60_000), Buffer.from('hello'));
    assert.equal(result, 'stored');
    assert.equal(body.bytes.toString(), 'hello');
    const got = await store.get('k');
    assert.ok(got?.kind === 'entry' && got.size === 5);
  });

  test('a body over the store bound is not stored, and still served', async () => {
    const store = createMemoryStore(4 * 1024); // entries up to 1 KiB
    const { body, result } = await storeWhole(store.createWriter('k', record, 60_000), Buffer.alloc(2048, 1));
    assert.equal(result, 'not-stored');
    assert.equal(body.bytes.length, 2048);
    assert.equal(await store.get('k'), null);
  });
});
