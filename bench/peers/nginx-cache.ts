/**
 * @module nginx `proxy_cache` as the reference of the cache benchmark's hit scenario (issue 18), when nginx is
 * installed: one process, pinned like the Node candidates, access log off, an in-memory-sized keys zone and a cache
 * directory in a temporary dir (nginx's cache is files served through the page cache: on a hit it opens and sends the
 * file). Responses are cached as their Cache-Control says, as ferry does. `/ref` answers 1 KiB from memory: the
 * cheapest answer there is, so its req/s is the load generator's ceiling (the bench's same-run reference).
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installed, nginxPreamble, startWith } from './native-proxies.ts';

function config(dir: string, port: number, upstream: URL): string {
  return `${nginxPreamble(dir, upstream, `  proxy_cache_path ${dir}/cache keys_zone=ferrybench:16m max_size=64m;\n`)}  server {
    listen 127.0.0.1:${port};
    # The same-run reference of the load generator's ceiling: a 1 KiB answer from memory, no upstream, no cache.
    location = /ref { default_type text/plain; return 200 "${'x'.repeat(1024)}"; }
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache ferrybench;
      proxy_cache_revalidate on;
    }
  }
}
`;
}

/** Null when nginx is not installed. */
export function nginxCache(): { start(upstream: string, cpu: string): Promise<{ proc: ChildProcess; url: string }> } | null {
  if (!installed('nginx')) return null;
  return {
    start: (upstream, cpu) => startWith('nginx proxy_cache', cpu, (dir, port) => {
      writeFileSync(join(dir, 'nginx.conf'), config(dir, port, new URL(upstream)));
      return ['nginx', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')];
    }),
  };
}
