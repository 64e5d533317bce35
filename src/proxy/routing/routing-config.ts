/**
 * @module The `routes`, `pools` and `pool-defaults` sections of a config file, validated: every problem is a
 * UsageError naming the file, the key path and what is wrong (`config file f.yaml: pools.api.targets[1].weight: must
 * be a positive integer`). Pure: takes the parsed YAML/JSON data. The shape is documented in docs/routing.md.
 */
import { UsageError } from '../../errors.ts';
import { isToken } from '../../http/grammar.ts';
import { parseDuration, parseSize } from '../../util/units.ts';
import type { PassiveConfig } from './health-state.ts';
import type { RetryConfig } from './retry-policy.ts';
import type { RouteSpec } from './route-table.ts';

export type Policy = 'round-robin' | 'least-requests' | 'consistent-hash';
export type HashOn = { kind: 'path' } | { kind: 'header'; name: string } | { kind: 'cookie'; name: string };

export interface ActiveHealthConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Inclusive status range a passing check answers with. */
  expect: [number, number];
  rise: number;
  fall: number;
}

export interface PoolSettings {
  /** null = no active checks (passive ejection only). */
  health: ActiveHealthConfig | null;
  ejection: PassiveConfig;
  retry: RetryConfig;
  /** With no healthy target, try them all anyway instead of answering 503. */
  panic: boolean;
}

export interface PoolConfig extends PoolSettings {
  name: string;
  targets: Array<{ url: URL; weight: number }>;
  policy: Policy;
  hashOn: HashOn;
}

export interface RoutingConfig {
  routes: RouteSpec[];
  pools: PoolConfig[];
  /** Settings of pools that do not say otherwise, the default pool (--upstream) included. */
  defaults: PoolSettings;
}

/** The name of the pool built from `--upstream`; routes may name it. */
export const DEFAULT_POOL = 'default';

export const DEFAULT_SETTINGS: PoolSettings = Object.freeze({
  health: null,
  ejection: { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionShare: 0.5 },
  retry: { tries: 2, tryTimeoutMs: null, bodyLimit: 64 * 1024, methods: [], budgetShare: 0.2, budgetMinRetries: 3, budgetWindowMs: 10_000 },
  panic: false,
});

const HEALTH_DEFAULTS = { path: '/', intervalMs: 5_000, timeoutMs: 2_000, expect: [200, 399] as [number, number], rise: 2, fall: 3 };

type Data = Record<string, unknown>;

class Reader {
  readonly file: string;
  constructor(file: string) { this.file = file; }
  fail(key: string, problem: string): never { throw new UsageError(`config file ${this.file}: ${key}: ${problem}`); }
  object(v: unknown, key: string): Data {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'must be a mapping (key: value)');
    return v as Data;
  }
  allowKeys(d: Data, key: string, allowed: readonly string[]): void {
    for (const k of Object.keys(d)) if (!allowed.includes(k)) this.fail(`${key}.${k}`, `unknown key (expected one of: ${allowed.join(', ')})`);
  }
  int(v: unknown, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(key, `must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`);
    return v;
  }
  share(v: unknown, key: string): number {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) this.fail(key, 'must be a number from 0 to 1 (a share)');
    return v;
  }
  duration(v: unknown, key: string): number {
    const r = parseDuration(String(v));
    if (!r.ok) this.fail(key, r.reason);
    if (r.value <= 0) this.fail(key, 'must be longer than 0');
    return r.value;
  }
  bool(v: unknown, key: string): boolean {
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false');
    return v;
  }
  string(v: unknown, key: string): string {
    if (typeof v !== 'string' || v === '') this.fail(key, 'must be a non-empty string');
    return v;
  }
}

/** Validate the routing sections of a config file; `upstreams` (from --upstream) become pool `default`. */
export function parseRoutingConfig(data: Data, file: string, upstreams: readonly URL[]): RoutingConfig {
  const r = new Reader(file);
  const defaults = data['pool-defaults'] === undefined ? DEFAULT_SETTINGS : settings(r, r.object(data['pool-defaults'], 'pool-defaults'), 'pool-defaults', DEFAULT_SETTINGS, []);
  const pools: PoolConfig[] = [];
  // the --upstream pool keeps answering as before when every target is ejected (panic), unless pool-defaults says
  const explicitPanic = data['pool-defaults'] !== undefined && (data['pool-defaults'] as Data).panic !== undefined;
  if (upstreams.length > 0) pools.push(defaultPool(upstreams, explicitPanic ? defaults : { ...defaults, panic: true }));
  if (data.pools !== undefined) {
    for (const [name, v] of Object.entries(r.object(data.pools, 'pools'))) {
      const key = `pools.${name}`;
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) r.fail(key, 'a pool name is letters, digits, "_", "-" and "."');
      if (name === DEFAULT_POOL && upstreams.length > 0) r.fail(key, `"${DEFAULT_POOL}" is the pool built from upstream; name this one otherwise`);
      pools.push(pool(r, name, r.object(v, key), key, defaults));
    }
  }
  const names = new Set(pools.map((p) => p.name));
  const routes: RouteSpec[] = [];
  if (data.routes !== undefined) {
    const list = data.routes;
    if (!Array.isArray(list)) return r.fail('routes', 'must be a list');
    list.forEach((v: unknown, i: number) => routes.push(route(r, r.object(v, `routes[${i}]`), `routes[${i}]`, i, names)));
  }
  return { routes, pools, defaults };
}

/**
 * The routing of a proxy given only `--upstream` (no config file sections): one default pool with the defaults, in
 * panic mode (all targets ejected → tried anyway), so a lone upstream answers as it did before pools existed.
 */
export function defaultRouting(upstreams: readonly URL[]): RoutingConfig {
  return { routes: [], pools: upstreams.length > 0 ? [defaultPool(upstreams, { ...DEFAULT_SETTINGS, panic: true })] : [], defaults: DEFAULT_SETTINGS };
}

function defaultPool(upstreams: readonly URL[], defaults: PoolSettings): PoolConfig {
  return { name: DEFAULT_POOL, targets: upstreams.map((url) => ({ url, weight: 1 })), policy: 'round-robin', hashOn: { kind: 'path' }, ...defaults };
}

function route(r: Reader, d: Data, key: string, i: number, pools: ReadonlySet<string>): RouteSpec {
  r.allowKeys(d, key, ['name', 'host', 'path', 'strip-prefix', 'pool']);
  const pool = r.string(d.pool, `${key}.pool`);
  if (!pools.has(pool)) r.fail(`${key}.pool`, `no pool named "${pool}" (pools: ${[...pools].join(', ') || 'none'})`);
  const spec: RouteSpec = { name: d.name === undefined ? `route-${i + 1}` : r.string(d.name, `${key}.name`), pool, stripPrefix: false };
  if (d.host !== undefined) {
    const host = r.string(d.host, `${key}.host`).toLowerCase();
    if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) r.fail(`${key}.host`, `"${host}" is not a host name or *.domain`);
    spec.host = host;
  }
  if (d.path !== undefined) {
    const path = r.string(d.path, `${key}.path`);
    if (!path.startsWith('/') || /[?#\s]/.test(path)) r.fail(`${key}.path`, 'must be a path prefix starting with / (no query, no spaces)');
    spec.pathPrefix = path;
  }
  if (d['strip-prefix'] !== undefined) {
    spec.stripPrefix = r.bool(d['strip-prefix'], `${key}.strip-prefix`);
    if (spec.stripPrefix && spec.pathPrefix === undefined) r.fail(`${key}.strip-prefix`, 'needs a path to strip');
  }
  return spec;
}

function pool(r: Reader, name: string, d: Data, key: string, defaults: PoolSettings): PoolConfig {
  r.allowKeys(d, key, ['targets', 'balance', 'hash-on', 'health', 'ejection', 'retry', 'panic']);
  if (!Array.isArray(d.targets) || d.targets.length === 0) r.fail(`${key}.targets`, 'must be a non-empty list of http:// or https:// URLs');
  const targets = d.targets.map((t: unknown, i: number) => target(r, t, `${key}.targets[${i}]`));
  const seen = new Set<string>();
  targets.forEach((t, i) => { if (seen.has(t.url.href)) r.fail(`${key}.targets[${i}]`, `${t.url.href} is listed twice`); seen.add(t.url.href); });
  const policy = d.balance === undefined ? 'round-robin' : r.string(d.balance, `${key}.balance`);
  if (policy !== 'round-robin' && policy !== 'least-requests' && policy !== 'consistent-hash') r.fail(`${key}.balance`, `"${policy}" is not round-robin, least-requests or consistent-hash`);
  let hashOn: HashOn = { kind: 'path' };
  if (d['hash-on'] !== undefined) {
    if (policy !== 'consistent-hash') r.fail(`${key}.hash-on`, 'only with balance: consistent-hash');
    const text = r.string(d['hash-on'], `${key}.hash-on`);
    const m = /^(header|cookie):(.+)$/.exec(text);
    if (text === 'path') hashOn = { kind: 'path' };
    else if (m && isToken(m[2]!)) hashOn = { kind: m[1] as 'header' | 'cookie', name: m[1] === 'header' ? m[2]!.toLowerCase() : m[2]! };
    else r.fail(`${key}.hash-on`, `"${text}" is not path, header:NAME or cookie:NAME`);
  }
  return { name, targets, policy, hashOn, ...settings(r, d, key, defaults, ['targets', 'balance', 'hash-on']) };
}

function target(r: Reader, t: unknown, key: string): { url: URL; weight: number } {
  const d: Data = typeof t === 'string' ? { url: t } : r.object(t, key);
  r.allowKeys(d, key, ['url', 'weight']);
  const text = r.string(d.url, `${key}.url`);
  let url: URL;
  try { url = new URL(text); } catch { return r.fail(key, `"${text}" is not a URL`); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') r.fail(key, `${text} must be http:// or https://`);
  if (url.search !== '' || url.hash !== '' || url.username !== '') r.fail(key, `${text} may not have a query, fragment or credentials`);
  return { url, weight: d.weight === undefined ? 1 : r.int(d.weight, `${key}.weight`, 1, 1000) };
}

function settings(r: Reader, d: Data, key: string, base: PoolSettings, others: readonly string[]): PoolSettings {
  r.allowKeys(d, key, [...others, 'health', 'ejection', 'retry', 'panic']);
  return {
    health: d.health === undefined ? base.health : d.health === false ? null : health(r, r.object(d.health, `${key}.health`), `${key}.health`),
    ejection: d.ejection === undefined ? base.ejection : ejection(r, r.object(d.ejection, `${key}.ejection`), `${key}.ejection`, base.ejection),
    retry: d.retry === undefined ? base.retry : retry(r, r.object(d.retry, `${key}.retry`), `${key}.retry`, base.retry),
    panic: d.panic === undefined ? base.panic : r.bool(d.panic, `${key}.panic`),
  };
}

function health(r: Reader, d: Data, key: string): ActiveHealthConfig {
  r.allowKeys(d, key, ['path', 'interval', 'timeout', 'expect-status', 'rise', 'fall']);
  const h = { ...HEALTH_DEFAULTS };
  if (d.path !== undefined) { h.path = r.string(d.path, `${key}.path`); if (!h.path.startsWith('/')) r.fail(`${key}.path`, 'must start with /'); }
  if (d.interval !== undefined) h.intervalMs = r.duration(d.interval, `${key}.interval`);
  if (d.timeout !== undefined) h.timeoutMs = r.duration(d.timeout, `${key}.timeout`);
  if (h.timeoutMs > h.intervalMs) r.fail(`${key}.timeout`, 'must not be longer than the interval');
  if (d['expect-status'] !== undefined) {
    const m = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(String(d['expect-status']));
    if (!m || Number(m[2] ?? m[1]) < Number(m[1])) r.fail(`${key}.expect-status`, 'must be a status or a range such as 200-399');
    h.expect = [Number(m[1]), Number(m[2] ?? m[1])];
  }
  if (d.rise !== undefined) h.rise = r.int(d.rise, `${key}.rise`, 1, 100);
  if (d.fall !== undefined) h.fall = r.int(d.fall, `${key}.fall`, 1, 100);
  return h;
}

function ejection(r: Reader, d: Data, key: string, base: PassiveConfig): PassiveConfig {
  r.allowKeys(d, key, ['consecutive-failures', 'base-time', 'max-time', 'max-share']);
  const e = { ...base };
  if (d['consecutive-failures'] !== undefined) e.consecutiveFailures = r.int(d['consecutive-failures'], `${key}.consecutive-failures`, 0, 1000);
  if (d['base-time'] !== undefined) e.baseEjectionMs = r.duration(d['base-time'], `${key}.base-time`);
  if (d['max-time'] !== undefined) e.maxEjectionMs = r.duration(d['max-time'], `${key}.max-time`);
  if (e.maxEjectionMs < e.baseEjectionMs) r.fail(`${key}.max-time`, 'must not be shorter than base-time');
  if (d['max-share'] !== undefined) e.maxEjectionShare = r.share(d['max-share'], `${key}.max-share`);
  return e;
}

function retry(r: Reader, d: Data, key: string, base: RetryConfig): RetryConfig {
  r.allowKeys(d, key, ['tries', 'try-timeout', 'body-limit', 'methods', 'budget', 'budget-min']);
  const c = { ...base };
  if (d.tries !== undefined) c.tries = r.int(d.tries, `${key}.tries`, 1, 10);
  if (d['try-timeout'] !== undefined) c.tryTimeoutMs = r.duration(d['try-timeout'], `${key}.try-timeout`);
  if (d['body-limit'] !== undefined) {
    const s = parseSize(String(d['body-limit']));
    if (!s.ok) r.fail(`${key}.body-limit`, s.reason);
    if (s.value > 16 * 1024 * 1024) r.fail(`${key}.body-limit`, 'at most 16MiB (kept bodies are held in memory)');
    c.bodyLimit = s.value;
  }
  if (d.methods !== undefined) {
    if (!Array.isArray(d.methods)) r.fail(`${key}.methods`, 'must be a list of methods, e.g. [POST]');
    c.methods = d.methods.map((m: unknown, i: number) => {
      if (typeof m !== 'string' || !isToken(m)) r.fail(`${key}.methods[${i}]`, 'must be a method name');
      return m.toUpperCase();
    });
  }
  if (d.budget !== undefined) c.budgetShare = r.share(d.budget, `${key}.budget`);
  if (d['budget-min'] !== undefined) c.budgetMinRetries = r.int(d['budget-min'], `${key}.budget-min`, 0, 10_000);
  return c;
}
