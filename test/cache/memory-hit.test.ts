/**
 * What makes a memory-store hit cheap (issue 18): the body comes back as one buffer the runner writes with one
 * `res.end`, and the stored policy is parsed once per record, not per hit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMemoryStore } from '../../src/cache/memory-store.ts';
import { createPolicyKit, createStoredPolicy, decideReuse, decideStore, policyView, REUSE_REQUEST_FIELDS, STORE_REQUEST_FIELDS, toPolicyRequest, type StoreDecision } from '../../src/cache/policy.ts';
import type { EntryRecord } from '../../src/cache/store.ts';
import { WholeBody } from '../../src/proxy/whole-body.ts';

const kit = createPolicyKit(() => 1_000_000);
const policy = kit.create({ method: 'GET', url: '/a', headers: { host: 'h' } }, { status: 200, headers: { 'cache-control': 'max-age=60' } }).toObject();
const record: EntryRecord = { kind: 'entry', policy, size: 0 };

describe('memory-store hit', () => {
  test('a body written in several chunks is opened as one WholeBody of exactly its bytes', async () => {
    const store = createMemoryStore(1024 * 1024);
    const w = store.createWriter('k', record, 60_000);
    await w.write(Buffer.from('hello '));
    await w.write(Buffer.from('stored '));
    await w.write(Buffer.from('world'));
    assert.equal(await w.commit(), true);
    const got = await store.get('k');
    assert.ok(got?.kind === 'entry');
    const body = await store.openBody('k', got);
    assert.ok(body instanceof WholeBody, 'the memory store hands back its buffer, not a stream over chunks');
    assert.equal(body.bytes.toString(), 'hello stored world');
    // One buffer of its own: the entry's meta (compact-entry.ts) and these bytes, nothing else.
    assert.ok(body.bytes.buffer.byteLength - body.bytes.length < 512, `a ${body.bytes.buffer.byteLength}-byte buffer for ${body.bytes.length} bytes`);
    // Still a Readable for whoever streams it (Range slices, multipart).
    const read: Buffer[] = [];
    for await (const c of body) read.push(c as Buffer);
    assert.equal(Buffer.concat(read).toString(), 'hello stored world');
  });

  test('an empty body streams as an empty Readable', async () => {
    const store = createMemoryStore(1024 * 1024);
    const w = store.createWriter('e', record, 60_000);
    assert.equal(await w.commit(), true);
    const got = await store.get('e');
    assert.ok(got?.kind === 'entry');
    const read: Buffer[] = [];
    for await (const c of await store.openBody('e', got)) read.push(c as Buffer);
    assert.equal(read.length, 0);
  });

  test('the same stored record restores to the same parsed policy; another record to another', () => {
    const a = kit.restore(policy);
    assert.equal(kit.restore(policy), a, 'parsed once per record');
    assert.notEqual(kit.restore({ ...policy }), a);
    assert.equal(a.maxAge(), 60);
  });

  test('without Vary, judging reuse on the few fields the library reads decides as judging it on all of them', () => {
    const uri = { host: 'h', path: '/a' };
    const stored = [
      kit.restore(policy),
      kit.restore(kit.create({ method: 'GET', url: '/a', headers: { host: 'h' } }, { status: 200, headers: { 'cache-control': 'max-age=60, must-revalidate', etag: '"x"' } }).toObject()),
      kit.restore(kit.create({ method: 'GET', url: '/a', headers: { host: 'h' } }, { status: 200, headers: { 'cache-control': 'max-age=1, stale-while-revalidate=60', date: new Date(990_000).toUTCString() } }).toObject()),
    ];
    const requests: Array<Array<[string, string]>> = [
      [], [['cache-control', 'no-cache']], [['pragma', 'no-cache']], [['cache-control', 'max-age=0']], [['cache-control', 'MAX-AGE=0']],
      [['cache-control', 'min-fresh=120']], [['cache-control', 'max-stale']], [['authorization', 'Bearer x']], [['if-none-match', '"x"'], ['accept', '*/*']],
      [['cache-control', 'only-if-cached'], ['user-agent', 'u']], [['cookie', 'a=b']],
    ];
    for (const p of stored) {
      for (const headers of requests) {
        const full = decideReuse(kit, p, toPolicyRequest(headers, uri), headers);
        const few = decideReuse(kit, p, toPolicyRequest(headers, uri, REUSE_REQUEST_FIELDS), headers);
        assert.deepEqual(few, full, JSON.stringify(headers));
      }
    }
  });

  test('without Vary, deciding to store on the few fields the library reads stores what deciding on all of them stores', () => {
    const uri = { host: 'h', path: '/a' };
    const responses: Array<Array<[string, string]>> = [
      [['cache-control', 'public, max-age=3600'], ['etag', '"v1"']], [['cache-control', 'max-age=60']], [['cache-control', 'no-store']],
      [['cache-control', 'private, max-age=60']], [['cache-control', 's-maxage=60, must-revalidate']], [['last-modified', new Date(0).toUTCString()], ['date', new Date(86_400_000).toUTCString()]],
      [['cache-control', 'max-age=60'], ['vary', 'accept']], [['cdn-cache-control', 'max-age=30'], ['cache-control', 'no-cache']],
    ];
    const requests: Array<Array<[string, string]>> = [
      [], [['cache-control', 'no-store']], [['cache-control', 'NO-STORE, max-age=0']], [['authorization', 'Bearer x']], [['authorization', '']],
      [['pragma', 'no-cache'], ['accept', 'text/html'], ['user-agent', 'u']], [['accept', 'a'], ['accept', 'b']],
    ];
    for (const res of responses) {
      for (const req of requests) {
        const only = res.some(([n]) => n === 'vary') ? undefined : STORE_REQUEST_FIELDS;
        const full = decideStore(kit, toPolicyRequest(req, uri), req, 200, res);
        const few = decideStore(kit, toPolicyRequest(req, uri, only), req, 200, res);
        const shape = (d: StoreDecision): unknown => (d.kind === 'store' ? { ...d, policy: d.policy.toObject() } : d);
        assert.deepEqual(shape(few), shape(full), `${JSON.stringify(res)} ${JSON.stringify(req)}`);
      }
    }
  });

  test('a stored policy keeps the stored fields and decides from the view, as a restored copy did', () => {
    const req = toPolicyRequest([], { host: 'h', path: '/a' });
    const headers = { 'cdn-cache-control': 'max-age=30', 'cache-control': 'no-cache, max-age=5', expires: 'junk', etag: '"e"' };
    const { view, stored } = policyView(headers);
    const viaCopy = kit.restore({ ...kit.create(req, { status: 200, headers: view }).toObject(), resh: stored });
    const inPlace = createStoredPolicy(kit, req, 200, headers);
    assert.deepEqual(inPlace.toObject(), viaCopy.toObject());
    assert.equal(inPlace.responseHeaders()['cache-control'], 'no-cache, max-age=5', 'clients get the origin\'s text');
    assert.equal(inPlace.timeToLive(), 30_000, 'decided by CDN-Cache-Control');
  });
});
