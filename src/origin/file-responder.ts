/**
 * @module Files under the root: path checks, symlink containment, then the representation with
 * validators and ranges. Checklist, in order: decode + refuse escapes (resolve-path) → realpath
 * inside the real root → open without following a last-moment symlink → regular file or directory.
 */
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { createFileEntityTag } from '../http/etag.ts';
import { mediaTypeFor } from '../http/media-type.ts';
import { drain, replyText, type EndpointContext } from './endpoints/context.ts';
import { isDotfile, isInside, joinUnderRoot, resolveRequestPath, type DotfilesPolicy } from './resolve-path.ts';
import { sendRepresentation } from './send-representation.ts';

const MAX_LISTING_ENTRIES = 1000;

/** What is served: `root` is already realpath'd (undefined: an empty directory). */
export interface FileSite { root: string | undefined; dotfiles: DotfilesPolicy }

/** Serve the file the request names under the site's root, or 404/403/405. */
export async function serveFile(req: IncomingMessage, res: ServerResponse, site: FileSite, ctx: EndpointContext): Promise<void> {
  const realRoot = site.root;
  drain(req);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    replyText(req, res, 405, 'files answer GET and HEAD only\n', { allow: 'GET, HEAD' });
    return;
  }
  const resolved = resolveRequestPath(req.url ?? '/', site.dotfiles);
  if (resolved.kind === 'refused') {
    ctx.note.refused = resolved.reason;
    replyText(req, res, resolved.status, resolved.status === 400 ? 'bad request path\n' : 'not found\n');
    return;
  }
  if (realRoot === undefined) { // no --root: an empty directory
    if (resolved.segments.length === 0) { replyText(req, res, 200, listingText([])); return; }
    replyText(req, res, 404, 'not found\n');
    return;
  }
  const candidate = joinUnderRoot(realRoot, resolved.segments);
  let real: string | undefined;
  try {
    real = candidate === undefined ? undefined : await fsp.realpath(candidate);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') { replyText(req, res, 403, 'forbidden\n'); return; }
    replyText(req, res, 404, 'not found\n');
    return;
  }
  // A symlink may point anywhere; only what really lies under the root is served.
  if (real === undefined || !isInside(realRoot, real)) {
    ctx.note.refused = 'outside the root';
    replyText(req, res, 404, 'not found\n');
    return;
  }
  let fh: FileHandle;
  try {
    fh = await fsp.open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    replyText(req, res, code === 'EACCES' ? 403 : 404, code === 'EACCES' ? 'forbidden\n' : 'not found\n');
    return;
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) {
      await fh.close().catch(() => {});
      await serveDirectory(req, res, real, site, ctx);
      return;
    }
    if (!st.isFile()) { replyText(req, res, 404, 'not found\n'); return; }
    await sendRepresentation(req, res, {
      size: st.size,
      contentType: mediaTypeFor(real),
      etag: createFileEntityTag(st.size, st.mtimeMs),
      lastModifiedMs: st.mtimeMs,
      // One descriptor for every part: positional reads, closed once below.
      open: (r) => fh.createReadStream({ start: r.first, end: r.last, autoClose: false }),
    }, ctx);
  } finally {
    await fh.close().catch(() => {});
  }
}

/** A directory: its index.html if there is one, else a plain listing. */
async function serveDirectory(req: IncomingMessage, res: ServerResponse, dir: string, site: FileSite, ctx: EndpointContext): Promise<void> {
  const pathname = (req.url ?? '/').split('?')[0] ?? '/';
  if (!pathname.endsWith('/')) { // relative links in the page need the slash
    res.writeHead(301, { location: `${pathname}/`, 'content-length': '0' });
    res.end();
    return;
  }
  const index = path.join(dir, 'index.html');
  const hasIndex = await fsp.stat(index).then((s) => s.isFile(), () => false);
  if (hasIndex) {
    req.url = `${pathname}index.html`;
    await serveFile(req, res, site, ctx);
    return;
  }
  // A hidden name must not be listed either: the listing would tell what the 404 hides.
  const entries = (await fsp.readdir(dir, { withFileTypes: true }))
    .filter((e) => site.dotfiles === 'allow' || !isDotfile(e.name))
    .slice(0, MAX_LISTING_ENTRIES);
  replyText(req, res, 200, listingText(entries.map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort()));
}

function listingText(names: readonly string[]): string {
  return [
    ...names,
    ...(names.length ? [''] : []),
    'test endpoints: /echo  /headers  /bytes/N  /status/CODE  /delay/MS',
    '',
  ].join('\n');
}
