// Charts through Debian's Chart.js (UMD build, window.Chart, served at /vendor/chart.js). Every
// chart also carries its figures as a table (screen readers, print, and no Chart.js at all).
import { h } from './dom.js';
import { t } from './i18n.js';

export const COLORS = ['#1f5f99', '#d9822b', '#2e7d32', '#8e44ad', '#c62828', '#00838f', '#6d4c41', '#546e7a'];
export const RISK_COLORS = { low: '#2e7d32', medium: '#b8860b', high: '#e65100', red: '#c62828' };

const live = new Set();

// Charts whose canvas left the page are destroyed (their resize observers go with them).
function sweep() {
  for (const chart of live) {
    if (!chart.canvas || !chart.canvas.isConnected) { chart.destroy(); live.delete(chart); }
  }
}

function available() {
  return typeof window.Chart === 'function';
}

// <figure> with a canvas, a caption and a data table in a <details>.
// `showTitle: false` when the section around it already says what it is.
export function chartFigure({ title, caption, table, size = 'medium', testid, showTitle = true }) {
  const canvas = h('canvas', { role: 'img', 'aria-label': title });
  const figure = h('figure', { class: ['chart', `chart-${size}`], dataset: testid ? { testid } : {} },
    h('figcaption', {}, showTitle ? h('span', { class: 'chart-title' }, title) : null, caption ? h('span', { class: 'hint' }, caption) : null),
    available() ? h('div', { class: 'chart-canvas' }, canvas) : h('p', { class: 'hint' }, t('chart.unavailable')),
    table ? h('details', { class: 'chart-table' }, h('summary', {}, t('chart.asTable')), table) : null);
  return { figure, canvas: available() ? canvas : null };
}

export function dataTable(headers, rows) {
  return h('table', { class: 'table compact' },
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell) => h('td', {}, cell))))));
}

function base(extra) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { display: true, position: 'bottom', labels: { boxWidth: 12 } } },
    ...extra,
  };
}

// Created after the canvas is in the document (Chart.js measures its parent).
function create(canvas, config) {
  if (!canvas) return null;
  const make = () => {
    sweep();
    const chart = new window.Chart(canvas, config);
    live.add(chart);
    return chart;
  };
  if (canvas.isConnected) return make();
  requestAnimationFrame(() => { if (canvas.isConnected) make(); });
  return null;
}

export function barChart(canvas, { labels, datasets, horizontal = false, stacked = false, max, format }) {
  const valueAxis = {
    beginAtZero: true, stacked, max,
    ticks: format ? { callback: (value) => format(value) } : {},
  };
  return create(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: datasets.map((set, i) => ({
        backgroundColor: set.colors || COLORS[i % COLORS.length], ...set,
      })),
    },
    options: base({
      indexAxis: horizontal ? 'y' : 'x',
      scales: horizontal
        ? { x: valueAxis, y: { stacked } }
        : { x: { stacked }, y: valueAxis },
      plugins: {
        legend: { display: datasets.length > 1, position: 'bottom' },
        tooltip: format ? { callbacks: { label: (c) => `${c.dataset.label}: ${format(c.parsed[horizontal ? 'x' : 'y'])}` } } : {},
      },
    }),
  });
}

// Points are {x: ms, y: value}; `marker` draws a vertical line (the alarm's activation).
export function timeChart(canvas, { datasets, marker, markerLabel, formatTime, unit, xMin, xMax }) {
  const markerPlugin = {
    id: 'fwMarker',
    afterDatasetsDraw(chart) {
      if (marker === undefined || marker === null) return;
      const x = chart.scales.x.getPixelForValue(marker);
      const { top, bottom, left, right } = chart.chartArea;
      if (x < left || x > right) return;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = '#c62828';
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      if (markerLabel) {
        ctx.fillStyle = '#c62828';
        ctx.font = '12px system-ui, sans-serif';
        ctx.textAlign = x > (left + right) / 2 ? 'right' : 'left';
        ctx.fillText(markerLabel, x + (ctx.textAlign === 'left' ? 4 : -4), top + 12);
      }
      ctx.restore();
    },
  };
  return create(canvas, {
    type: 'line',
    data: {
      datasets: datasets.map((set, i) => ({
        borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length],
        borderWidth: 2, pointRadius: 0, tension: 0, parsing: false, spanGaps: false, ...set,
      })),
    },
    options: base({
      scales: {
        x: { type: 'linear', min: xMin, max: xMax, ticks: { maxTicksLimit: 6, callback: (value) => formatTime(value) } },
        y: { title: { display: !!unit, text: unit || '' } },
      },
      interaction: { mode: 'nearest', intersect: false },
      plugins: {
        legend: { display: datasets.length > 1 },
        tooltip: { callbacks: { title: (items) => items.length ? formatTime(items[0].parsed.x) : '' } },
      },
    }),
    plugins: [markerPlugin],
  });
}

// A last-hour sparkline as SVG: no chart library, no canvas per channel.
export function sparkline(points, { width = 160, height = 36, label } = {}) {
  const svg = h('svg:svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: 'sparkline', role: 'img', 'aria-label': label || '' });
  const values = points.filter((p) => Number.isFinite(p.y));
  if (values.length < 2) return svg;
  const xs = values.map((p) => p.x);
  const ys = values.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const px = (x) => ((x - x0) / (x1 - x0 || 1)) * (width - 2) + 1;
  const py = (y) => height - 1 - ((y - y0) / (y1 - y0)) * (height - 2);
  // A sample without a good value breaks the line instead of bridging the gap.
  let run = [];
  const flush = () => {
    if (run.length > 1) svg.append(h('svg:polyline', { points: run.join(' '), class: 'sparkline-line' }));
    run = [];
  };
  for (const p of points) {
    if (Number.isFinite(p.y)) run.push(`${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
    else flush();
  }
  flush();
  return svg;
}

// GET /api/v1/channels/{name}/samples -> [{x: ms, y: value}]; a sample without a good value is a
// gap (y = NaN), not a zero.
export function samplePoints(data) {
  const list = Array.isArray(data) ? data : (data && (data.points || data.samples)) || [];
  return list.map((p) => {
    if (Array.isArray(p)) return { x: Number(p[0]), y: p[1] === null ? NaN : Number(p[1]) };
    const x = p.time_ms ?? (p.time ? Date.parse(p.time) : undefined);
    const good = p.value !== null && p.value !== undefined && (!p.quality || p.quality === 'good');
    return { x: Number(x), y: good ? Number(p.value) : NaN };
  }).filter((p) => Number.isFinite(p.x));
}
