/** @module Entity tags (RFC 9110 §8.8.3): parsing lists, strong and weak comparison, formatting. Pure; no I/O. */

export interface EntityTag { weak: boolean; opaque: string }

export type ParsedTagList =
  | { kind: 'any' }
  | { kind: 'tags'; tags: EntityTag[] }
  | { kind: 'invalid' };

/** etagc = %x21 / %x23-7E / obs-text (§8.8.3). */
const ETAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

export function parseEntityTag(text: string): EntityTag | undefined {
  const m = ETAG.exec(text.trim());
  return m ? { weak: m[1] !== undefined, opaque: m[2]! } : undefined;
}

/** `If-Match` / `If-None-Match` value: `*` or 1#entity-tag (§13.1.1, §13.1.2). */
export function parseEntityTagList(value: string): ParsedTagList {
  if (value.trim() === '*') return { kind: 'any' };
  const tags: EntityTag[] = [];
  // Opaque tags cannot contain DQUOTE, so matching tags one at a time handles commas inside them.
  const re = /\s*(?:(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*)?(,|$)/gy;
  let at = 0;
  while (at < value.length) {
    re.lastIndex = at;
    const m = re.exec(value);
    if (!m || m[0] === '') return { kind: 'invalid' };
    if (m[2] !== undefined) tags.push({ weak: m[1] !== undefined, opaque: m[2] });
    at = re.lastIndex;
  }
  return tags.length > 0 ? { kind: 'tags', tags } : { kind: 'invalid' };
}

export function formatEntityTag(tag: EntityTag): string {
  return `${tag.weak ? 'W/' : ''}"${tag.opaque}"`;
}

/** §8.8.3.2: both strong and the same opaque string. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** §8.8.3.2: same opaque string, weakness ignored. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

/** A strong tag from a file's size and modification time (as nginx does): changes whenever either does. */
export function createFileEntityTag(size: number, mtimeMs: number): EntityTag {
  return { weak: false, opaque: `${Math.floor(mtimeMs).toString(16)}-${size.toString(16)}` };
}
