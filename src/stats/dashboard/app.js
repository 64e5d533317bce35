// @module The dashboard script. One EventSource per page (the proxy sends at most one update a second); every figure is drawn
// here through the DOM API (no innerHTML of received text, no inline styles: the page runs under a strict CSP).
// Charts are hand-written SVG over the last 15 minutes.

const WINDOW_MS = 15 * 60 * 1000;
const SVG = 'http://www.w3.org/2000/svg';
const statsPath = document.body.dataset.statsPath || location.pathname;

// ── formatting: units and thousands separators ──
const nf0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const int = (n) => nf0.format(n);
const rate = (n) => (n >= 100 ? nf0 : n >= 10 ? nf1 : nf2).format(n);
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
function bytes(n) {
  let i = 0;
  while (Math.abs(n) >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? nf0.format(n) : (n >= 100 ? nf0 : nf1).format(n)} ${UNITS[i]}`;
}
function ms(n) {
  if (n == null) return '–';
  if (n >= 1000) return `${nf2.format(n / 1000)} s`;
  return `${(n >= 100 ? nf0 : n >= 1 ? nf1 : nf2).format(n)} ms`;
}
function pct(x) { return `${(x >= 0.1 || x === 0 ? nf1 : nf2).format(x * 100)} %`; }
function uptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${sec} s`;
}
const clock = (t) => new Date(t).toLocaleTimeString('en-GB', { hour12: false });
const dateTime = (t) => new Date(t).toLocaleString('en-GB', { hour12: false, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });

// ── tiny DOM helpers ──
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}
function s(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}
const classOf = (status) => (status >= 100 && status < 600 ? Math.floor(status / 100) : 0);
function badge(status) {
  const c = classOf(status);
  const failed = c === 5 || c === 0;
  return h('span', { class: `st c${c}`, title: c === 0 ? 'no response was sent' : `${c}xx` }, failed ? '✕ ' : '', status === 0 ? '—' : String(status));
}
function kv(rows) {
  return h('table', { class: 'kv' }, h('tbody', {}, rows.map(([k, v, cls]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', { class: cls }, v)))));
}

// ── state ──
const state = { snapshot: null, points: [], rows: [], lastSeq: 0, pid: 0, inspectorSize: 0, filter: 'all', path: '', paused: false, connected: false, received: 0 };

// ── layout ──
const app = document.getElementById('app');
const liveEl = h('div', { class: 'live off', role: 'status', 'aria-live': 'polite' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { text: 'Connecting…' }));
const metaEl = h('div', { class: 'meta' });
const logo = s('svg', { viewBox: '0 0 32 32', 'aria-hidden': 'true' });
logo.append(s('path', { d: 'M4 20c4 3 8 3 12 0s8-3 12 0M4 25c4 3 8 3 12 0s8-3 12 0', fill: 'none', stroke: 'currentColor', 'stroke-width': '2.4', 'stroke-linecap': 'round' }),
  s('path', { d: 'M9 16V9h14l-3 7z', fill: 'currentColor' }), s('path', { d: 'M16 9V4', stroke: 'currentColor', 'stroke-width': '2.4', 'stroke-linecap': 'round' }));
const kpis = h('section', { class: 'kpis', 'aria-label': 'Key figures' });
const chartsTitle = h('h2', { text: 'Last 15 minutes' });
const charts = h('section', { class: 'charts', 'aria-label': 'Last 15 minutes' });
const cols = h('section', { class: 'cols' });
const routes = h('section', { class: 'panel', id: 'routes', 'aria-labelledby': 'routes-h' });
const inspector = h('section', { class: 'panel', id: 'inspector', 'aria-labelledby': 'insp-h' });
app.append(
  h('header', { class: 'top' }, h('div', { class: 'brand' }, logo, 'ferry', h('span', { class: 'role', text: 'proxy' })), metaEl, liveEl),
  h('main', {},
    h('h1', { class: 'sr', text: 'ferry proxy dashboard' }),
    kpis, h('div', {}, chartsTitle, charts), cols, routes, inspector,
    h('footer', {}, 'Live over Server-Sent Events · the same figures as ', h('a', { href: `${statsPath}?format=json`, text: 'JSON' }), ' and ', h('a', { href: `${statsPath}?format=events`, text: 'an event stream' }))));

// ── KPI cards ──
const KPIS = [
  { id: 'rps', k: 'Requests / s' }, { id: 'total', k: 'Requests' }, { id: 'inflight', k: 'In flight' },
  { id: 'errors', k: 'Errors' }, { id: 'p99', k: 'Latency p99' }, { id: 'out', k: 'Throughput' },
];
const kpiEls = {};
for (const def of KPIS) {
  const v = h('div', { class: 'v', text: '–' });
  const sub = h('div', { class: 's', text: '\u00a0' });
  const card = h('div', { class: 'panel kpi', 'data-kpi': def.id }, h('div', { class: 'k', text: def.k }), v, sub);
  kpiEls[def.id] = { card, v, sub };
  kpis.append(card);
}
function setKpi(id, value, unit, sub, bad) {
  const e = kpiEls[id];
  e.v.replaceChildren(value, ...(unit ? [h('small', { text: unit })] : []));
  e.sub.textContent = sub || '\u00a0';
  e.card.classList.toggle('bad', Boolean(bad));
  if (bad) e.v.prepend('⚠ ');
}

// ── charts ──
const perSec = (key) => (p) => p[key] / p.dt;
const CHARTS = [
  { id: 'requests', title: 'Requests', unit: 'per second', fmt: rate, total: 'requests', series: [{ label: 'req/s', color: '--s1', get: perSec('requests'), fill: true }] },
  { id: 'latency', title: 'Latency', unit: 'of requests finished each second', fmt: ms, series: [
    { label: 'p50', color: '--s1', get: (p) => p.p50 }, { label: 'p90', color: '--s2', get: (p) => p.p90, dash: 'd1' }, { label: 'p99', color: '--s3', get: (p) => p.p99, dash: 'd2' }] },
  { id: 'status', title: 'Responses by class', unit: 'per second, stacked', fmt: rate, stacked: true, series: [
    { label: '2xx', color: '--c2', get: perSec('s2xx') }, { label: '3xx', color: '--c3', get: perSec('s3xx') }, { label: '4xx', color: '--c4', get: perSec('s4xx') },
    { label: '5xx', color: '--c5', get: perSec('s5xx') }, { label: 'no response', color: '--c0', get: perSec('noResponse') }] },
  { id: 'bytes', title: 'Body bytes', unit: 'per second', fmt: (n) => `${bytes(n)}/s`, series: [
    { label: 'in (requests)', color: '--s2', get: perSec('bytesIn') }, { label: 'out (responses)', color: '--s1', get: perSec('bytesOut'), fill: true }] },
  { id: 'inflight', title: 'In flight', unit: 'requests being served', fmt: int, series: [{ label: 'in flight', color: '--s4', get: (p) => p.inFlight, fill: true }] },
  { id: 'memory', title: 'Memory', unit: 'this process', fmt: bytes, series: [
    { label: 'RSS', color: '--s1', get: (p) => p.rssBytes, fill: true }, { label: 'heap used', color: '--s2', get: (p) => p.heapUsedBytes }, { label: 'heap total', color: '--s2', get: (p) => p.heapTotalBytes, dash: 'd2' }] },
  { id: 'loop', title: 'Event loop and GC', unit: 'delay p99, GC pause per second', fmt: ms, series: [
    { label: 'loop delay p99', color: '--s3', get: (p) => p.loopP99Ms }, { label: 'loop delay max', color: '--s3', get: (p) => p.loopMaxMs, dash: 'd2' }, { label: 'GC pauses', color: '--s4', get: (p) => p.gcMs / p.dt, fill: true }] },
  { id: 'upstream', title: 'Upstream errors', unit: 'per second', fmt: rate, series: [{ label: 'errors/s', color: '--c5', get: perSec('upstreamErrors'), fill: true }] },
];
const chartEls = {};
for (const def of CHARTS) {
  const svg = s('svg', { class: 'area', viewBox: '0 0 1000 100', preserveAspectRatio: 'none', role: 'img', 'aria-label': `${def.title}, last 15 minutes` });
  const plot = h('div', { class: 'plot' }, svg);
  const legend = h('div', { class: 'legend' });
  const xl = h('div', { class: 'xl', 'aria-hidden': 'true' });
  const card = h('figure', { class: 'panel chart', 'data-chart': def.id }, h('h3', {}, def.title, h('small', { text: def.unit })), plot, xl, legend);
  chartEls[def.id] = { def, svg, plot, legend, card, xl };
  charts.append(card);
  plot.addEventListener('mousemove', (ev) => hover(def.id, ev));
  plot.addEventListener('mouseleave', () => unhover(def.id));
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * e) return m * e;
  return 10 * e;
}

// The x axis spans the last 15 minutes, or less while the proxy is younger than that (at least a minute).
function span() {
  const p = state.points;
  if (p.length === 0) return { now: Date.now(), width: 60_000 };
  const now = p[p.length - 1].t;
  return { now, width: Math.min(WINDOW_MS, Math.max(60_000, now - p[0].t + p[0].dt * 1000)) };
}
function ago(msAgo) {
  if (msAgo <= 0) return 'now';
  return msAgo >= 60_000 ? `−${nf0.format(msAgo / 60_000)} min` : `−${nf0.format(msAgo / 1000)} s`;
}

// About 80 lines: one SVG chart drawn in a single pass (axes, series, labels) over the same scales.
function drawChart(id) {
  const { def, svg, plot, legend, card, xl } = chartEls[id];
  const { now, width } = span();
  const from = now - width;
  const pts = state.points.filter((p) => p.t > from);
  const x = (t) => ((t - from) / width) * 1000;
  // time labels at round steps back from now (−30 s, −1 min, −5 min…), at most five
  const step = [10e3, 15e3, 30e3, 60e3, 120e3, 300e3].find((st) => width / st <= 5) || 300e3;
  const ticks = [];
  for (let a = 0; a <= width + 1; a += step) ticks.push(a);
  xl.replaceChildren(...ticks.map((a) => {
    const l = h('span', { text: ago(a) });
    l.style.left = `${100 - (a / width) * 100}%`;
    return l;
  }));
  // values per series, stacked when asked
  const vals = def.series.map((se) => pts.map((p) => { const v = se.get(p); return v == null || !Number.isFinite(v) ? null : v; }));
  let tops = vals;
  if (def.stacked) {
    const acc = pts.map(() => 0);
    tops = vals.map((vs) => vs.map((v, i) => (acc[i] += v ?? 0)));
  }
  let max = niceMax(Math.max(0, ...tops.flat().filter((v) => v != null)));
  if (def.fmt === int) max = Math.max(2, Math.ceil(max / 2) * 2); // whole numbers on every label
  const y = (v) => 100 - (v / max) * 100;
  svg.replaceChildren();
  for (const f of [0.25, 0.5, 0.75]) svg.append(s('line', { class: 'gl', x1: 0, x2: 1000, y1: 100 * f, y2: 100 * f }));
  const path = (vs) => {
    let d = '';
    let pen = false;
    vs.forEach((v, i) => {
      if (v == null) { pen = false; return; }
      d += `${pen ? 'L' : 'M'}${x(pts[i].t).toFixed(1)} ${y(v).toFixed(2)}`;
      pen = true;
    });
    return d;
  };
  if (def.stacked) {
    for (let k = tops.length - 1; k >= 0; k--) {
      if (pts.length === 0) break;
      const top = tops[k];
      const bottom = k > 0 ? tops[k - 1] : pts.map(() => 0);
      let d = `M${x(pts[0].t).toFixed(1)} ${y(top[0]).toFixed(2)}`;
      for (let i = 1; i < pts.length; i++) d += `L${x(pts[i].t).toFixed(1)} ${y(top[i]).toFixed(2)}`;
      for (let i = pts.length - 1; i >= 0; i--) d += `L${x(pts[i].t).toFixed(1)} ${y(bottom[i]).toFixed(2)}`;
      const el = s('path', { class: 'stack', d: `${d}Z` });
      el.style.fill = `var(${def.series[k].color})`;
      svg.append(el);
    }
  } else {
    def.series.forEach((se, k) => {
      const d = path(tops[k]);
      if (!d) return;
      if (se.fill && pts.length > 1) {
        const first = tops[k].findIndex((v) => v != null);
        const last = tops[k].length - 1 - [...tops[k]].reverse().findIndex((v) => v != null);
        const area = s('path', { class: 'fill', d: `${d}L${x(pts[last].t).toFixed(1)} 100L${x(pts[first].t).toFixed(1)} 100Z` });
        area.style.fill = `var(${se.color})`;
        svg.append(area);
      }
      const ln = s('path', { class: `ln ${se.dash || ''}`, d });
      ln.style.stroke = `var(${se.color})`;
      svg.append(ln);
    });
  }
  // y labels as HTML, so text is not stretched with the plot
  for (const old of plot.querySelectorAll('.yl')) old.remove();
  for (const f of [0, 0.5, 1]) {
    const l = h('span', { class: 'yl', text: def.fmt(max * f).replace(/ (req\/s)$/, '') });
    l.style.top = `${100 - f * 100}%`;
    plot.append(l);
  }
  // legend: label and the latest value, in words as well as colour
  const last = pts[pts.length - 1];
  legend.replaceChildren(...def.series.map((se) => {
    const sw = h('i', { class: `sw ${def.stacked ? 'box' : se.dash || ''}`, 'aria-hidden': 'true' });
    sw.style.color = `var(${se.color})`;
    const v = last ? se.get(last) : null;
    return h('span', {}, sw, se.label, ' ', h('b', { text: v == null ? '–' : def.fmt(v) }));
  }));
  card.dataset.points = String(pts.length);
  if (def.total) card.dataset.total = String(pts.reduce((a, p) => a + p[def.total], 0));
  card.dataset.last = last ? JSON.stringify(def.series.map((se) => se.get(last))) : '[]';
  if (hovering[id]) hover(id, hovering[id]);
}

const hovering = {};
function hover(id, ev) {
  hovering[id] = { clientX: ev.clientX, clientY: ev.clientY };
  const { def, svg, plot } = chartEls[id];
  const rect = plot.getBoundingClientRect();
  const { now, width } = span();
  const t = now - width + ((ev.clientX - rect.left) / rect.width) * width;
  let best = null;
  for (const p of state.points) if (!best || Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
  plot.querySelector('.tip')?.remove();
  svg.querySelector('.cross')?.remove();
  if (!best || Math.abs(best.t - t) > 30_000) return;
  const xx = ((best.t - (now - width)) / width) * 1000;
  svg.append(s('line', { class: 'cross', x1: xx, x2: xx, y1: 0, y2: 100 }));
  const tip = h('div', { class: 'tip' }, h('div', {}, h('span', { class: 'muted', text: clock(best.t) })),
    def.series.map((se) => { const v = se.get(best); return h('div', {}, h('span', { text: se.label }), h('b', { text: v == null ? '–' : def.fmt(v) })); }));
  const left = (xx / 1000) * rect.width;
  tip.style.left = `${Math.min(left + 12, rect.width - 150)}px`;
  tip.style.top = '4px';
  plot.append(tip);
}
function unhover(id) {
  delete hovering[id];
  chartEls[id].plot.querySelector('.tip')?.remove();
  chartEls[id].svg.querySelector('.cross')?.remove();
}

// ── lower panels: totals, upstream errors, cache, tunnels, process ──
function panel(title, sub, ...body) {
  return h('div', { class: 'panel' }, h('h3', {}, title, sub ? h('small', { text: sub }) : null), ...body);
}
function renderPanels() {
  const snap = state.snapshot;
  if (!snap) return;
  const total = snap.requests.total;
  const codes = Object.entries(snap.requests.byStatus).sort(([a], [b]) => Number(a) - Number(b));
  const out = [];
  out.push(panel('Responses', 'since start', codes.length === 0 ? h('p', { class: 'empty', text: 'No requests yet.' }) :
    h('table', { class: 'kv' }, h('tbody', {}, codes.map(([code, n]) => {
      const c = classOf(Number(code));
      const bar = h('i');
      bar.style.width = `${(n / total) * 100}%`;
      bar.style.background = `var(--c${c})`;
      return h('tr', { 'data-status': code }, h('th', { scope: 'row' }, badge(Number(code)), h('div', { class: 'bar' }, bar)), h('td', {}, int(n), h('div', { class: 'muted', text: pct(n / total) })));
    })))));
  const lat = snap.latencyMs;
  out.push(panel('Totals', `since ${clock(Date.parse(snap.startedAt))}`, kv([
    ['Requests', int(total)], ['Body bytes in', bytes(snap.bytes.in)], ['Body bytes out', bytes(snap.bytes.out)],
    ['Latency mean', ms(lat.mean)], ['p50 · p90', `${ms(lat.p50)} · ${ms(lat.p90)}`], ['p99 · p99.9', `${ms(lat.p99)} · ${ms(lat['p99.9'])}`], ['Max', ms(lat.max)],
  ])));
  const kinds = Object.entries(snap.upstream.byKind || {}).sort((a, b) => b[1] - a[1]);
  out.push(panel('Upstream errors', `${int(snap.upstream.errors)} in total`, kinds.length === 0
    ? h('p', { class: 'ok', text: '✓ None since start' })
    : kv(kinds.map(([k, n]) => [h('span', { class: 'fg5' }, '✕ ', k), int(n)]))));
  if (snap.cache) {
    const c = snap.cache;
    const bar = h('i');
    bar.style.width = `${c.hitRatio * 100}%`;
    bar.style.background = 'var(--c2)';
    const st = c.stored;
    out.push(panel('Cache', st ? st.store : null, h('div', { class: 'big', text: pct(c.hitRatio) }), h('div', { class: 'muted', text: 'hit ratio' }), h('div', { class: 'bar' }, bar),
      kv([['Hits', int(c.hits)], ['Misses', int(c.misses)],
        ...(st ? [['Stored entries', st.entries == null ? 'not known' : int(st.entries)], ['Stored bytes', st.bytes == null ? 'not known' : `${bytes(st.bytes)}${st.maxBytes ? ` of ${bytes(st.maxBytes)}` : ''}`]] : []),
        ...Object.entries(c.byResult).filter(([k]) => k !== 'hit').map(([k, n]) => [`fwd=${k}`, int(n)])])));
  }
  if (snap.tunnels || snap.upgrades) {
    const t = snap.tunnels, u = snap.upgrades;
    const cell = (x, f) => (x ? f(x) : '–');
    const row = (k, f) => h('tr', {}, h('th', { scope: 'row', text: k }), h('td', { text: cell(t, f) }), h('td', { text: cell(u, f) }));
    out.push(panel('Tunnels and upgrades', null, h('table', { class: 'kv' },
      h('thead', {}, h('tr', {}, h('th', {}), h('th', { scope: 'col', text: 'CONNECT' }), h('th', { scope: 'col', text: 'Upgrade' }))),
      h('tbody', {}, row('Open now', (x) => int(x.open)), row('Total', (x) => int(x.total)), row('Refused', (x) => int(x.refused)), row('Errored', (x) => int(x.errored)),
        row('Bytes in', (x) => bytes(x.bytes.in)), row('Bytes out', (x) => bytes(x.bytes.out))))));
  }
  const p = state.points[state.points.length - 1];
  if (p) {
    out.push(panel('Process', `pid ${state.pid}`, kv([
      ['RSS', bytes(p.rssBytes)], ['Heap used / total', `${bytes(p.heapUsedBytes)} / ${bytes(p.heapTotalBytes)}`],
      ['Event-loop delay p99', ms(p.loopP99Ms)], ['Event-loop delay max', ms(p.loopMaxMs)], ['GC pauses, last second', `${ms(p.gcMs)} (longest ${ms(p.gcMaxMs)})`],
    ])));
  }
  cols.replaceChildren(...out);
}

function renderRoutes() {
  const snap = state.snapshot;
  // Per-route and per-target figures (health, load, errors, ejections, retries) are drawn here once the proxy
  // reports `routes` / `pools` in its snapshot; until routes and pools exist there is nothing to show, and nothing is made up.
  const list = snap && (snap.routes || snap.pools);
  routes.replaceChildren(h('h3', { id: 'routes-h' }, 'Routes and targets'), list
    ? h('pre', { class: 'hd', text: JSON.stringify(list, null, 2) })
    : h('p', { class: 'note' }, 'This proxy has no routes or pools: every request goes to ', h('code', { text: '--upstream' }), ' (round robin) or, with ', h('code', { text: '--forward' }), ', to the host it names. Per-route and per-target health, load, errors, ejections and retries will appear here once routes and pools are configured.'));
}

function renderTop() {
  const snap = state.snapshot;
  if (!snap) return;
  const workers = snap.workers ? ` · ${snap.workers} workers (charts and inspector: this one)` : '';
  metaEl.replaceChildren(
    h('span', {}, 'Up ', h('b', { text: uptime(snap.uptimeSeconds) })),
    h('span', {}, 'since ', h('b', { text: dateTime(Date.parse(snap.startedAt)) })),
    h('span', { text: `pid ${state.pid}${workers}` }));
}

function renderKpis() {
  const snap = state.snapshot;
  if (!snap) return;
  const last = state.points[state.points.length - 1];
  const minute = state.points.filter((p) => last && p.t > last.t - 60_000);
  const sum = (k) => minute.reduce((a, p) => a + p[k], 0);
  const secs = minute.reduce((a, p) => a + p.dt, 0) || 1;
  setKpi('rps', last ? rate(last.requests / last.dt) : '0', '', `${rate(sum('requests') / secs)} on average, last minute`);
  setKpi('total', int(snap.requests.total), '', `${bytes(snap.bytes.out)} out · ${bytes(snap.bytes.in)} in`);
  setKpi('inflight', int(snap.requests.inFlight), '', snap.tunnels ? `${int(snap.tunnels.open + (snap.upgrades ? snap.upgrades.open : 0))} tunnels open` : 'requests being served');
  const failed = sum('s5xx') + sum('noResponse');
  const reqs = sum('requests');
  setKpi('errors', reqs ? pct(failed / reqs) : '0 %', '', `${int(failed)} of ${int(reqs)} in the last minute: 5xx or cut`, failed > 0);
  setKpi('p99', ms(snap.latencyMs.p99), '', `p50 ${ms(snap.latencyMs.p50)} · since start`);
  setKpi('out', last ? `${bytes(last.bytesOut / last.dt)}/s` : '0 B/s', '', `in ${last ? bytes(last.bytesIn / last.dt) : '0 B'}/s`);
}

// ── request inspector ──
const FILTERS = [['all', 'All'], ['2', '2xx'], ['3', '3xx'], ['4', '4xx'], ['5', '5xx'], ['0', 'No response']];
const filterButtons = {};
const seg = h('div', { class: 'seg', role: 'group', 'aria-label': 'Status class' });
for (const [key, label] of FILTERS) {
  const count = h('span', { class: 'c' });
  const b = h('button', { type: 'button', 'aria-pressed': key === 'all' ? 'true' : 'false', 'data-filter': key, onclick: () => { state.filter = key; applyFilter(); } }, label, count);
  filterButtons[key] = { b, count };
  seg.append(b);
}
const pathInput = h('input', { type: 'search', placeholder: 'Filter by path…', 'aria-label': 'Filter by path', oninput: (e) => { state.path = e.target.value; applyFilter(); } });
const pauseBtn = h('button', { type: 'button', class: 'btn', 'aria-pressed': 'false', onclick: () => { state.paused = !state.paused; pauseBtn.setAttribute('aria-pressed', String(state.paused)); pauseBtn.textContent = state.paused ? 'Resume' : 'Pause'; if (!state.paused) flushRows(); } }, 'Pause');
const shownEl = h('span', { class: 'count' });
const tbody = h('tbody');
const noneRow = h('tr', {}, h('td', { class: 'none', colspan: '10', text: 'No requests yet.' }));
const table = h('table', { class: 'req' },
  h('thead', {}, h('tr', {}, h('th', { text: 'Time' }), h('th', { text: 'Method' }), h('th', { text: 'Target' }), h('th', { text: 'Status' }), h('th', { class: 'n', text: 'Duration' }),
    h('th', { class: 'n hide-s', text: 'In' }), h('th', { class: 'n', text: 'Out' }), h('th', { class: 'hide-s', text: 'Upstream' }), h('th', { class: 'hide-s', text: 'Cache' }), h('th', { class: 'hide-s', text: 'Request id' }))),
  tbody);
const rowEls = new Map();
let pending = [];

function renderInspectorShell(enabled) {
  if (!enabled) {
    inspector.replaceChildren(h('h3', { id: 'insp-h' }, 'Request inspector'), h('p', { class: 'note' }, 'The request inspector is off (', h('code', { text: '--inspector false' }), ').'));
    return;
  }
  inspector.replaceChildren(h('h3', { id: 'insp-h' }, 'Request inspector', h('small', { text: `last ${int(state.inspectorSize)} requests · secrets redacted · select a row for its heads` })),
    h('div', { class: 'tools' }, seg, pathInput, pauseBtn, shownEl), h('div', { class: 'scroll' }, table));
}

function rowEl(r) {
  const c = classOf(r.status);
  const failed = c === 5 || c === 0 || r.error !== '';
  const tr = h('tr', { tabindex: '0', class: failed ? 'err' : '', 'data-seq': String(r.seq), 'data-class': String(c), 'aria-label': `${r.method} ${r.target}, status ${r.status || 'none'}${failed ? ', failed' : ''}. Show heads.`,
    onclick: () => openDetail(r), onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openDetail(r); } } },
  h('td', { class: 'muted', text: clock(r.startedAt) }), h('td', { class: 'm', text: r.method }), h('td', { class: 't', title: r.target, text: r.target }),
  h('td', {}, badge(r.status)), h('td', { class: 'n', text: ms(r.durationMs) }), h('td', { class: 'n hide-s', text: bytes(r.bytesIn) }), h('td', { class: 'n', text: bytes(r.bytesOut) }),
  h('td', { class: 'up hide-s', title: r.upstream, text: r.upstream || '—' }), h('td', { class: 'hide-s', text: r.cache || '—' }), h('td', { class: 'id hide-s', title: r.id, text: r.id }));
  return tr;
}
const matches = (r) => (state.filter === 'all' || String(classOf(r.status)) === state.filter) && (state.path === '' || r.target.toLowerCase().includes(state.path.toLowerCase()));

function applyFilter() {
  for (const [key, { b, count }] of Object.entries(filterButtons)) {
    b.setAttribute('aria-pressed', String(key === state.filter));
    count.textContent = int(key === 'all' ? state.rows.length : state.rows.filter((r) => String(classOf(r.status)) === key).length);
  }
  let shown = 0;
  for (const r of state.rows) {
    const el = rowEls.get(r.seq);
    const ok = matches(r);
    el.hidden = !ok;
    if (ok) shown++;
  }
  noneRow.hidden = state.rows.length > 0;
  if (!noneRow.isConnected) tbody.append(noneRow);
  shownEl.textContent = `${int(shown)} of ${int(state.rows.length)} shown${state.paused && pending.length ? ` · ${int(pending.length)} waiting` : ''}`;
}

function addRows(rows, animate) {
  if (!rows) return;
  const fresh = rows.filter((r) => r.seq > state.lastSeq);
  if (fresh.length === 0) return;
  state.lastSeq = fresh[fresh.length - 1].seq;
  pending.push(...fresh);
  if (pending.length > state.inspectorSize) pending = pending.slice(-state.inspectorSize);
  if (!state.paused) flushRows(animate);
  else applyFilter();
}
function flushRows(animate) {
  for (const r of pending) {
    const el = rowEl(r);
    if (animate && pending.length <= 20) el.classList.add('new'); // a trickle is highlighted, a flood is not
    state.rows.push(r);
    rowEls.set(r.seq, el);
    tbody.prepend(el);
  }
  pending = [];
  while (state.rows.length > state.inspectorSize) {
    const old = state.rows.shift();
    rowEls.get(old.seq)?.remove();
    rowEls.delete(old.seq);
  }
  applyFilter();
}

// ── detail dialog: the heads, as redacted by the proxy ──
const dialog = h('dialog', { 'aria-labelledby': 'dlg-t' });
document.body.append(dialog);
function heads(title, line, fields) {
  return h('section', {}, h('h3', { text: title }), h('div', { class: 'hd' }, h('div', { class: 'l', text: line }),
    (fields || []).map(([n, v]) => h('div', { class: 'l' }, h('b', { text: n }), ': ', v === '[redacted]' ? h('span', { class: 'red', text: v }) : v))));
}
function openDetail(r) {
  const facts = [['Status', badge(r.status)], ['Duration', ms(r.durationMs)], ['Body in', bytes(r.bytesIn)], ['Body out', bytes(r.bytesOut)],
    ['Upstream', r.upstream || '— (answered by ferry)'], ['Cache', r.cache || '—'], ['Request id', r.id], ['Started', dateTime(r.startedAt)]];
  if (r.error) facts.push(['Error', h('span', { class: 'fg5', text: `✕ ${r.error}` })]);
  dialog.replaceChildren(
    h('div', { class: 'dh' }, badge(r.status), h('div', { class: 't', id: 'dlg-t', text: `${r.method} ${r.target}` }), h('button', { type: 'button', class: 'btn', onclick: () => dialog.close(), text: 'Close' })),
    h('div', { class: 'db' },
      h('dl', { class: 'facts' }, facts.map(([k, v]) => h('div', {}, h('dt', { text: k }), h('dd', {}, v)))),
      h('div', { class: 'heads' },
        heads('Request head (as received)', `${r.method} ${r.target} HTTP/${r.httpVersion}`, r.requestHeaders),
        r.responseHeaders ? heads('Response head (as sent)', `HTTP/1.1 ${r.status}`, r.responseHeaders) : h('section', {}, h('h3', { text: 'Response head' }), h('p', { class: 'note', text: 'No response head was sent (the client went away or the connection was cut).' })))));
  dialog.showModal();
  dialog.querySelector('.btn')?.focus();
}

// ── the event stream ──
function setLive(on, text) {
  state.connected = on;
  liveEl.className = `live ${on ? 'on' : 'off'}`;
  liveEl.lastChild.textContent = text;
}
function renderAll() {
  const { width } = span();
  chartsTitle.textContent = width >= WINDOW_MS ? 'Last 15 minutes' : 'Since start (the charts keep the last 15 minutes)';
  renderTop();
  renderKpis();
  for (const id of Object.keys(chartEls)) drawChart(id);
  renderPanels();
  renderRoutes();
}
let inited = false;
const events = new EventSource(statsPath);
events.addEventListener('open', () => setLive(true, 'Live'));
events.addEventListener('error', () => setLive(false, events.readyState === EventSource.CLOSED ? 'Disconnected' : 'Reconnecting…'));
events.addEventListener('init', (e) => {
  const d = JSON.parse(e.data);
  inited = true;
  if (state.pid !== 0 && d.pid !== state.pid) { // another process answered (a restart, or another worker): start over
    state.rows = []; state.lastSeq = 0; pending = [];
    for (const el of rowEls.values()) el.remove();
    rowEls.clear();
  }
  state.snapshot = d.snapshot;
  state.pid = d.pid;
  state.inspectorSize = d.inspectorSize;
  state.points = d.history.rows.map((row) => Object.fromEntries(d.history.fields.map((f, i) => [f, row[i]])));
  state.received++;
  renderInspectorShell(d.requests !== null);
  if (d.requests) addRows(d.requests, false);
  renderAll();
  document.body.dataset.updates = String(state.received);
});
events.addEventListener('update', (e) => {
  if (!inited) return; // the init event comes first; an update that overtook it is replaced by the next one
  const d = JSON.parse(e.data);
  state.snapshot = d.snapshot;
  const lastT = state.points.length ? state.points[state.points.length - 1].t : 0;
  if (d.point.t > lastT) state.points.push(d.point);
  const cutoff = d.point.t - WINDOW_MS - 5000;
  while (state.points.length && state.points[0].t < cutoff) state.points.shift();
  state.received++;
  if (d.requests) addRows(d.requests, true);
  renderAll();
  document.body.dataset.updates = String(state.received);
});
