/**
 * @module HTTP cache conformance (issue 6, RELIABILITY C6; issue 19): runs the public cache test suite behind
 * cache-tests.fyi (http-tests/cache-tests at commit b55b8bd, vendored in conformance/cache-tests) against
 * `ferry proxy --cache memory`, `--cache disk:<tmp>` and `--cache redis://…` fronting that suite's own origin server,
 * prints the summary table and compares every test's verdict with conformance/expected.json.
 *
 *   npm run conformance                          # all three stores (~1 min each on loopback)
 *   npm run conformance -- --store memory        # one store (repeatable)
 *   npm run conformance -- --update              # rewrite conformance/expected.json from this run (memory)
 *   npm run conformance -- --report              # also rewrite bench/CACHE-CONFORMANCE.md
 *
 * Exit code 1 when a test expected to pass (✅ or Y in expected.json) did not, on any store. A test that passes but is
 * not expected to is reported (update the file) without failing the run.
 *
 * The suite's client imports `undici` (major 7, like the fetch bundled in Node 24) for interim responses: it is
 * installed from conformance/package-lock.json with `npm ci` into conformance/node_modules on first use (gitignored),
 * so a fresh clone needs the npm registry once. The suite's server listens on every interface; a shim rebinds it to
 * 127.0.0.1 on a free port.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startRole } from '../test/helpers/cli.ts';
import { startRedis } from '../test/helpers/redis.ts';

const CONFORMANCE = fileURLToPath(new URL('../conformance/', import.meta.url));
const SUITE = join(CONFORMANCE, 'cache-tests');
export const EXPECTED_FILE = join(CONFORMANCE, 'expected.json');
const OUT = fileURLToPath(new URL('./CACHE-CONFORMANCE.md', import.meta.url));
/** Peers whose results the suite publishes (results/*.json at b55b8bd); browsers left out. */
const PEERS = ['trafficserver', 'squid', 'varnish', 'nginx', 'apache', 'caddy', 'haproxy', 'fastly'];

export type Results = Record<string, true | [string, string]>;
interface Test { id: string; name: string; kind?: string; browser_only?: boolean; depends_on?: string[] }
interface Suite { id: string; tests: Test[] }
export type StoreName = 'memory' | 'disk' | 'redis';
/** Per test id, the symbol cache-tests.fyi shows (✅ ⛔️ ⚠️ Y N 🔹 ⚪️ ↻ ⁉️ -). */
export type Verdicts = Record<string, string>;
export interface Summary { counts: Map<string, Map<string, number>>; verdicts: Verdicts; problems: Array<{ symbol: string; kind: string; id: string; detail: string }> }
/** One store's run; `retried`: tests expected to pass that failed in the full run and were run once more alone. */
export interface StoreRun { store: StoreName; summary: Summary; seconds: number; retried: string[] }

/**
 * Several tests allow the cache 2 seconds (`max-age=2`, then a request that must still be a hit) on a machine that
 * may be busy running every test at once; a test expected to pass that did not is run once more on its own (with
 * the rest of the results kept) before it counts as a regression. Retried ids are reported.
 */
const MAX_RETRIES = 30;

/** Install the suite client's one dependency (undici, pinned by conformance/package-lock.json). */
export function installDeps(): void {
  if (existsSync(join(CONFORMANCE, 'node_modules', 'undici', 'package.json'))) return;
  console.error('conformance: npm ci in conformance/ (undici for the suite client)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: CONFORMANCE, stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The suite's origin, rebound to loopback (server.mjs calls `server.listen(port)` with no host). */
async function startSuiteServer(dir: string): Promise<{ url: string; stop: () => void }> {
  const shim = join(dir, 'serve-loopback.mjs');
  writeFileSync(shim, [
    "import http from 'node:http'",
    'const listen = http.Server.prototype.listen',
    "http.Server.prototype.listen = function (port) { return listen.call(this, port, '127.0.0.1') }",
    `process.chdir(${JSON.stringify(SUITE)})`,
    `await import(${JSON.stringify(pathToFileURL(join(SUITE, 'test-engine', 'server', 'server.mjs')).href)})`,
    '',
  ].join('\n'));
  const proc = spawn(process.execPath, [shim], {
    env: { ...process.env, npm_config_port: '0', npm_config_protocol: 'http', npm_config_pidfile: join(dir, 'server.pid') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (c: string) => {
      out += c;
      const m = /Listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`suite server exited with ${code}: ${out}`)));
  });
  return { url, stop: () => proc.kill() };
}

function runSuite(base: string, ids: readonly string[] = []): Promise<Results> {
  return new Promise((resolve, reject) => {
    const args = ['--no-warnings', join(CONFORMANCE, 'run-all.mjs'), base, ...(ids.length > 0 ? [ids.join(',')] : [])];
    const proc = spawn(process.execPath, args, { cwd: SUITE, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (c: string) => { out += c; });
    proc.on('exit', (code) => {
      try { resolve(JSON.parse(out) as Results); } catch { reject(new Error(`suite cli exited with ${code}: ${out.slice(0, 500)}`)); }
    });
  });
}

type Verdict = [string, string, string];
async function loadSuite(): Promise<{ suites: Suite[]; verdict: (id: string, r: Results) => Verdict }> {
  const suites = (await import(pathToFileURL(join(SUITE, 'tests', 'index.mjs')).href) as { default: Suite[] }).default;
  const results = await import(pathToFileURL(join(SUITE, 'test-engine', 'lib', 'results.mjs')).href) as { determineTestResult: (s: Suite[], id: string, r: Results) => Verdict };
  return { suites, verdict: (id, r) => results.determineTestResult(suites, id, r) };
}

async function summarise(results: Results): Promise<Summary> {
  const { suites, verdict } = await loadSuite();
  const counts = new Map<string, Map<string, number>>();
  const problems: Summary['problems'] = [];
  const verdicts: Verdicts = {};
  for (const suite of suites) {
    for (const t of suite.tests) {
      if (t.browser_only === true) continue;
      const kind = t.kind ?? 'required';
      const symbol = verdict(t.id, results)[2];
      verdicts[t.id] = symbol;
      const m = counts.get(kind) ?? new Map<string, number>();
      m.set(symbol, (m.get(symbol) ?? 0) + 1);
      counts.set(kind, m);
      if (kind !== 'check' && !['✅', '-'].includes(symbol)) {
        const r = results[t.id];
        problems.push({ symbol, kind, id: t.id, detail: r === true ? 'passed, but a dependency did not' : r === undefined ? '' : r[1] });
      }
    }
  }
  return { counts, verdicts, problems };
}

const PASSING = new Set(['✅', 'Y']);

/** Tests expected to pass that did not (the regressions), and tests passing that the file does not expect to. */
export function compareWithExpected(expected: Verdicts, actual: Verdicts): { regressions: string[]; improvements: string[] } {
  const regressions: string[] = [];
  const improvements: string[] = [];
  for (const [id, want] of Object.entries(expected)) {
    const got = actual[id] ?? '(missing)';
    if (PASSING.has(want) && !PASSING.has(got)) regressions.push(`${id}: expected ${want}, got ${got}`);
    else if (!PASSING.has(want) && PASSING.has(got)) improvements.push(`${id}: expected ${want}, got ${got}`);
  }
  return { regressions, improvements };
}

export function readExpected(): Verdicts {
  return (JSON.parse(readFileSync(EXPECTED_FILE, 'utf8')) as { verdicts: Verdicts }).verdicts;
}

/** Run the suite against ferry with each store; returns each store's summary. `expected` enables the retry above. */
export async function runConformance(stores: readonly StoreName[], expected: Verdicts | null = null): Promise<StoreRun[]> {
  installDeps();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-conformance-'));
  const server = await startSuiteServer(dir);
  const runs: StoreRun[] = [];
  try {
    for (const store of stores) {
      const redis = store === 'redis' ? await startRedis() : undefined;
      const spec = store === 'memory' ? 'memory' : store === 'disk' ? `disk:${join(dir, 'disk')}` : redis!.url;
      try {
        const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', server.url, '--cache', spec, '--log-level', 'warn', '--stats-path', '', '--metrics-path', '']);
        try {
          console.error(`conformance: running the suite against ferry --cache ${store} (${proxy.url})`);
          const t0 = performance.now();
          const results = await runSuite(proxy.url);
          const seconds = (performance.now() - t0) / 1000;
          let summary = await summarise(results);
          const retried = expected === null ? [] : Object.keys(expected).filter((id) => PASSING.has(expected[id]!) && !PASSING.has(summary.verdicts[id] ?? ''));
          if (retried.length > 0 && retried.length <= MAX_RETRIES) {
            console.error(`conformance: ${store}: running ${retried.join(', ')} once more, alone`);
            summary = await summarise({ ...results, ...await runSuite(proxy.url, retried) });
          }
          runs.push({ store, summary, seconds, retried: retried.length <= MAX_RETRIES ? retried : [] });
        } finally {
          await proxy.stop();
        }
      } finally {
        await redis?.stop();
      }
    }
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return runs;
}

const SYMBOLS = ['✅', '⛔️', '⚠️', 'Y', 'N', '🔹', '⁉️', '⚪️', '↻', '-'];

export function countsCell(m: Map<string, number> | undefined): string {
  if (m === undefined) return '';
  return SYMBOLS.filter((s) => m.has(s)).map((s) => `${s} ${m.get(s)}`).join(' · ');
}

function passCell(m: Map<string, number> | undefined): string {
  if (m === undefined) return '';
  let total = 0;
  for (const n of m.values()) total += n;
  return `${(m.get('✅') ?? 0) + (m.get('Y') ?? 0)} / ${total}`;
}

function table(rows: Array<{ name: string; summary: Summary }>): string[] {
  return [
    '| cache | required passed | optimal passed | required | optimal | check |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const c = r.summary.counts;
      return `| ${r.name} | ${passCell(c.get('required'))} | ${passCell(c.get('optimal'))} | ${countsCell(c.get('required'))} | ${countsCell(c.get('optimal'))} | ${countsCell(c.get('check'))} |`;
    }),
  ];
}

async function peers(): Promise<Array<{ name: string; summary: Summary }>> {
  const out: Array<{ name: string; summary: Summary }> = [];
  for (const p of PEERS) {
    const file = join(SUITE, 'results', `${p}.json`);
    if (existsSync(file)) out.push({ name: `${p} (published in the suite)`, summary: await summarise(JSON.parse(readFileSync(file, 'utf8')) as Results) });
  }
  return out;
}

function report(rows: Array<{ name: string; summary: Summary }>, ours: number): string {
  const lines = [
    '# HTTP cache conformance (cache-tests.fyi)',
    '',
    `Generated by \`npm run conformance -- --report\` on ${new Date().toISOString().slice(0, 10)}: the suite behind`,
    '[cache-tests.fyi](https://cache-tests.fyi/) (http-tests/cache-tests at commit b55b8bd, vendored in',
    '`conformance/cache-tests`) run against `ferry proxy --cache …` fronting the suite\'s own origin server, over loopback.',
    'Other caches\' rows are the results files published with the suite at that commit (their own runs, for comparison).',
    'The expected verdict of every test is in `conformance/expected.json`; `npm run conformance` fails when a test',
    'expected to pass does not. Counts are of the 160 required and 105 optimal tests a proxy run executes (the suite',
    'also lists 3 + 2 browser-only ones). Before issue 19, ferry passed 145 required and 88 optimal (every store).',
    '',
    'Symbols as on cache-tests.fyi: ✅ pass · ⛔️ failed a required test · ⚠️ failed an optional (optimal) test ·',
    'Y/N answer to a `check` (behaviour, not conformance) · 🔹 setup failed (the cache did not store/revalidate as the',
    'test needed to get going) · ⚪️ a test it depends on did not pass · ↻ the origin saw a request number twice (a',
    'retried request) · ⁉️ harness error.',
    '',
    ...table(rows),
    '',
  ];
  for (const r of rows.slice(0, ours)) {
    lines.push(`## ${r.name}: required and optimal tests not passed`, '');
    if (r.summary.problems.length === 0) lines.push('None.', '');
    else {
      lines.push('| result | kind | test | detail |', '|---|---|---|---|');
      for (const p of r.summary.problems) lines.push(`| ${p.symbol} | ${p.kind} | \`${p.id}\` | ${p.detail.replace(/\|/g, '\\|')} |`);
      lines.push('');
    }
  }
  lines.push('Why the remaining ones are left as they are: docs/cache.md, "Conformance".', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const stores: StoreName[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--store' && ['memory', 'disk', 'redis'].includes(args[i + 1] ?? '')) stores.push(args[++i] as StoreName);
    else if (a !== '--update' && a !== '--report') {
      console.error(`conformance: unknown argument ${a}; usage: cache-conformance.ts [--store memory|disk|redis]... [--update] [--report]`);
      process.exit(2);
    }
  }
  const update = args.includes('--update');
  const runs = await runConformance(stores.length > 0 ? stores : ['memory', 'disk', 'redis'], !update && existsSync(EXPECTED_FILE) ? readExpected() : null);
  const rows = runs.map((r) => ({ name: `ferry --cache ${r.store}`, summary: r.summary }));
  const peerRows = await peers();
  console.log(table([...rows, ...peerRows]).join('\n'));
  for (const r of runs) console.log(`ferry --cache ${r.store}: ${r.seconds.toFixed(1)} s${r.retried.length > 0 ? `; run again alone: ${r.retried.join(', ')}` : ''}`);
  if (update) {
    const verdicts = runs[0]!.summary.verdicts;
    writeFileSync(EXPECTED_FILE, `${JSON.stringify({ suite: 'http-tests/cache-tests b55b8bd', note: 'verdict per test id for ferry proxy --cache memory; disk and redis must match. Regenerate: npm run conformance -- --update', verdicts }, null, 2)}\n`);
    console.log(`wrote ${EXPECTED_FILE}`);
  }
  if (args.includes('--report')) {
    writeFileSync(OUT, report([...rows, ...peerRows], rows.length));
    console.log(`wrote ${OUT}`);
  }
  let failed = false;
  if (existsSync(EXPECTED_FILE)) {
    const expected = readExpected();
    for (const r of runs) {
      const { regressions, improvements } = compareWithExpected(expected, r.summary.verdicts);
      for (const x of regressions) console.log(`REGRESSION (${r.store}) ${x}`);
      for (const x of improvements) console.log(`passes now (${r.store}), not yet expected: ${x}`);
      if (regressions.length > 0) failed = true;
    }
  }
  for (const r of runs) for (const p of r.summary.problems) console.log(`${r.store}\t${p.symbol}\t${p.kind}\t${p.id}\t${p.detail}`);
  process.exitCode = failed ? 1 : 0;
}

if (import.meta.main) await main();
