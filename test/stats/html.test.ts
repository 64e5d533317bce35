import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, prefersEventStream, prefersHtml } from '../../src/stats/html.ts';

const ACCEPT: Array<[string | undefined, 'json' | 'html' | 'events']> = [
  [undefined, 'json'],
  ['*/*', 'json'],
  ['application/json', 'json'],
  ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'html'], // Firefox/Chrome
  ['text/html;q=0', 'json'],
  ['application/json, text/html;q=0.5', 'json'],
  ['text/html, application/json;q=0.5', 'html'],
  ['TEXT/HTML', 'html'],
  ['text/event-stream', 'events'], // EventSource
  ['text/event-stream;q=0.5, application/json', 'json'],
];
for (const [accept, want] of ACCEPT) {
  test(`Accept ${JSON.stringify(accept)} → ${want}`, () => {
    const got = prefersEventStream(accept) ? 'events' : prefersHtml(accept) ? 'html' : 'json';
    assert.equal(got, want);
  });
}

test('escapeHtml', () => {
  assert.equal(escapeHtml(`<a href="x">'&`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
});
