/** The memory store holds what it counts: a body chunk that is a slice of a larger read buffer does not keep that buffer. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMemoryStore } from '../../src/cache/memory-store.ts';
import type { EntryRecord } from '../../src/cache/store.ts';

const record: EntryRecord = { kind: 'entry', policy: { v: 1 } as unknown as EntryRecord['policy'], size: 0 };

describe('memory store accounting', () => {
  test('a 1 KiB body sliced out of a 64 KiB socket read is stored in a buffer of its own size', async () => {
    const store = createMemoryStore(1024 * 1024);
    const read = Buffer.alloc(64 * 1024, 7); // a read that also held the head and other responses
    const w = store.createWriter('k', record, 60_000);
    await w.write(read.subarray(300, 1324));
    assert.equal(await w.commit(), true);
    const got = await store.get('k');
    assert.ok(got?.kind === 'entry');
    const chunks: Buffer[] = [];
    for await (const c of await store.openBody('k', got)) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), read.subarray(300, 1324));
    for (const c of chunks) assert.ok(c.buffer !== read.buffer && c.buffer.byteLength < 16 * 1024, `a stored chunk keeps a ${c.buffer.byteLength}-byte buffer alive for ${c.length} bytes`);
    assert.ok(store.stats().bytes! <= 1024 + 1024 + 64, 'the store counts the body and the meta');
  });

  test('chunks that fill their buffers are kept as they are (no copy of large bodies)', async () => {
    const store = createMemoryStore(16 * 1024 * 1024);
    const chunk = Buffer.alloc(64 * 1024, 1);
    const w = store.createWriter('big', record, 60_000);
    await w.write(chunk);
    assert.equal(await w.commit(), true);
    const got = await store.get('big');
    assert.ok(got?.kind === 'entry');
    for await (const c of await store.openBody('big', got)) assert.equal((c as Buffer).buffer, chunk.buffer);
  });
});
