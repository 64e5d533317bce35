/**
 * The house rule (docs/architecture.md, "Where to add a feature"): no function in src/ over about 80 lines without a reason beside
 * it. A longer one carries a `// Long by design: …` or `// About N lines: …` comment just above it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { functionSpans } from '../helpers/function-spans.ts';
import { srcModules } from '../helpers/source-files.ts';

const MAX_LINES = 80;
const REASON = /\/\/ (Long by design|About \d+ lines)\b/;

describe('function length in src/', () => {
  it('the scanner finds a function body past braces in strings, templates, regular expressions and types', () => {
    const body = Array.from({ length: 90 }, (_, i) => `  const v${i} = '{' + \`\${'}'}\` + /[{]/.source;`).join('\n');
    const src = `type T = { a: { b: string } };\nexport function long(x: T): void {\n${body}\n  if (x) { return; }\n}\nconst short = (y: number): number => { return y; };\n`;
    const spans = functionSpans(src);
    assert.deepEqual(spans.map((s) => [s.name, s.startLine, s.lines]), [['long', 2, 93], ['short', 95, 1]]);
  });

  it(`every function over ${MAX_LINES} lines says why, just above it`, () => {
    const unexplained: string[] = [];
    for (const file of srcModules()) {
      const text = fs.readFileSync(file, 'utf8');
      const lines = text.split('\n');
      for (const span of functionSpans(text)) {
        if (span.lines <= MAX_LINES) continue;
        const above = lines.slice(Math.max(0, span.startLine - 9), span.startLine).join('\n');
        if (!REASON.test(above)) unexplained.push(`${file}:${span.startLine} ${span.name} (${span.lines} lines)`);
      }
    }
    assert.deepEqual(unexplained, []);
  });
});
