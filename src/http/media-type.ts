/** @module Content-Type from a file name's extension (RFC 9110 §8.3). Pure; no I/O. */

export const DEFAULT_MEDIA_TYPE = 'application/octet-stream';

const TEXT = 'charset=utf-8';
const BY_EXTENSION: Readonly<Record<string, string>> = {
  html: `text/html; ${TEXT}`, htm: `text/html; ${TEXT}`, css: `text/css; ${TEXT}`, txt: `text/plain; ${TEXT}`,
  md: `text/markdown; ${TEXT}`, csv: `text/csv; ${TEXT}`, xml: `application/xml`, js: `text/javascript; ${TEXT}`,
  mjs: `text/javascript; ${TEXT}`, json: 'application/json', map: 'application/json', wasm: 'application/wasm',
  svg: 'image/svg+xml', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', ico: 'image/x-icon', bmp: 'image/bmp', tif: 'image/tiff', tiff: 'image/tiff',
  mp4: 'video/mp4', webm: 'video/webm', mkv: 'video/x-matroska', mov: 'video/quicktime', avi: 'video/x-msvideo',
  mp3: 'audio/mpeg', ogg: 'audio/ogg', oga: 'audio/ogg', wav: 'audio/wav', flac: 'audio/flac', m4a: 'audio/mp4', aac: 'audio/aac',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip', tar: 'application/x-tar',
  bz2: 'application/x-bzip2', xz: 'application/x-xz', '7z': 'application/x-7z-compressed', iso: 'application/x-iso9660-image',
  bin: DEFAULT_MEDIA_TYPE, woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf',
  yaml: `application/yaml`, yml: `application/yaml`, m3u8: 'application/vnd.apple.mpegurl', ts: 'video/mp2t',
};

/** The media type for a path, by its last extension (case-insensitive); unknown → application/octet-stream. */
export function mediaTypeFor(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_MEDIA_TYPE;
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? DEFAULT_MEDIA_TYPE;
}
