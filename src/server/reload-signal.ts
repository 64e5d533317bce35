/**
 * @module The one owner of SIGHUP in a ferry process (docs/reload-admin.md "What SIGHUP reloads"): whatever reloads
 * on it — `ferry proxy`'s configuration (reload/config-reload.ts, which re-reads the TLS pairs with it), the TLS pairs
 * of origin and the relays, a `--workers` primary passing the signal on — registers here, and one process listener
 * runs them in the order they registered. Once anything has registered, SIGHUP never ends the process (Node's default
 * for it), also after every part has unregistered (a SIGHUP during a shutdown is then ignored).
 */
import type { Logger } from './logger.ts';

interface Entry {
  what: string;
  reload: () => Promise<unknown> | void;
  log: Logger | undefined;
}

const entries: Entry[] = [];
let installed = false;

function onSighup(): void {
  for (const e of [...entries]) {
    e.log?.info({ event: 'reload', signal: 'SIGHUP', pid: process.pid, reloads: e.what }, `SIGHUP: reloading ${e.what}`);
    try {
      Promise.resolve(e.reload()).catch((err: unknown) => e.log?.warn({ event: 'reload', reloads: e.what, err }, `reloading ${e.what} failed; previous one kept`));
    } catch (err) {
      e.log?.warn({ event: 'reload', reloads: e.what, err }, `reloading ${e.what} failed; previous one kept`);
    }
  }
}

/**
 * Run `reload` on every SIGHUP; `what` names what it reloads in the log line (`log` given: one `"event":"reload"`
 * line per signal; a part that only passes the signal on gives none). Returns the function that unregisters it.
 */
export function onReloadSignal(what: string, reload: () => Promise<unknown> | void, log?: Logger): () => void {
  const entry: Entry = { what, reload, log };
  entries.push(entry);
  if (!installed) { installed = true; process.on('SIGHUP', onSighup); }
  return () => { const i = entries.indexOf(entry); if (i >= 0) entries.splice(i, 1); };
}
