/**
 * @module `npm run bench`: runs every bench/*.bench.ts in sequence (or those named on the command line, e.g.
 * `npm run bench -- proxy`), prints progress and tables, and writes them all to bench/RESULTS.md.
 *
 * The shape every bench module exports:
 *   export async function run(ctx: BenchContext): Promise<BenchResult[] | BenchReport>
 * A plain BenchResult[] is printed as a name/value/unit table; a BenchReport may add its own markdown (tables,
 * ratios, notes), which then replaces the generic table in RESULTS.md.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchResult { name: string; value: number; unit: string; notes?: string }
export interface BenchReport { results: BenchResult[]; markdown?: string }
export interface BenchContext {
  /** Progress line on stdout. */
  log(message: string): void;
}

const DIR = dirname(fileURLToPath(import.meta.url));

function formatValue(v: number): string {
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(Math.round(v * 100) / 100);
}

function genericTable(results: BenchResult[]): string {
  const rows = results.map((r) => `| ${r.name} | ${formatValue(r.value)} | ${r.unit} | ${r.notes ?? ''} |`);
  return ['| measure | value | unit | notes |', '|---|---:|---|---|', ...rows].join('\n');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const files = readdirSync(DIR).filter((f) => f.endsWith('.bench.ts')).sort()
    .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const sections: string[] = [
    '# ferry benchmark results',
    '',
    `Run ${new Date().toISOString()} on ${cpu} (${os.cpus().length} cores), Linux ${os.release()}, Node ${process.version}.`,
    'Loopback only. Produced by `npm run bench`; numbers from one noisy machine, read them as ratios.',
  ];
  for (const file of files) {
    const name = basename(file, '.bench.ts');
    console.log(`\n▶ ${name} (bench/${file})`);
    const started = performance.now();
    const mod = (await import(pathToFileURL(join(DIR, file)).href)) as { run(ctx: BenchContext): Promise<BenchResult[] | BenchReport> };
    let report: BenchReport;
    try {
      const out = await mod.run({ log: (m) => console.log(`  ${m}`) });
      report = Array.isArray(out) ? { results: out } : out;
    } catch (err) {
      console.error(`  ${name} failed: ${err instanceof Error ? err.stack : String(err)}`);
      sections.push('', `## ${name}`, '', `Failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
      continue;
    }
    const table = report.markdown ?? genericTable(report.results);
    console.log(`\n${table}\n  (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    sections.push('', `## ${name}`, '', table);
  }
  const out = join(DIR, 'RESULTS.md');
  // a partial run (names given) keeps the other sections of the previous file
  if (wanted.length > 0) {
    try {
      const previous = readFileSync(out, 'utf8').split(/\n(?=## )/).slice(1)
        .filter((s) => !files.some((f) => s.startsWith(`## ${basename(f, '.bench.ts')}\n`)));
      for (const s of previous) sections.push('', s.trimEnd());
    } catch { /* first run */ }
  }
  writeFileSync(out, sections.join('\n') + '\n');
  console.log(`\nwrote ${out}`);
}

await main();
