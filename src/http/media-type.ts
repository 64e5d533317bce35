/**
 * @module Content-Type from a file name's extension (RFC 9110 §8.3), from the `mime-types` database (IANA, Apache and
 * nginx types: `.mpd`, `.m4s`, `.vtt`, `.opus`, ... included). Text types carry `charset=utf-8`, as the origin has
 * always sent them; other types carry no parameter. Pure; no I/O.
 */
import { lookup } from 'mime-types';

export const DEFAULT_MEDIA_TYPE = 'application/octet-stream';

/** The media type for a path, by its last extension (case-insensitive); none or unknown → application/octet-stream. */
export function mediaTypeFor(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_MEDIA_TYPE; // no extension, or a dotfile such as .bashrc
  const type = lookup(name.slice(dot + 1).toLowerCase());
  if (type === false) return DEFAULT_MEDIA_TYPE;
  return type.startsWith('text/') ? `${type}; charset=utf-8` : type;
}
