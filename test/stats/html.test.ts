import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCounterState, formatSnapshot, recordFinish, recordStart } from '../../src/stats/counters.ts';
import { escapeHtml, formatStatsHtml, prefersHtml } from '../../src/stats/html.ts';

const ACCEPT: Array<[string | undefined, boolean]> = [
  [undefined, false],
  ['*/*', false],
  ['application/json', false],
  ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true], // Firefox/Chrome
  ['text/html;q=0', false],
  ['application/json, text/html;q=0.5', false],
  ['text/html, application/json;q=0.5', true],
  ['TEXT/HTML', true],
];
for (const [accept, html] of ACCEPT) {
  test(`Accept ${JSON.stringify(accept)} → ${html ? 'HTML' : 'JSON'}`, () => {
    assert.equal(prefersHtml(accept), html);
  });
}

test('the HTML page shows every figure and escapes text', () => {
  const s = createCounterState(0);
  recordStart(s);
  recordFinish(s, { status: 404, bytesIn: 0, bytesOut: 9, durationMs: 2, upstreamError: false });
  const page = formatStatsHtml(formatSnapshot(s, 5000));
  assert.match(page, /^<!doctype html>/);
  assert.match(page, /<th>requests\.total<\/th><td>1<\/td>/);
  assert.match(page, /<th>requests\.byStatus\.404<\/th><td>1<\/td>/);
  assert.match(page, /<th>bytes\.out<\/th><td>9<\/td>/);
  assert.match(page, /<th>startedAt<\/th><td>1970-01-01T00:00:00.000Z<\/td>/);
  assert.equal(escapeHtml(`<a href="x">'&`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
});
