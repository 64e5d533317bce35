/**
 * @module createOrigin(): the demo application server as a library — a node:http request handler
 * (usable with Express/Fastify too) and a server factory. The CLI (`ferry origin`) is a thin shell over it.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { UsageError } from '../errors.ts';
import { logAccess } from '../server/access-log.ts';
import { createHardenedServer, DEFAULT_MAX_HEADERS_COUNT, type HardenedServerOptions } from '../server/http-server.ts';
import { createSilentLogger, type Logger } from '../server/logger.ts';
import { MAX_RANGES } from '../http/range.ts';
import { bytesEndpoint } from './endpoints/bytes.ts';
import { replyText, type Endpoint, type EndpointContext } from './endpoints/context.ts';
import { delayEndpoint } from './endpoints/delay.ts';
import { echoEndpoint } from './endpoints/echo.ts';
import { headersEndpoint } from './endpoints/headers.ts';
import { statusEndpoint } from './endpoints/status.ts';
import { serveFile } from './file-responder.ts';
import { DOTFILES_POLICIES, toOriginForm, type DotfilesPolicy } from './resolve-path.ts';

export const DEFAULT_MAX_DELAY_MS = 600_000;

export interface OriginOptions {
  /** Directory whose files are served; unset: an empty directory (test endpoints only). */
  root?: string;
  /** `deny` (default): names starting with a dot (`.env`, `.git/…`) answer 404 and are not listed; `allow` serves them. */
  dotfiles?: DotfilesPolicy;
  /** Most ranges honoured in one Range header; more → the whole body (default 100). */
  maxRanges?: number;
  /** Longest /delay/MS accepted (default 10 minutes). */
  maxDelayMs?: number;
  /** Access lines and errors go here (default: silent). */
  log?: Logger;
  /** More request header fields than this → 431 (default 100, RELIABILITY R2). */
  maxHeadersCount?: number;
  /** Randomness for multipart boundaries (default: Web Crypto). */
  randomBytes?: (n: number) => Uint8Array;
}

export interface Origin {
  /** `(req, res) => void` for node:http, or Express/Fastify raw handlers. Logs one access line per request. */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** A hardened node:http server running the handler (not yet listening). */
  createServer(options?: Partial<HardenedServerOptions>): Server;
  /** The real path of the root, or undefined when serving the empty directory. */
  readonly root: string | undefined;
}

/** The real path of a root directory that can be listed and read, or a UsageError saying what is wrong. */
export function checkRootDirectory(root: string): string {
  let real: string;
  try {
    real = realpathSync(root);
    if (!statSync(real).isDirectory()) throw new UsageError(`--root ${root}: not a directory`);
    accessSync(real, constants.R_OK | constants.X_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code ?? String(err);
    throw new UsageError(`--root ${root}: ${why}`);
  }
  return real;
}

const ROUTES: ReadonlyArray<[prefix: string, exact: boolean, endpoint: Endpoint]> = [
  ['/echo', true, echoEndpoint],
  ['/headers', true, headersEndpoint],
  ['/bytes/', false, bytesEndpoint],
  ['/status/', false, statusEndpoint],
  ['/delay/', false, delayEndpoint],
];

/** Bytes read/written on a socket up to the end of its previous request (keep-alive reuses sockets). */
const seen = new WeakMap<Socket, { read: number; written: number }>();

export function createOrigin(options: OriginOptions = {}): Origin {
  const root = options.root === undefined ? undefined : checkRootDirectory(options.root);
  const dotfiles = options.dotfiles ?? 'deny';
  // A typo (`'alow'`) from untyped JavaScript must not silently mean either policy.
  if (!DOTFILES_POLICIES.includes(dotfiles)) throw new UsageError(`dotfiles: "${String(dotfiles)}" is not one of ${DOTFILES_POLICIES.join(', ')}`);
  const log = options.log ?? createSilentLogger();
  const maxRanges = options.maxRanges ?? MAX_RANGES;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const maxHeadersCount = options.maxHeadersCount ?? DEFAULT_MAX_HEADERS_COUNT;

  async function route(req: IncomingMessage, res: ServerResponse, ctx: EndpointContext): Promise<void> {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    for (const [prefix, exact, endpoint] of ROUTES) {
      if (exact ? pathname === prefix : pathname.startsWith(prefix)) {
        await endpoint(req, res, exact ? '' : pathname.slice(prefix.length), ctx);
        return;
      }
    }
    await serveFile(req, res, { root, dotfiles }, ctx);
  }

  function handler(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const target = req.url ?? '';
    req.url = toOriginForm(target);
    const socket = req.socket;
    const before = seen.get(socket) ?? { read: 0, written: 0 };
    const ctx: EndpointContext = { maxRanges, maxDelayMs, log, note: {}, ...(options.randomBytes ? { randomBytes: options.randomBytes } : {}) };
    res.once('close', () => {
      const now = { read: socket.bytesRead, written: socket.bytesWritten };
      seen.set(socket, now);
      const aborted = !res.writableFinished;
      logAccess(log, {
        requestId: randomUUID(),
        method: req.method ?? '',
        path: target,
        status: res.statusCode,
        bytesIn: now.read - before.read,
        bytesOut: now.written - before.written,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        ...(socket.remoteAddress ? { clientAddress: socket.remoteAddress } : {}),
        ...ctx.note,
        ...(aborted && ctx.note.error === undefined ? { error: 'connection closed before the response was complete' } : {}),
      });
    });
    if (req.rawHeaders.length / 2 > maxHeadersCount) {
      // Node would silently drop the fields past its limit; say so instead (RELIABILITY R2, S12).
      ctx.note.refused = `more than ${maxHeadersCount} header fields`;
      res.shouldKeepAlive = false;
      replyText(req, res, 431, 'too many header fields\n');
      return;
    }
    route(req, res, ctx).catch((err: unknown) => {
      ctx.note.error = (err as Error).message ?? String(err);
      if (!res.headersSent) {
        log.error({ err, path: req.url }, 'origin handler failed');
        replyText(req, res, 500, 'internal error\n');
      } else {
        res.destroy(); // never let a broken body look complete
      }
    });
  }

  return {
    handler,
    root,
    // One field more than allowed reaches the handler, so an excess is seen and refused rather than truncated.
    createServer: (serverOptions = {}) => createHardenedServer(handler, { log, ...serverOptions, maxHeadersCount: maxHeadersCount + 1 }),
  };
}
