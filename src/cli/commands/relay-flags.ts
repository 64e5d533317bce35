/** @module The flag tables of `ferry relay-client` and `ferry relay-server`. */
import type { FlagSpec } from '../flags.ts';
import { TLS_LISTENER_FLAGS, UPSTREAM_TLS_FLAGS } from './tls-flags.ts';

const SHARED: readonly FlagSpec[] = [
  { name: 'max-message', type: 'size', help: 'largest relay HTTP message, head and body included', default: '1MiB' },
  { name: 'secret-file', type: 'path', help: 'file holding the shared HMAC-SHA256 secret, at least 16 bytes (or env FERRY_RELAY_SECRET; never on the command line)', placeholder: 'FILE' },
  { name: 'session-ttl', type: 'duration', help: 'idle time after which a session and its resources are freed', default: '5m' },
  { name: 'poll-timeout', type: 'duration', help: 'longest a long poll for response data waits (keep under the gateway timeout)', default: '20s' },
  { name: 'stats-path', type: 'string', help: 'path of the JSON statistics page ("" disables)', default: '/stats', placeholder: 'PATH' },
  { name: 'window', type: 'int', help: 'chunks in flight (client) or held unconfirmed (server) per direction and session, to start with and at least', default: '4' },
  { name: 'session-memory', type: 'size', help: 'chunk bytes one session may hold, both directions: bounds the window, which adapts to round trip and throughput', default: '32MiB' },
  { name: 'insecure-gateway-auth-only', type: 'bool', help: 'run without a relay secret, trusting the gateway alone to authenticate (insecure)', default: false },
  { name: 'admin-listen', type: 'hostport', help: 'serve /stats, /metrics, /healthz, /readyz and /config on this separate address ; the listener then answers /stats like any request (unset: /stats on the listener)', placeholder: 'HOST:PORT' },
  { name: 'shutdown-grace', type: 'duration', help: 'time in-flight requests get to finish on SIGINT/SIGTERM', default: '10s' },
];

export const RELAY_SERVER_FLAGS: readonly FlagSpec[] = [
  { name: 'listen', type: 'hostport', help: 'address the gateway reaches the relay server on', default: '127.0.0.1:9090', placeholder: 'HOST:PORT' },
  { name: 'store', type: 'string', help: 'session store: memory, or redis://HOST:PORT (also redis-sentinel://HOST:PORT[,…]/MASTER, redis-cluster://HOST:PORT[,…]) to share sessions between instances', default: 'memory', placeholder: 'STORE' },
  { name: 'connect-ports', type: 'list', help: 'ports CONNECT may reach (unset: any)', placeholder: 'PORTS' },
  ...SHARED,
  ...TLS_LISTENER_FLAGS,
];

export const RELAY_CLIENT_FLAGS: readonly FlagSpec[] = [
  { name: 'listen', type: 'hostport', help: 'address applications use as their HTTP proxy', default: '127.0.0.1:8888', placeholder: 'HOST:PORT' },
  { name: 'gateway', type: 'url', help: 'URL of the gateway in front of the relay server (required)', placeholder: 'URL' },
  { name: 'retries', type: 'int', help: 'retries of one relay message (after the first attempt, exponential backoff) before the transfer fails', default: '5' },
  { name: 'sigv4', type: 'bool', help: 'sign relay messages with AWS SigV4 (credentials from the standard environment/profile chain)', default: false },
  { name: 'region', type: 'string', help: 'AWS region for --sigv4', placeholder: 'REGION' },
  { name: 'service', type: 'string', help: 'AWS service name for --sigv4', default: 'execute-api', placeholder: 'NAME' },
  ...SHARED,
  ...TLS_LISTENER_FLAGS,
  // the gateway, when it is https:// (verified against the default CAs unless told otherwise)
  ...UPSTREAM_TLS_FLAGS,
];
