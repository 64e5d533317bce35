/**
 * @module A strict reader of the Prometheus text format (0.0.4) for tests: every line must be a comment, HELP/TYPE,
 * or `name{labels} value`; each sample's metric must have had a TYPE. Throws on anything else.
 */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*,?)?\})? ([-+]?(?:[0-9.]+(?:[eE][-+]?\d+)?|Inf|NaN))(?: -?\d+)?$/;
const TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;

/** `name{labels}` → value. */
export function parsePrometheusText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const typed = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = TYPE.exec(line);
    if (t) { typed.set(t[1]!, t[2]!); continue; }
    if (line.startsWith('# HELP ') || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const name = m[1]!;
    const base = typed.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!typed.has(base)) throw new Error(`sample ${name} has no # TYPE line`);
    out.set(`${name}${m[2] ?? ''}`, Number(m[3]!.replace(/^\+?Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity')));
  }
  return out;
}
