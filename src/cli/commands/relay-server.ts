/** @module `ferry relay-server`: resolves flags into options and starts the role. */
import { FerryError } from '../../errors.ts';
import type { CliCommand } from '../command.ts';
import { RELAY_SERVER_FLAGS } from './relay-flags.ts';

export const relayServerCommand: CliCommand = {
  spec: {
    name: 'relay-server',
    summary: 'Far end of the relay, behind the gateway: reassembles chunked traffic and talks to the real targets.',
    usage: 'ferry relay-server [--listen HOST:PORT] [--store memory|redis://...] [flags]',
    flags: RELAY_SERVER_FLAGS,
  },
  async run() {
    throw new FerryError('FERRY_ERR_NOT_BUILT', 'ferry relay-server is not built yet', { source: 'config' });
  },
};
