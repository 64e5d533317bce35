/** @module `ferry origin`: resolves flags into options and starts the role. */
import { FerryError } from '../../errors.ts';
import type { CliCommand } from '../command.ts';
import { ORIGIN_FLAGS } from './origin-flags.ts';

export const originCommand: CliCommand = {
  spec: {
    name: 'origin',
    summary: 'Demo application server: files under --root with full Range and conditional support, plus test endpoints (/echo, /headers, /bytes/N, /status/CODE, /delay/MS).',
    usage: 'ferry origin [--root DIR] [--listen HOST:PORT] [flags]',
    flags: ORIGIN_FLAGS,
  },
  async run() {
    throw new FerryError('FERRY_ERR_NOT_BUILT', 'ferry origin is not built yet', { source: 'config' });
  },
};
