/** @module `ferry origin`: resolves flags into options and starts the role. */
import { createOrigin } from '../../origin/create-origin.ts';
import type { DotfilesPolicy } from '../../origin/resolve-path.ts';
import { closeServer } from '../../server/http-server.ts';
import { listen, logListening } from '../../server/listen.ts';
import { createLogger, type LogLevel } from '../../server/logger.ts';
import { onReloadSignal } from '../../server/reload-signal.ts';
import { onShutdownSignal } from '../../server/shutdown.ts';
import { reloadTls } from '../../server/tls-listener.ts';
import { resolveTlsListenerFlags } from './tls-flags.ts';
import type { HostPort } from '../../util/units.ts';
import type { CliCommand } from '../command.ts';
import { ORIGIN_FLAGS } from './origin-flags.ts';
import { effectiveConfig } from '../../admin/config-view.ts';
import { processStats, startRoleAdmin, withAdmin } from '../../admin/admin-server.ts';

export const originCommand: CliCommand = {
  spec: {
    name: 'origin',
    summary: 'Demo application server: files under --root with full Range and conditional support, plus test endpoints (/echo, /headers, /bytes/N, /status/CODE, /delay/MS).',
    usage: 'ferry origin [--root DIR] [--listen HOST:PORT] [flags]',
    flags: ORIGIN_FLAGS,
    examples: [
      'ferry origin --root ./public',
      'ferry origin --listen 127.0.0.1:9000            # test endpoints only',
      'curl -r 0-99,200-299 http://127.0.0.1:8081/bytes/1000',
    ],
  },
  async run(flags) {
    const log = createLogger('origin', flags.logLevel as LogLevel);
    // A bad --root is a UsageError here, before anything listens (exit 2).
    const origin = createOrigin({
      ...(typeof flags.root === 'string' ? { root: flags.root } : {}),
      dotfiles: flags.dotfiles as DotfilesPolicy,
      maxRanges: flags.maxRanges as number,
      log,
    });
    const tls = resolveTlsListenerFlags(flags, log);
    const server = origin.createServer({ headersTimeoutMs: flags.headersTimeout as number, idleTimeoutMs: flags.idleTimeout as number, ...(tls ? { tls } : {}) });
    const address = await listen(server, flags.listen as HostPort);
    logListening(log, 'origin', address, { root: origin.root ?? null });
    // --admin-listen: /stats (process figures), /metrics, /healthz, /readyz, /config there (admin/admin-server.ts)
    const adminAt = flags.adminListen as HostPort | undefined;
    const admin = adminAt === undefined ? null : await startRoleAdmin('origin', adminAt, {
      server, log, stats: processStats('origin', Date.now()), config: () => effectiveConfig(originCommand.spec, flags),
    });
    onShutdownSignal(log, withAdmin({ close: () => closeServer(server), destroy: () => server.closeAllConnections() }, admin), flags.shutdownGrace as number);
    if (tls) onReloadSignal('the TLS certificate files', () => { reloadTls(server); }, log);
  },
};
