import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSingleFlight } from '../../src/cache/single-flight.ts';

test('one leader per key; waiters learn the outcome', async () => {
  const sf = createSingleFlight();
  const lead = sf.join('k');
  const wait = sf.join('k');
  assert.equal(lead.kind, 'lead');
  assert.equal(wait.kind, 'wait');
  assert.equal(sf.join('other').kind, 'lead');
  if (lead.kind !== 'lead' || wait.kind !== 'wait') return;
  lead.settle('stored');
  assert.equal(await wait.result, 'stored');
  assert.equal(sf.join('k').kind, 'lead');
});

test('waiters give up after the lock timeout', async () => {
  const sf = createSingleFlight({ waitMs: 20 });
  const lead = sf.join('k');
  const wait = sf.join('k');
  assert.equal(wait.kind === 'wait' && await wait.result, 'timeout');
  if (lead.kind === 'lead') lead.settle('failed');
});

test('hit-for-miss: an uncacheable answer lets later requests pass without a lock; a failure does not', async () => {
  const sf = createSingleFlight();
  const lead = sf.join('k');
  if (lead.kind === 'lead') lead.settle('not-stored');
  assert.equal(sf.join('k').kind, 'pass');
  assert.equal(sf.join('k').kind, 'pass');
  sf.forget('k');
  const again = sf.join('k');
  assert.equal(again.kind, 'lead');
  if (again.kind === 'lead') again.settle('failed');
  assert.equal(sf.join('k').kind, 'lead');
  assert.equal(sf.waitFor('none'), null);
});
