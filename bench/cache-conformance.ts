/**
 * @module HTTP cache conformance (issue 6, RELIABILITY C6): runs the public cache test suite behind cache-tests.fyi
 * (npm `http-cache-tests`, repository http-tests/cache-tests) against `ferry proxy --cache memory` and
 * `--cache disk:<tmp>` fronting that suite's own origin server, and writes bench/CACHE-CONFORMANCE.md.
 *
 *   node bench/cache-conformance.ts            # both stores (~25 s each on loopback)
 *   CACHE_TESTS_DIR=/some/dir node bench/cache-conformance.ts
 *
 * The suite (and its one runtime dependency for the CLI, node-fetch@2) is installed with npm into a temp folder
 * (CACHE_TESTS_DIR, default $TMPDIR/ferry-cache-tests) on first use; ferry's package.json is not touched. Its server
 * is started bound to 127.0.0.1 on a free port (its own code listens on every interface, so a shim rebinds it).
 * Not part of `npm test`: it needs the registry once and takes about a minute.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startRole } from '../test/helpers/cli.ts';

const SUITE_VERSION = '0.4.5';
const ROOT = process.env.CACHE_TESTS_DIR ?? join(tmpdir(), 'ferry-cache-tests');
const PKG = join(ROOT, 'package');
const OUT = fileURLToPath(new URL('./CACHE-CONFORMANCE.md', import.meta.url));
const COMPARE = ['nginx', 'squid', 'varnish', 'apache', 'trafficserver', 'fastly'];

type Results = Record<string, true | [string, string]>;
interface Test { id: string; name: string; kind?: string; browser_only?: boolean; depends_on?: string[] }
interface Suite { id: string; tests: Test[] }
type Verdict = [string, string, string];

function install(): void {
  if (existsSync(join(PKG, 'cli.mjs')) && existsSync(join(ROOT, 'node_modules', 'node-fetch'))) return;
  mkdirSync(ROOT, { recursive: true });
  console.error(`installing http-cache-tests@${SUITE_VERSION} into ${ROOT}`);
  const tgz = execFileSync('npm', ['pack', `http-cache-tests@${SUITE_VERSION}`, '--silent'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('tar', ['xzf', tgz], { cwd: ROOT });
  if (!existsSync(join(ROOT, 'package.json'))) writeFileSync(join(ROOT, 'package.json'), '{"private":true}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', 'node-fetch@2'], { cwd: ROOT, stdio: 'inherit' });
}

/** The suite's origin, rebound to loopback (server.mjs calls `server.listen(port)` with no host). */
async function startSuiteServer(): Promise<{ url: string; stop: () => void }> {
  const shim = join(ROOT, 'serve-loopback.mjs');
  writeFileSync(shim, [
    "import http from 'node:http'",
    'const listen = http.Server.prototype.listen',
    "http.Server.prototype.listen = function (port) { return listen.call(this, port, '127.0.0.1') }",
    `process.chdir(${JSON.stringify(PKG)})`,
    `await import(${JSON.stringify(pathToFileURL(join(PKG, 'server', 'server.mjs')).href)})`,
    '',
  ].join('\n'));
  const proc = spawn(process.execPath, [shim], {
    env: { ...process.env, npm_config_port: '0', npm_config_protocol: 'http', npm_config_pidfile: join(ROOT, 'server.pid') },
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

function runSuite(base: string): Promise<Results> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--no-warnings', 'cli.mjs'], {
      cwd: PKG, env: { ...process.env, npm_config_base: base, npm_package_config_id: '' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (c: string) => { out += c; });
    proc.on('exit', (code) => {
      try { resolve(JSON.parse(out) as Results); } catch { reject(new Error(`suite cli exited with ${code}: ${out.slice(0, 500)}`)); }
    });
  });
}

async function loadSuite(): Promise<{ suites: Suite[]; verdict: (id: string, r: Results) => Verdict }> {
  const tests = (await import(pathToFileURL(join(PKG, 'tests', 'index.mjs')).href) as { default: Suite[] }).default;
  const surrogate = (await import(pathToFileURL(join(PKG, 'tests', 'surrogate-control.mjs')).href) as { default: Suite }).default;
  const display = await import(pathToFileURL(join(PKG, 'lib', 'display.mjs')).href) as { determineTestResult: (s: Suite[], id: string, r: Results) => Verdict };
  const suites = [...tests, surrogate]; // cli.mjs runs the surrogate tests too
  return { suites, verdict: (id, r) => display.determineTestResult(suites, id, r) };
}

interface Summary { counts: Map<string, Map<string, number>>; problems: Array<{ symbol: string; kind: string; id: string; detail: string }> }

function summarise(suites: Suite[], verdict: (id: string, r: Results) => Verdict, results: Results): Summary {
  const counts = new Map<string, Map<string, number>>();
  const problems: Summary['problems'] = [];
  for (const suite of suites) {
    for (const t of suite.tests) {
      if (t.browser_only === true) continue;
      const kind = t.kind ?? 'required';
      const symbol = verdict(t.id, results)[2];
      const m = counts.get(kind) ?? new Map<string, number>();
      m.set(symbol, (m.get(symbol) ?? 0) + 1);
      counts.set(kind, m);
      if (kind !== 'check' && !['✅', '-'].includes(symbol)) {
        const r = results[t.id];
        problems.push({ symbol, kind, id: t.id, detail: r === true ? 'passed, but a dependency did not' : r === undefined ? '' : r[1] });
      }
    }
  }
  return { counts, problems };
}

const SYMBOLS = ['✅', '⛔️', '⚠️', 'Y', 'N', '🔹', '⁉️', '⚪️', '↻', '-'];

function countsCell(m: Map<string, number> | undefined): string {
  if (m === undefined) return '';
  return SYMBOLS.filter((s) => m.has(s)).map((s) => `${s} ${m.get(s)}`).join(' · ');
}

async function main(): Promise<void> {
  install();
  const { suites, verdict } = await loadSuite();
  const server = await startSuiteServer();
  const runs: Array<{ name: string; summary: Summary }> = [];
  const dir = mkdtempSync(join(tmpdir(), 'ferry-conformance-disk-'));
  try {
    for (const [name, spec] of [['ferry --cache memory', 'memory'], ['ferry --cache disk', `disk:${dir}`]] as const) {
      const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', server.url, '--cache', spec, '--log-level', 'warn', '--stats-path', '', '--metrics-path', '']);
      try {
        console.error(`running the suite against ${name} (${proxy.url})`);
        runs.push({ name, summary: summarise(suites, verdict, await runSuite(proxy.url)) });
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const other of COMPARE) {
    const file = join(PKG, 'results', `${other}.json`);
    if (existsSync(file)) runs.push({ name: `${other} (published in the suite)`, summary: summarise(suites, verdict, JSON.parse(readFileSync(file, 'utf8')) as Results) });
  }
  writeFileSync(OUT, report(runs));
  for (const r of runs.slice(0, 2)) {
    console.log(`${r.name}: required ${countsCell(r.summary.counts.get('required'))} | optimal ${countsCell(r.summary.counts.get('optimal'))} | check ${countsCell(r.summary.counts.get('check'))}`);
  }
  console.log(`wrote ${OUT}`);
}

function report(runs: Array<{ name: string; summary: Summary }>): string {
  const lines = [
    '# HTTP cache conformance (cache-tests.fyi)',
    '',
    `Generated by \`node bench/cache-conformance.ts\` on ${new Date().toISOString().slice(0, 10)}: the suite behind`,
    `[cache-tests.fyi](https://cache-tests.fyi/) (npm \`http-cache-tests@${SUITE_VERSION}\`) run against \`ferry proxy --cache …\``,
    'fronting the suite\'s own origin server, over loopback. Other caches\' rows are the results files shipped in that',
    'package (older runs, for comparison; browsers omitted).',
    '',
    'Symbols as on cache-tests.fyi: ✅ pass · ⛔️ failed a required test · ⚠️ failed an optional (optimal) test ·',
    'Y/N answer to a `check` (behaviour, not conformance) · 🔹 setup failed (the cache did not store/revalidate as the',
    'test needed to get going) · ⚪️ a test it depends on did not pass · ↻ the origin saw a request number twice (a',
    'retried request) · ⁉️ harness error.',
    '',
    '| cache | required | optimal | check |',
    '|---|---|---|---|',
    ...runs.map((r) => `| ${r.name} | ${countsCell(r.summary.counts.get('required'))} | ${countsCell(r.summary.counts.get('optimal'))} | ${countsCell(r.summary.counts.get('check'))} |`),
    '',
  ];
  for (const r of runs.slice(0, 2)) {
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

await main();
