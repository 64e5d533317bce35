/**
 * @module undici's Agent loaded from its own file, without undici's index: the index also loads fetch, WebSocket,
 * EventSource, the HTTP cache, the mocks and the interceptors (109 files, 1.3 MB of source at ferry proxy's start),
 * none of which the proxy's default upstream path uses. Measured: ferry proxy idle RSS −2.5 MiB (docs/performance.md,
 * "Idle memory"). The index is still loaded, on first use, where its side effect is needed: it attaches
 * request/stream/connect to every dispatcher (`Object.assign(Dispatcher.prototype, api)`), and ProxyAgent's CONNECT
 * tunnel calls `connect` on its client, so `--upstream-proxy` takes the whole of undici.
 * undici has no `exports` map, so its files can be required by path; test/proxy/lean-loading.test.ts fails if the
 * file moves or stops being the index's Agent.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

/** The class `import { Agent } from 'undici'` gives (the same object: one module cache). */
export const Agent: typeof Undici.Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;

/** The whole of undici, loaded on the first call (for ProxyAgent and EnvHttpProxyAgent, see the module comment). */
export function fullUndici(): typeof Undici {
  return require('undici') as typeof Undici;
}
