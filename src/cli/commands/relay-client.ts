/** @module `ferry relay-client`: resolves flags into options and starts the role. */
import { FerryError } from '../../errors.ts';
import type { CliCommand } from '../command.ts';
import { RELAY_CLIENT_FLAGS } from './relay-flags.ts';

export const relayClientCommand: CliCommand = {
  spec: {
    name: 'relay-client',
    summary: 'Local HTTP proxy that carries HTTP and CONNECT traffic through a size-limited gateway in small signed chunks.',
    usage: 'ferry relay-client --gateway URL [--listen HOST:PORT] [flags]',
    flags: RELAY_CLIENT_FLAGS,
  },
  async run() {
    throw new FerryError('FERRY_ERR_NOT_BUILT', 'ferry relay-client is not built yet', { source: 'config' });
  },
};
