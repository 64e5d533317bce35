/**
 * @module Active health checks of one pool (I/O around pool.ts): every `interval`, a GET of `path` on each target,
 * on a fresh connection (agent: false, so a check never rides on — nor keeps alive — a pooled request connection),
 * passing when the status is in the expected range before `timeout`. State changes are logged.
 */
import { http } from '../../http/node-http.ts';
import { loadHttps } from '../../http/lazy-builtins.ts';
import type { Logger } from '../../server/logger.ts';
import type { Pool } from './pool.ts';

/** One check: resolves true when the target answered a status in [lo, hi] within timeoutMs. Never rejects. */
export function probe(url: URL, timeoutMs: number, expect: readonly [number, number]): Promise<boolean> {
  return new Promise((resolve) => {
    const get = url.protocol === 'https:' ? loadHttps().get : http.get;
    const req = get(url, { agent: false, timeout: timeoutMs, headers: { 'user-agent': 'ferry-health-check', connection: 'close' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= expect[0] && status <= expect[1]);
    });
    req.on('timeout', () => req.destroy(new Error('health check timed out')));
    req.on('error', () => resolve(false));
  });
}

/** Start checking `pool` (no-op without a health section); returns the stop function. */
export function startHealthChecks(pool: Pool, log: Logger): () => void {
  const cfg = pool.config.health;
  if (cfg === null) return () => {};
  let stopped = false;
  let running = false;
  const round = async (): Promise<void> => {
    if (running) return; // a slow round (timeouts) never overlaps the next
    running = true;
    await Promise.all(pool.targets.map(async (t, i) => {
      const url = new URL(t.prefix + cfg.path, t.origin);
      const ok = await probe(url, cfg.timeoutMs, cfg.expect);
      if (stopped) return;
      const change = pool.check(i, ok);
      if (change === 'down') log.warn({ event: 'target-down', pool: pool.name, target: t.id }, `pool ${pool.name}: ${t.id} failed ${cfg.fall} health checks, out of rotation`);
      else if (change === 'up') log.info({ event: 'target-up', pool: pool.name, target: t.id }, `pool ${pool.name}: ${t.id} passed ${cfg.rise} health checks, back in rotation`);
    }));
    running = false;
  };
  const timer = setInterval(() => { void round(); }, cfg.intervalMs);
  timer.unref();
  void round();
  return () => { stopped = true; clearInterval(timer); };
}
