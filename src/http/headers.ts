/** @module HeaderList: ordered [name, value] pairs with lowercase names, and the few operations on it. Pure; no I/O. */

/** Field names are lowercase; order and duplicates are kept as received (RFC 9110 §5.3). */
export type HeaderList = Array<[name: string, value: string]>;

/*
 * Sizes of the copies below. A list built as `[]` and push() gets room for 17 elements at its first push and half as
 * much again past that; a spread followed by one more element is copied twice. The head of a request is copied 6 to 8
 * times on its way (client list, hop-by-hop, Via, X-Forwarded-*, X-Request-Id, the flat arrays for undici and
 * writeHead), so each copy here is made at its final size: `slice(0, n)` of a list at least that long gives a packed
 * array of n elements to overwrite, `concat` one with the added fields (issue 13: bytes allocated per small request,
 * docs/performance.md fourth round).
 */

/** From Node's `rawHeaders` (alternating name, value). Names are lowercased; values kept as they are. */
export function fromRawHeaders(raw: readonly string[]): HeaderList {
  const n = raw.length >> 1;
  const out = raw.slice(0, n) as unknown as HeaderList; // (n slots, overwritten below: see "Sizes" above)
  for (let i = 0; i < n; i++) out[i] = [raw[2 * i]!.toLowerCase(), raw[2 * i + 1]!];
  return out;
}

/**
 * The list of a head a client library already parsed into an object (undici: lowercase names, latin1 values, a name
 * seen twice holding an array), when that object keeps every field in its order: `pairs` fields, none of them
 * repeated, none with an integer-like name (an object enumerates those first). null otherwise: read the raw pairs.
 * Spares decoding and lowercasing every raw name and value a second time (issue 18: about 5 µs per response).
 */
export function fromParsedHeaders(parsed: Readonly<Record<string, string | string[] | undefined>>, pairs: number): HeaderList | null {
  const out: HeaderList = [];
  for (const name in parsed) {
    const value = parsed[name];
    if (typeof value !== 'string') return null;
    const c = name.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) return null;
    out.push([name, value]);
  }
  return out.length === pairs ? out : null;
}

/** An HTTP/2 header object (lowercase names; a repeated field holds an array) as a list, in the object's order. */
export function fromHeaderObject(headers: Readonly<Record<string, string | string[] | undefined>>): HeaderList {
  const out: HeaderList = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || name.startsWith(':')) continue;
    if (typeof value === 'string') out.push([name, value]);
    else for (const v of value) out.push([name, v]);
  }
  return out;
}

/** First value of a field, or undefined. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i++) if (headers[i]![0] === name) return headers[i]![1];
  return undefined;
}

export function getAllHeaders(headers: HeaderList, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n === name) out.push(v);
  return out;
}

/** All values of a list-based field joined the way RFC 9110 §5.3 allows (`, `). */
export function getJoinedHeader(headers: HeaderList, name: string): string | undefined {
  const all = getAllHeaders(headers, name);
  return all.length === 0 ? undefined : all.join(', ');
}

export function hasHeader(headers: HeaderList, name: string): boolean {
  return getHeader(headers, name) !== undefined;
}

/** A copy without every field named in `names` (lowercase). */
export function withoutHeaders(headers: HeaderList, names: ReadonlySet<string> | readonly string[]): HeaderList {
  // the usual caller names one field (`expect`, the JWT header): compared as it is, no Set built per call
  if (!(names instanceof Set) && (names as readonly string[]).length === 1) {
    const only = (names as readonly string[])[0];
    return headers.filter(([n]) => n !== only);
  }
  const set = names instanceof Set ? names : new Set(names as readonly string[]);
  return headers.filter(([n]) => !set.has(n));
}

/** A copy where `name` has exactly the one given value (appended at the end if it was absent). */
export function withHeader(headers: HeaderList, name: string, value: string): HeaderList {
  let i = -1;
  for (let j = 0; j < headers.length; j++) if (headers[j]![0] === name) { i = j; break; }
  if (i < 0) return appendHeader(headers, name, value);
  const out: HeaderList = [];
  headers.forEach((h, j) => {
    if (h[0] !== name) out.push(h);
    else if (j === i) out.push([name, value]);
  });
  return out;
}

/** A copy with one more field appended. */
export function appendHeader(headers: HeaderList, name: string, value: string): HeaderList {
  return headers.concat([[name, value]]);
}

/** Flat [name, value, name, value, …] for `res.writeHead` / undici, which keep duplicates and order. */
export function toFlatHeaders(headers: HeaderList): string[] {
  const out = new Array<string>(2 * headers.length); // (filled below: no holes left)
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    out[2 * i] = h[0];
    out[2 * i + 1] = h[1];
  }
  return out;
}

/** Node's OutgoingHttpHeaders shape (duplicates become arrays). */
export function toHeaderObject(headers: HeaderList): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [n, v] of headers) {
    const prev = out[n];
    if (prev === undefined) out[n] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[n] = [prev, v];
  }
  return out;
}
