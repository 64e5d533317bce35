/** @module `ferry relay-client`: resolves flags into options and starts the role. */
import { UsageError } from '../../errors.ts';
import { createRelayClient } from '../../relay/relay-client.ts';
import { RELAY_PACE_BYTES, relayMajorThreshold } from '../../relay/relay-gc.ts';
import { chunkPayloadSize } from '../../relay/protocol.ts';
import { loadRelaySecret, resolveCommonRelayFlags } from '../../relay/relay-options.ts';
import { awsCredentialSource } from '../../relay/sigv4.ts';
import { listen, logListening } from '../../server/listen.ts';
import { createLogger, type LogLevel } from '../../server/logger.ts';
import { createScavengePacer } from '../../server/scavenge-pacer.ts';
import { onReloadSignal } from '../../server/reload-signal.ts';
import { onShutdownSignal } from '../../server/shutdown.ts';
import { reloadTls } from '../../server/tls-listener.ts';
import { resolveTlsListenerFlags, resolveUpstreamTlsFlags } from './tls-flags.ts';
import type { HostPort } from '../../util/units.ts';
import type { CliCommand } from '../command.ts';
import { effectiveConfig } from '../../admin/config-view.ts';
import { startRoleAdmin, withAdmin } from '../../admin/admin-server.ts';
import { RELAY_CLIENT_FLAGS } from './relay-flags.ts';

export const relayClientCommand: CliCommand = {
  spec: {
    name: 'relay-client',
    summary: 'Local HTTP proxy that carries HTTP and CONNECT traffic through a size-limited gateway in small signed chunks.',
    usage: 'ferry relay-client --gateway URL [--listen HOST:PORT] [flags]',
    flags: RELAY_CLIENT_FLAGS,
    examples: [
      'FERRY_RELAY_SECRET=$(cat secret) ferry relay-client --gateway https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      'ferry relay-client --gateway https://gw.example --secret-file relay.secret --sigv4 --region eu-west-1 --max-message 2MB',
      'curl -x http://127.0.0.1:8888 https://example.com/',
    ],
  },
  async run(flags, env) {
    const log = createLogger('relay-client', flags.logLevel as LogLevel);
    const common = resolveCommonRelayFlags(flags);
    const gateway = flags.gateway as URL | undefined;
    if (!gateway) throw new UsageError('relay-client needs --gateway URL (the gateway in front of relay-server)');
    if (gateway.protocol !== 'http:' && gateway.protocol !== 'https:') throw new UsageError('--gateway must be an http:// or https:// URL');
    const secret = loadRelaySecret(flags, env);
    const insecure = flags.insecureGatewayAuthOnly === true;
    if (!secret && !insecure) {
      throw new UsageError('relay-client needs the relay secret: --secret-file FILE or env FERRY_RELAY_SECRET (or --insecure-gateway-auth-only)');
    }
    let sigv4;
    if (flags.sigv4 === true) {
      const region = flags.region as string | undefined;
      if (!region) throw new UsageError('--sigv4 needs --region');
      sigv4 = { credentials: await awsCredentialSource(env), region, service: flags.service as string };
    }
    const retries = flags.retries as number;
    const tls = resolveTlsListenerFlags(flags, log);
    const gatewayTls = resolveUpstreamTlsFlags(flags, log);
    // the pacer's major-GC threshold follows the slabs the relay holds (relay-gc.ts); it runs only once bytes flow
    let lent = () => 0;
    const onBodyBytes = createScavengePacer(RELAY_PACE_BYTES, relayMajorThreshold(() => lent(), common.sessionMemory, 2 * common.window * chunkPayloadSize(common.maxMessage)));
    const client = createRelayClient({ ...common, statsPath: flags.adminListen !== undefined ? '' : common.statsPath, gateway, secret, sigv4, retries, log, tls, gatewayTls, onBodyBytes });
    lent = client.slabBytesLent;
    const address = await listen(client.server, flags.listen as HostPort);
    logListening(log, 'relay-client', address, { gateway: `${gateway.origin}${gateway.pathname}`, maxMessage: common.maxMessage, sigv4: sigv4 !== undefined });
    // --admin-listen: /stats, /metrics, /healthz, /readyz, /config there (admin/admin-server.ts)
    const adminAt = flags.adminListen as HostPort | undefined;
    const admin = adminAt === undefined ? null : await startRoleAdmin('relay-client', adminAt, {
      server: client.server, log, stats: () => client.stats(), config: () => effectiveConfig(relayClientCommand.spec, flags),
    });
    onShutdownSignal(log, withAdmin(client, admin), flags.shutdownGrace as number);
    if (tls) onReloadSignal('the TLS certificate files', () => { reloadTls(client.server); }, log);
  },
};
