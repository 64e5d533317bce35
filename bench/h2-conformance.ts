/**
 * @module HTTP/2 conformance (issue 14): h2spec (summerwind/h2spec at af83a65, vendored in conformance/h2spec and
 * built offline by its build.sh from Debian's Go packages) against ferry's TLS listener with h2 (server/tls-listener.ts
 * around the proxy handler, as `--tls-cert` makes it), in front of a small HTTP/1.1 origin. The verdict of every test is compared with
 * conformance/h2spec-expected.json: a test expected to pass that fails is a regression (exit 1).
 *
 *   npm run conformance                                # h2spec, then the cache suite
 *   node bench/h2-conformance.ts [--update]            # h2spec alone; --update rewrites the expected file
 *
 * Peers measured on this kind of machine (conformance/h2spec/SOURCE.md): a bare node:http2 secure server passes
 * 136 of 146, nginx 1.22 119.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProxy, serveProxy } from '../src/proxy/create-proxy.ts';
import { localhostCert } from '../test/helpers/certs.ts';

const CONFORMANCE = fileURLToPath(new URL('../conformance/', import.meta.url));
export const H2SPEC_EXPECTED = join(CONFORMANCE, 'h2spec-expected.json');
export const H2SPEC_MIN_PASSED = 136;
/**
 * Seconds h2spec waits for each expected answer. 4 rather than its usual 2: `npm test` runs it beside other test
 * files on a busy machine, and an answer late by a second must not read as a regression. Only the tests that fail
 * anyway (node:http2's) wait the whole time.
 */
const H2SPEC_TIMEOUT_S = 4;

export interface H2SpecResult { total: number; passed: string[]; failed: string[]; skipped: string[]; seconds: number }

/**
 * Build (once per machine: the binary is kept in the temp directory, named after the vendored commit — delete it
 * after changing conformance/h2spec) and return the h2spec binary's path.
 */
export function buildH2Spec(): string {
  const out = join(tmpdir(), 'ferry-h2spec-af83a65');
  if (existsSync(out)) return out;
  console.error('conformance: building h2spec (conformance/h2spec/build.sh, Debian Go packages)');
  return execFileSync('bash', [join(CONFORMANCE, 'h2spec', 'build.sh'), out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** The JUnit report's test cases: `section` + name as id, and whether each passed, failed or was skipped. */
export function parseJUnit(xml: string): Omit<H2SpecResult, 'seconds'> {
  const passed: string[] = [];
  const failed: string[] = [];
  const skipped: string[] = [];
  const suites = xml.split(/<testsuite\b/).slice(1);
  for (const suite of suites) {
    const pkg = /package="([^"]*)"/.exec(suite)?.[1] ?? /name="([^"]*)"/.exec(suite)?.[1] ?? '';
    for (const m of suite.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
      const name = /name="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
      const id = `${unescape(pkg)} ${unescape(name)}`;
      const inner = m[3] ?? '';
      if (/<skipped/.test(inner)) skipped.push(id);
      else if (/<(failure|error)/.test(inner)) failed.push(id);
      else passed.push(id);
    }
  }
  return { total: passed.length + failed.length + skipped.length, passed, failed, skipped };
}

function unescape(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** ferry's TLS h2 listener in front of a plain origin, h2spec against it. */
export async function runH2Spec(binary: string): Promise<H2SpecResult> {
  const cert = localhostCert();
  const origin = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 }).end('ok\n'));
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const proxy = createProxy({ upstream: `http://127.0.0.1:${(origin.address() as AddressInfo).port}` });
  await proxy.ready();
  const { server } = serveProxy(proxy, { pairs: [{ certFile: cert.certFile, keyFile: cert.keyFile }] });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'ferry-h2spec-'));
  const report = join(dir, 'report.xml');
  const started = performance.now();
  try {
    const port = String((server.address() as AddressInfo).port);
    // (not execFileSync: the listener runs in this process) exit status 1 means "some test failed": the report says which
    const child = spawn(binary, ['-h', '127.0.0.1', '-p', port, '-t', '-k', '-o', String(H2SPEC_TIMEOUT_S), '-j', report], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
    const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('close', resolve); });
    if (!existsSync(report)) throw new Error(`h2spec exited with ${code} and wrote no report`);
    return { ...parseJUnit(readFileSync(report, 'utf8')), seconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    server.close();
    server.closeAllConnections();
    await proxy.close();
    origin.close();
  }
}

/** Expected passes that failed (regressions) and passes not yet expected. */
export function compareH2Spec(expectedPassed: readonly string[], r: H2SpecResult): { regressions: string[]; improvements: string[] } {
  const want = new Set(expectedPassed);
  const got = new Set(r.passed);
  return { regressions: [...want].filter((id) => !got.has(id)), improvements: [...got].filter((id) => !want.has(id)) };
}

async function main(): Promise<void> {
  const update = process.argv.includes('--update');
  const r = await runH2Spec(buildH2Spec());
  console.log(`h2spec against ferry's TLS listener: ${r.passed.length} passed, ${r.failed.length} failed, ${r.skipped.length} skipped of ${r.total} (${r.seconds.toFixed(1)} s)`);
  for (const id of r.failed) console.log(`  failed: ${id}`);
  if (update) {
    writeFileSync(H2SPEC_EXPECTED, `${JSON.stringify({ suite: 'summerwind/h2spec af83a65', note: 'tests ferry\'s TLS h2 listener passes; regenerate: node bench/h2-conformance.ts --update', passed: r.passed }, null, 2)}\n`);
    console.log(`wrote ${H2SPEC_EXPECTED}`);
  }
  let failed = r.passed.length < H2SPEC_MIN_PASSED;
  if (failed) console.log(`REGRESSION: fewer than ${H2SPEC_MIN_PASSED} tests pass`);
  if (existsSync(H2SPEC_EXPECTED)) {
    const expected = (JSON.parse(readFileSync(H2SPEC_EXPECTED, 'utf8')) as { passed: string[] }).passed;
    const { regressions, improvements } = compareH2Spec(expected, r);
    for (const x of regressions) console.log(`REGRESSION ${x}`);
    for (const x of improvements) console.log(`passes now, not yet expected: ${x}`);
    if (regressions.length > 0) failed = true;
  }
  process.exitCode = failed ? 1 : 0;
}

if (import.meta.main) await main();
