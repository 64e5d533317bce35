/**
 * @module JSON text written as bytes straight into a Buffer, for the access line (access-line.ts): each writer puts
 * its value at offset `o` and returns the offset after it; the caller has reserved room for the worst case (UTF-8
 * takes at most 3 bytes per UTF-16 unit, an escape 6 characters). Numbers and strings come out as JSON.stringify or
 * pino writes them, byte for byte (test/server/access-line.test.ts compares with pino). Pure.
 */

/**
 * pino's string escaping (lib/tools.js `asString`), kept identical so that the line is too: strings over 100
 * characters, or with a control character, through JSON.stringify; otherwise only `"` and `\` escaped.
 */
export function jsonString(str: string): string {
  const l = str.length;
  if (l > 100) return JSON.stringify(str);
  let result = '';
  let last = 0;
  let found = false;
  let point = 255;
  for (let i = 0; i < l && point >= 32; i++) {
    point = str.charCodeAt(i);
    if (point === 34 || point === 92) {
      result += `${str.slice(last, i)}\\`;
      last = i;
      found = true;
    }
  }
  result = found ? result + str.slice(last) : str;
  return point < 32 ? JSON.stringify(str) : `"${result}"`;
}

/**
 * A string inside a nested value, as JSON.stringify writes it (pino stringifies nested values; its own escaping of
 * top-level strings differs for lone surrogates): printable ASCII copied between quotes, anything else JSON.stringify's.
 */
export function putNestedString(buf: Buffer, o: number, s: string): number {
  if (!plainAscii(s)) return putText(buf, o, JSON.stringify(s));
  buf[o++] = 0x22;
  o = putAscii(buf, o, s);
  buf[o++] = 0x22;
  return o;
}

export const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

export function putBytes(buf: Buffer, o: number, bytes: Uint8Array): number {
  buf.set(bytes, o);
  return o + bytes.length;
}

/** A non-negative integer below 2^53 (written as its digits, as JSON and a template literal do). */
export function isDigits(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** True when JSON (and pino's escaping) leaves every character of `s` as it is and it is one byte in UTF-8. */
export function plainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Copies `s`, known to be ASCII, to `buf` at `o`; returns the offset after it. A short JS loop: cheaper than a Buffer#write call for the 5-40 characters of a field. */
export function putAscii(buf: Buffer, o: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[o++] = s.charCodeAt(i);
  return o;
}

/** `s` (JSON text already: the level prefix, time, bindings, tries) in UTF-8; ASCII copied, anything else encoded. */
export function putText(buf: Buffer, o: number, s: string): number {
  const start = o;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return start + buf.write(s, start, 'utf8');
    buf[o++] = c;
  }
  return o;
}

/** `s` as a JSON string the way pino writes it (jsonString): printable ASCII copied between quotes, else escaped and encoded. */
export function putString(buf: Buffer, o: number, s: string): number {
  const start = o;
  buf[o++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return start + buf.write(jsonString(s), start, 'utf8');
    buf[o++] = c;
  }
  buf[o++] = 0x22;
  return o;
}

/**
 * A number as JSON writes it: non-negative integers and the millisecond figures (three decimals at most) digit by
 * digit, non-finite numbers as null, anything else through its string.
 */
export function putNumber(buf: Buffer, o: number, n: number): number {
  if (isDigits(n)) return putDigits(buf, o, n);
  if (!Number.isFinite(n)) return putAscii(buf, o, 'null');
  // n = m / 1000 exactly (what round3 gives): "int.frac" with the fraction's trailing zeros dropped is the shortest
  // text that reads back as n, which is what Number#toString writes (below 1e12: no exponent, ulp far below 0.001)
  const m = Math.round(n * 1000);
  if (n > 0 && n < 1e12 && m / 1000 === n) {
    o = putDigits(buf, o, Math.floor(m / 1000));
    const frac = m % 1000; // 1-999 (n is not an integer): up to three digits, trailing zeros left out
    const hundreds = (frac / 100) | 0;
    const rest = frac - hundreds * 100;
    const tens = (rest / 10) | 0;
    const ones = rest - tens * 10;
    buf[o++] = 0x2e; // .
    buf[o++] = 0x30 + hundreds;
    if (rest !== 0) {
      buf[o++] = 0x30 + tens;
      if (ones !== 0) buf[o++] = 0x30 + ones;
    }
    return o;
  }
  return putAscii(buf, o, `${n}`);
}

/** The decimal digits of a non-negative safe integer. */
export function putDigits(buf: Buffer, o: number, n: number): number {
  let len = 1;
  for (let p = 10; p <= n; p *= 10) len++;
  const end = o + len;
  for (let i = end - 1; i >= o; i--) {
    // small integer arithmetic where it fits (the usual figures), a float division past 2^31
    const q = n <= 0x7fffffff ? (n / 10) | 0 : Math.floor(n / 10);
    buf[i] = 0x30 + (n - q * 10);
    n = q;
  }
  return end;
}
