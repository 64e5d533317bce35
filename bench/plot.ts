/**
 * @module A dependency-free SVG bar chart for the benchmark reports: one panel per measure (e.g. CPU µs per request,
 * req/s), one bar per candidate, the value printed at the end of each bar. Written by bench/proxy.bench.ts to
 * docs/performance.svg.
 */

export interface Panel {
  title: string;
  /** One value per candidate, in the order of `names`; NaN draws no bar. */
  values: number[];
  /** Digits after the decimal point in the labels. */
  digits?: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Panels side by side, candidates as rows; `highlight` names the rows drawn in the accent colour. */
export function barChart(names: string[], panels: Panel[], highlight: (name: string) => boolean): string {
  const rowH = 22;
  const labelW = 190;
  const panelW = 300;
  const top = 40;
  const height = top + names.length * rowH + 16;
  const width = labelW + panels.length * (panelW + 20);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  names.forEach((n, i) => {
    out.push(`<text x="${labelW - 8}" y="${top + i * rowH + 15}" text-anchor="end">${esc(n)}</text>`);
  });
  panels.forEach((p, k) => {
    const x0 = labelW + k * (panelW + 20);
    const finite = p.values.filter(Number.isFinite);
    const max = finite.length ? Math.max(...finite) : 1;
    const scale = (panelW - 70) / (max || 1);
    out.push(`<text x="${x0}" y="${top - 14}" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<line x1="${x0}" y1="${top - 4}" x2="${x0}" y2="${height - 12}" stroke="#999"/>`);
    p.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      const y = top + i * rowH + 3;
      const w = Math.max(1, v * scale);
      out.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${highlight(names[i]!) ? '#d9534f' : '#5b8def'}"/>`);
      out.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + 12}">${v.toFixed(p.digits ?? 0)}</text>`);
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
