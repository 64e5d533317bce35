/**
 * @module node:tls, node:https and node:http2 loaded on first use. A proxy with the defaults (plain listener, plain
 * upstreams, no `--h2c`) needs none of them, and loading them costs RSS at rest: on a bare Node 24 that already has
 * node:http and node:crypto, node:tls +2.8 MiB and node:http2 (which loads node:tls) +4.3 MiB (docs/performance.md,
 * "Idle RSS, sixth round"). The modules that serve TLS, HTTP/2 or HTTPS upstreams call these when they set one up, so
 * the cost moves to the roles that use them. Type-only imports of the three stay as they are (erased);
 * test/proxy/lean-loading.test.ts keeps value imports of them out of src/ and checks that a default proxy leaves them
 * unloaded.
 */
import { createRequire } from 'node:module';

type Tls = typeof import('node:tls');
type Https = typeof import('node:https');
type Http2 = typeof import('node:http2');

const require = createRequire(import.meta.url);
let tls: Tls | undefined;
let https: Https | undefined;
let http2: Http2 | undefined;

export function loadTls(): Tls {
  return tls ??= require('node:tls') as Tls;
}

export function loadHttps(): Https {
  return https ??= require('node:https') as Https;
}

export function loadHttp2(): Http2 {
  return http2 ??= require('node:http2') as Http2;
}
