/** @module `ferry proxy`: resolves flags into options and starts the role. */
import { FerryError } from '../../errors.ts';
import type { CliCommand } from '../command.ts';
import { PROXY_FLAGS } from './proxy-flags.ts';

export const proxyCommand: CliCommand = {
  spec: {
    name: 'proxy',
    summary: 'Streaming reverse proxy to --upstream and/or forward proxy (--forward), with Range, JWT signing, statistics and an optional RFC 9111 cache.',
    usage: 'ferry proxy [--listen HOST:PORT] [--upstream URL] [--forward] [flags]',
    flags: PROXY_FLAGS,
  },
  async run() {
    throw new FerryError('FERRY_ERR_NOT_BUILT', 'ferry proxy is not built yet', { source: 'config' });
  },
};
