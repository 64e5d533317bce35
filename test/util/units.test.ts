import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseHostPort, parseSize } from '../../src/util/units.ts';

const DURATIONS: Array<[string, number | null]> = [
  ['250ms', 250], ['2s', 2000], ['5m', 300_000], ['1h', 3_600_000], ['1.5s', 1500], ['0', 0],
  ['10', null], ['s', null], ['-1s', null], ['2 days', null],
];
for (const [text, expected] of DURATIONS) {
  test(`duration "${text}" → ${expected}`, () => {
    const r = parseDuration(text);
    if (expected === null) assert.equal(r.ok, false);
    else assert.deepEqual(r, { ok: true, value: expected });
  });
}

const SIZES: Array<[string, number | null]> = [
  ['512', 512], ['16KiB', 16384], ['1MiB', 1048576], ['2MB', 2_000_000], ['1gib', 1024 ** 3], ['1.5KiB', 1536],
  ['', null], ['12XB', null], ['-5', null],
];
for (const [text, expected] of SIZES) {
  test(`size "${text}" → ${expected}`, () => {
    const r = parseSize(text);
    if (expected === null) assert.equal(r.ok, false);
    else assert.deepEqual(r, { ok: true, value: expected });
  });
}

const ADDRESSES: Array<[string, { host: string; port: number } | null]> = [
  ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }], ['[::1]:0', { host: '::1', port: 0 }],
  [':9090', { host: '127.0.0.1', port: 9090 }], ['8081', { host: '127.0.0.1', port: 8081 }],
  ['localhost:70000', null], ['host', null], ['a b:80', null],
];
for (const [text, expected] of ADDRESSES) {
  test(`address "${text}"`, () => {
    const r = parseHostPort(text);
    if (expected === null) assert.equal(r.ok, false);
    else assert.deepEqual(r, { ok: true, value: expected });
  });
}
