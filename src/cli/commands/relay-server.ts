/** @module `ferry relay-server`: resolves flags into options and starts the role. */
import { UsageError } from '../../errors.ts';
import { MemorySessionStore } from '../../relay/memory-session-store.ts';
import { isRedisUrl, parseRedisUrl, REDIS_URL_FORMS } from '../../util/redis-url.ts';
import { RELAY_PACE_BYTES, relayMajorThreshold } from '../../relay/relay-gc.ts';
import { chunkPayloadSize } from '../../relay/protocol.ts';
import { createRelayServer } from '../../relay/relay-server.ts';
import { loadRelaySecret, resolveCommonRelayFlags } from '../../relay/relay-options.ts';
import type { SessionStore } from '../../relay/session-store.ts';
import { listen, logListening } from '../../server/listen.ts';
import { createLogger, type LogLevel } from '../../server/logger.ts';
import { createScavengePacer } from '../../server/scavenge-pacer.ts';
import { onReloadSignal } from '../../server/reload-signal.ts';
import { onShutdownSignal } from '../../server/shutdown.ts';
import { reloadTls } from '../../server/tls-listener.ts';
import { resolveTlsListenerFlags } from './tls-flags.ts';
import type { HostPort } from '../../util/units.ts';
import type { CliCommand } from '../command.ts';
import { effectiveConfig } from '../../admin/config-view.ts';
import { startRoleAdmin, withAdmin } from '../../admin/admin-server.ts';
import { RELAY_SERVER_FLAGS } from './relay-flags.ts';

export const relayServerCommand: CliCommand = {
  spec: {
    name: 'relay-server',
    summary: 'Far end of the relay, behind the gateway: reassembles chunked traffic and talks to the real targets.',
    usage: 'ferry relay-server [--listen HOST:PORT] [--store memory|redis://...] [flags]',
    flags: RELAY_SERVER_FLAGS,
    examples: [
      'FERRY_RELAY_SECRET=$(cat secret) ferry relay-server --listen 0.0.0.0:9090',
      'ferry relay-server --secret-file /etc/ferry/relay.secret --store redis://10.0.0.7:6379 --connect-ports 443',
    ],
  },
  async run(flags, env) {
    const log = createLogger('relay-server', flags.logLevel as LogLevel);
    const common = resolveCommonRelayFlags(flags);
    const secret = loadRelaySecret(flags, env);
    const insecure = flags.insecureGatewayAuthOnly === true;
    if (!secret && !insecure) {
      throw new UsageError('relay-server needs a secret: --secret-file FILE or env FERRY_RELAY_SECRET (or --insecure-gateway-auth-only when the gateway alone authenticates)');
    }
    if (!secret) log.warn({ event: 'relay-insecure' }, 'no relay secret: relay messages are NOT authenticated by ferry (--insecure-gateway-auth-only)');
    const ports = flags.connectPorts as string[] | undefined;
    let connectPorts: number[] | undefined;
    if (ports !== undefined && ports.length > 0) {
      connectPorts = ports.map((p) => {
        if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new UsageError(`--connect-ports: "${p}" is not a port`);
        return Number(p);
      });
    }
    const tls = resolveTlsListenerFlags(flags, log); // before the store connects: a bad pair is a usage error
    const storeSpec = flags.store as string;
    let store: SessionStore;
    if (storeSpec === 'memory') store = new MemorySessionStore({ ttlMs: common.sessionTtlMs });
    else if (isRedisUrl(storeSpec)) {
      const parsed = parseRedisUrl(storeSpec);
      if (!parsed.ok) throw new UsageError(`--store ${storeSpec.replace(/\/\/[^@/]*@/, '//***@')}: ${parsed.reason}`);
      // loaded only here: the memory store's relay-server never loads ioredis (util/redis-url.ts)
      const { RedisSessionStore } = await import('../../relay/redis-session-store.ts');
      try { store = await RedisSessionStore.connect(storeSpec, common.sessionTtlMs, { log }); } catch (err) {
        throw new UsageError(`--store ${storeSpec.replace(/\/\/[^@/]*@/, '//***@')}: cannot connect to Redis (${(err as Error).message})`);
      }
    } else throw new UsageError(`--store must be "memory" or a Redis URL (${REDIS_URL_FORMS}), not "${storeSpec}"`);
    // the pacer's major-GC threshold follows the slabs the relay holds (relay-gc.ts); it runs only once bytes flow
    let lent = () => 0;
    const relay = createRelayServer({
      ...common, statsPath: flags.adminListen !== undefined ? '' : common.statsPath, store, secret, insecureGatewayAuthOnly: insecure, connectPorts, log, tls,
      onBodyBytes: createScavengePacer(RELAY_PACE_BYTES, relayMajorThreshold(() => lent(), common.sessionMemory, 2 * common.window * chunkPayloadSize(common.maxMessage))),
    });
    lent = relay.slabBytesLent;
    const address = await listen(relay.server, flags.listen as HostPort);
    logListening(log, 'relay-server', address, { store: store.kind, maxMessage: common.maxMessage, authenticated: secret !== undefined });
    // --admin-listen: /stats, /metrics, /healthz, /readyz, /config there (admin/admin-server.ts)
    const adminAt = flags.adminListen as HostPort | undefined;
    const admin = adminAt === undefined ? null : await startRoleAdmin('relay-server', adminAt, {
      server: relay.server, log, stats: () => relay.stats(), config: () => effectiveConfig(relayServerCommand.spec, flags),
    });
    onShutdownSignal(log, withAdmin(relay, admin), flags.shutdownGrace as number);
    if (tls) onReloadSignal('the TLS certificate files', () => { reloadTls(relay.server); }, log);
  },
};
