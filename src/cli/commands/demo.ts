/** @module `ferry demo`: an origin with a generated sample file and a proxy in front of it, plus curl commands to try. */
import { FerryError } from '../../errors.ts';
import type { CliCommand } from '../command.ts';

export const demoCommand: CliCommand = {
  spec: {
    name: 'demo',
    summary: 'Origin + proxy together (stats and JWT on), ready to try with curl; what `npm start` runs.',
    usage: 'ferry demo [--listen HOST:PORT] [--origin-listen HOST:PORT] [flags]',
    flags: [
      { name: 'listen', type: 'hostport', help: 'address of the proxy', default: '127.0.0.1:8080', placeholder: 'HOST:PORT' },
      { name: 'origin-listen', type: 'hostport', help: 'address of the origin', default: '127.0.0.1:8081', placeholder: 'HOST:PORT' },
      { name: 'sample-size', type: 'size', help: 'size of the generated sample file', default: '100MiB' },
      { name: 'data-dir', type: 'path', help: 'folder for the sample file (made once, reused)', placeholder: 'DIR' },
    ],
  },
  async run() {
    throw new FerryError('FERRY_ERR_NOT_BUILT', 'ferry demo is not built yet', { source: 'config' });
  },
};
