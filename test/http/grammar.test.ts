import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isFieldValue, isToken } from '../../src/http/grammar.ts';

/** RFC 9110 §5.6.2, spelled out character by character (an independent reading of the ABNF). */
const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

describe('RFC 9110 grammar', () => {
  it('isToken: table', () => {
    const table: Array<[string, boolean]> = [
      ['content-type', true], ['X-Custom_1', true], ["!#$%&'*+-.^_`|~", true], ['GET', true], ['bytes', true],
      ['', false], ['a b', false], ['a:b', false], ['a\tb', false], ['"q"', false], ['a,b', false], ['(x)', false],
      ['a/b', false], ['a;b', false], ['a=b', false], ['{x}', false], ['[x]', false], ['a\\b', false], ['a@b', false],
      ['é', false], ['a\r\nb', false], ['a\0', false], ['a?', false], ['<x>', false],
    ];
    for (const [s, want] of table) assert.equal(isToken(s), want, JSON.stringify(s));
  });

  it('isFieldValue: table', () => {
    const table: Array<[string, boolean]> = [
      ['', true], ['text/html; charset=utf-8', true], ['a\tb', true], [' padded ', true], ['caf\xe9', true], ['\x80\xff', true],
      ['a\r\nb', false], ['a\rb', false], ['a\nb', false], ['a\0b', false], ['\x01', false], ['\x1f', false], ['\x7f', false],
      ['\u0100', false], ['😀', false],
    ];
    for (const [s, want] of table) assert.equal(isFieldValue(s), want, JSON.stringify(s));
  });

  it('isToken accepts exactly the non-empty strings of tchar', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (s) => {
      assert.equal(isToken(s), s.length > 0 && [...s].every((c) => TCHARS.includes(c)));
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 20 }), (s) => { assert.ok(isToken(s)); }));
  });

  it('isFieldValue accepts exactly HTAB, SP, VCHAR and obs-text, and a token is always a field value', () => {
    const allowed = (c: number) => c === 9 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 0x17f }), { maxLength: 16 }), (codes) => {
      assert.equal(isFieldValue(String.fromCharCode(...codes)), codes.every(allowed));
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1 }), (s) => { assert.ok(isFieldValue(s)); }));
  });
});
