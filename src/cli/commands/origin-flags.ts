/** @module The flag table of `ferry origin`. */
import { DOTFILES_POLICIES } from '../../origin/resolve-path.ts';
import { TLS_LISTENER_FLAGS } from './tls-flags.ts';
import type { FlagSpec } from '../flags.ts';

export const ORIGIN_FLAGS: readonly FlagSpec[] = [
  { name: 'listen', type: 'hostport', help: 'address to listen on', default: '127.0.0.1:8081', placeholder: 'HOST:PORT' },
  { name: 'root', type: 'path', help: 'directory whose files are served (unset: an empty directory, test endpoints only)', placeholder: 'DIR' },
  { name: 'dotfiles', type: 'enum', help: 'names starting with a dot (.env, .git/): deny answers 404 and hides them from listings, allow serves them', default: 'deny', choices: DOTFILES_POLICIES },
  { name: 'max-ranges', type: 'int', help: 'most ranges honoured in one Range header (more: the whole body)', default: '100' },
  { name: 'headers-timeout', type: 'duration', help: 'time a client has to send the whole request head', default: '20s' },
  { name: 'idle-timeout', type: 'duration', help: 'idle time allowed on a client connection', default: '60s' },
  { name: 'admin-listen', type: 'hostport', help: 'serve /stats, /metrics, /healthz, /readyz and /config on this separate address (unset: none)', placeholder: 'HOST:PORT' },
  { name: 'shutdown-grace', type: 'duration', help: 'time in-flight requests get to finish on SIGINT/SIGTERM', default: '10s' },
  ...TLS_LISTENER_FLAGS,
];
