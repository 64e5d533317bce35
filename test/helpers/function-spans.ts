/**
 * Function bodies in TypeScript source with their first and last lines, found by a scanner rather than a parser (the
 * TypeScript 7 compiler has no JavaScript API): types are stripped by node:module, comments, strings, templates and
 * regular expressions are blanked, and a `{` counts as a function body when it follows a parameter list or an arrow.
 * Good enough to hold src/ to the house rule "no function over about 80 lines without a reason"
 * (docs/architecture.md); not a general parser.
 */
import { stripTypeScriptTypes } from 'node:module';

export interface FunctionSpan { name: string; startLine: number; endLine: number; lines: number }

/** `source` with comments, string and template literals and regular expressions replaced by spaces (newlines kept). */
function blankLiterals(src: string): string {
  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');
  let out = '';
  let prev = ''; // the last significant token (an identifier or one punctuation character): decides regex vs division
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const d = src[i + 1];
    let end = -1;
    if (c === '/' && d === '/') { const j = src.indexOf('\n', i); end = j < 0 ? src.length : j; }
    else if (c === '/' && d === '*') end = src.indexOf('*/', i + 2) + 2;
    else if (c === '"' || c === "'") { let j = i + 1; while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1; end = j + 1; }
    else if (c === '`') end = templateEnd(src, i);
    else if (c === '/' && (prev === '' || /^[(,=:[!&|?{};+\-*%<>~^]$|^(return|typeof|case|of|in)$/.test(prev))) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && (src[j] !== '/' || inClass)) { if (src[j] === '\\') j++; else if (src[j] === '[') inClass = true; else if (src[j] === ']') inClass = false; j++; }
      end = j + 1;
    }
    if (end > 0) { out += blank(src.slice(i, end)); if (!(c === '/' && (d === '/' || d === '*'))) prev = 'x'; i = end; continue; }
    out += c;
    if (!/\s/.test(c)) prev = /[\w$]/.test(c) && /[\w$]$/.test(prev) && prev !== 'x' ? prev + c : c;
    i++;
  }
  return out;
}

function templateEnd(src: string, start: number): number {
  let j = start + 1;
  let depth = 0;
  while (j < src.length) {
    if (src[j] === '\\') { j += 2; continue; }
    if (src[j] === '`' && depth === 0) return j + 1;
    if (src[j] === '$' && src[j + 1] === '{') { depth++; j += 2; continue; }
    if (src[j] === '}' && depth > 0) depth--;
    j++;
  }
  return src.length;
}

const AFTER_PARAMS = /(=>\s*$)|(\)\s*(:[^{;=]*)?$)/;
const CONTROL = /\b(if|for|while|switch|catch|with)\s*\((?:[^()]|\([^()]*\))*\)\s*$/;
const NAME = /(?:function\s*\*?\s*|\b)([A-Za-z_$][\w$]*)\s*(?:=\s*(?:async\s*)?(?:function\s*)?)?(?:<[^>]*>)?\((?:[^()]|\([^()]*\))*\)\s*(?::[^{;=]*)?(?:=>\s*)?$/;

/** Every function body in `source` (TypeScript), outermost and nested alike. */
export function functionSpans(source: string): FunctionSpan[] {
  const text = blankLiterals(stripTypeScriptTypes(source, { mode: 'strip' }));
  const lineStarts = [0];
  for (let k = 0; k < text.length; k++) if (text[k] === '\n') lineStarts.push(k + 1);
  const lineOf = (pos: number): number => { let lo = 0; let hi = lineStarts.length - 1; while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (lineStarts[mid]! <= pos) lo = mid; else hi = mid - 1; } return lo + 1; };
  const open: Array<{ pos: number; name: string | null }> = [];
  const spans: FunctionSpan[] = [];
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '{') {
      const before = text.slice(Math.max(0, k - 400), k);
      const isFunction = AFTER_PARAMS.test(before) && !CONTROL.test(before);
      open.push({ pos: k, name: isFunction ? (NAME.exec(before)?.[1] ?? '(anonymous)') : null });
    } else if (text[k] === '}') {
      const o = open.pop();
      if (o?.name != null) { const startLine = lineOf(o.pos); const endLine = lineOf(k); spans.push({ name: o.name, startLine, endLine, lines: endLine - startLine + 1 }); }
    }
  }
  return spans;
}
