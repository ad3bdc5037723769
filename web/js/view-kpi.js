// #/kpi?since=180d&area= : GET /api/v1/kpi?since=&area= (the same object as `floorwatch kpi
// --json`), drawn as charts: reports per month, closure rate, time to close, overdue, top-5 risk
// points, rule precision, recordable incident rate.
import { api } from './api.js';
import { h, field, option, emptyNote, number, percent, duration } from './dom.js';
import { t } from './i18n.js';
import { routeHash } from './router.js';
import { chartFigure, barChart, dataTable, COLORS, RISK_COLORS } from './charts.js';

export const meta = { title: 'kpi.title', topics: ['orders'] };

const PERIODS = ['30d', '90d', '180d', '365d'];

export async function build(ctx) {
  const since = PERIODS.includes(ctx.route.query.get('since')) ? ctx.route.query.get('since') : '180d';
  const area = ctx.route.query.get('area') || '';
  const kpi = await api.get('/api/v1/kpi', { since, area });
  return h('div', { class: 'view-kpi' },
    h('div', { class: 'view-head' }, h('h1', {}, t('kpi.title')),
      h('button', { type: 'button', class: 'btn btn-quiet no-print', onclick: () => window.print() }, t('app.print'))),
    periodForm(ctx, since, area, kpi),
    summaryCards(kpi),
    h('div', { class: 'chart-grid' },
      reportsPerMonth(kpi),
      closureRate(kpi),
      timeToClose(kpi),
      topRiskPoints(kpi.top_risk_points || [], 5),
      rulePrecision(kpi)));
}

function periodForm(ctx, since, area, kpi) {
  const areas = [...new Set((kpi.reports_per_area_month || []).map((r) => r.area))].sort();
  if (area && !areas.includes(area)) areas.push(area);
  const period = h('select', { id: 'kpi-since', dataset: { testid: 'kpi-since' } }, PERIODS.map((p) => option(p, t(`kpi.period.${p}`), p === since)));
  const areaSelect = h('select', { id: 'kpi-area', dataset: { testid: 'kpi-area' } }, option('', t('kpi.allAreas')), areas.map((a) => option(a, a, a === area)));
  const apply = () => ctx.navigate(routeHash('#/kpi', { since: period.value, area: areaSelect.value }));
  period.addEventListener('change', apply);
  areaSelect.addEventListener('change', apply);
  return h('form', { class: 'filters no-print', dataset: { liveFilter: '' }, onsubmit: (e) => { e.preventDefault(); apply(); } },
    field(t('kpi.period'), period), field(t('order.area'), areaSelect));
}

function card(label, value, testid, extra) {
  return h('div', { class: 'kpi-card', dataset: { testid } }, h('span', { class: 'kpi-label' }, label), h('strong', { class: 'kpi-value' }, value), extra ? h('span', { class: 'hint' }, extra) : null);
}

function summaryCards(kpi) {
  const cohorts = kpi.closure_by_cohort || [];
  const reported = cohorts.reduce((s, c) => s + (c.reported || 0), 0);
  const closed = cohorts.reduce((s, c) => s + (c.closed || 0), 0);
  const ttc = kpi.time_to_close || {};
  const incidents = kpi.incident_rate || {};
  return h('div', { class: 'kpi-cards' },
    card(t('kpi.overdueNow'), number(kpi.overdue ?? 0, 0), 'kpi-overdue'),
    card(t('kpi.reported'), number(reported, 0), 'kpi-reported'),
    card(t('kpi.closureRate'), reported ? percent(closed / reported) : '–', 'kpi-closure', t('kpi.closedOf', { closed, reported })),
    card(t('kpi.medianToClose'), ttc.count ? duration(ttc.median_ms) : '–', 'kpi-ttc', ttc.count ? t('kpi.p90', { value: duration(ttc.p90_ms) }) : null),
    card(t('kpi.incidentRate'), incidents.per_200k_hours === null || incidents.per_200k_hours === undefined ? '–' : number(incidents.per_200k_hours, 2),
      'kpi-incidents', incidents.per_200k_hours === null || incidents.per_200k_hours === undefined
        ? t('kpi.noHours', { n: incidents.recordable_incidents ?? 0 })
        : t('kpi.incidentDetail', { n: incidents.recordable_incidents ?? 0, hours: number(incidents.hours_worked, 0), per1m: number(incidents.per_1m_hours, 2) })));
}

function reportsPerMonth(kpi) {
  const rows = kpi.reports_per_area_month || [];
  if (!rows.length) return emptyFigure(t('kpi.reportsPerMonth'));
  const months = [...new Set(rows.map((r) => r.month))].sort();
  const areas = [...new Set(rows.map((r) => r.area))].sort();
  const { figure, canvas } = chartFigure({
    title: t('kpi.reportsPerMonth'), testid: 'chart-reports',
    table: dataTable([t('kpi.month'), t('order.area'), t('kpi.reported')], rows.map((r) => [r.month, r.area, String(r.reported)])),
  });
  barChart(canvas, {
    labels: months, stacked: true,
    datasets: areas.map((area, i) => ({ label: area, backgroundColor: COLORS[i % COLORS.length],
      data: months.map((m) => (rows.find((r) => r.month === m && r.area === area) || {}).reported || 0) })),
  });
  return figure;
}

function closureRate(kpi) {
  const cohorts = kpi.closure_by_cohort || [];
  if (!cohorts.length) return emptyFigure(t('kpi.closureByMonth'));
  const { figure, canvas } = chartFigure({
    title: t('kpi.closureByMonth'), caption: t('kpi.closureHint'), testid: 'chart-closure',
    table: dataTable([t('kpi.month'), t('kpi.reported'), t('kpi.closed'), t('kpi.dismissed'), t('kpi.closureRate')],
      cohorts.map((c) => [c.cohort, String(c.reported), String(c.closed), String(c.dismissed), percent(c.closure_rate)])),
  });
  barChart(canvas, {
    labels: cohorts.map((c) => c.cohort), max: 1, format: (v) => percent(v),
    datasets: [{ label: t('kpi.closureRate'), data: cohorts.map((c) => c.closure_rate), backgroundColor: COLORS[2] }],
  });
  return figure;
}

function timeToClose(kpi) {
  const groups = [['kpi.toClose', kpi.time_to_close]];
  for (const [step, d] of Object.entries(kpi.time_per_step || {})) groups.push([`step.${step}`, d]);
  const present = groups.filter(([, d]) => d && d.count);
  if (!present.length) return emptyFigure(t('kpi.timeToClose'));
  const hours = (ms) => ms / 3600000;
  const { figure, canvas } = chartFigure({
    title: t('kpi.timeToClose'), caption: t('kpi.hoursHint'), testid: 'chart-time',
    table: dataTable([t('kpi.what'), t('kpi.mean'), t('kpi.median'), t('kpi.p90label'), t('kpi.count')],
      present.map(([key, d]) => [t(key), duration(d.mean_ms), duration(d.median_ms), duration(d.p90_ms), String(d.count)])),
  });
  barChart(canvas, {
    labels: present.map(([key]) => t(key)), format: (v) => `${number(v, 1)} h`,
    datasets: [['kpi.mean', 'mean_ms'], ['kpi.median', 'median_ms'], ['kpi.p90label', 'p90_ms']].map(([key, field], i) => ({
      label: t(key), data: present.map(([, d]) => hours(d[field])), backgroundColor: COLORS[i] })),
  });
  return figure;
}

// Shared with the weekly report.
export function topRiskPoints(points, limit, showTitle = true) {
  const top = points.slice(0, limit);
  if (!top.length) return emptyFigure(t('kpi.topRisk'));
  const { figure, canvas } = chartFigure({
    title: t('kpi.topRisk'), caption: t('kpi.topRiskHint'), testid: 'chart-risk-points', showTitle,
    table: dataTable(['#', t('order.equipment'), t('order.area'), t('kpi.score'), t('kpi.open'), t('kpi.recent')],
      top.map((p, i) => [String(i + 1), p.equipment, p.area, number(p.score, 1), String(p.open_orders), String(p.recent_orders)])),
  });
  const colorOf = (score) => (score >= 8 ? RISK_COLORS.red : score >= 4 ? RISK_COLORS.high : score >= 2 ? RISK_COLORS.medium : RISK_COLORS.low);
  barChart(canvas, {
    labels: top.map((p) => p.equipment), horizontal: true,
    datasets: [{ label: t('kpi.score'), data: top.map((p) => p.score), backgroundColor: top.map((p) => colorOf(p.score)) }],
  });
  return figure;
}

function rulePrecision(kpi) {
  const rules = kpi.rule_precision || [];
  if (!rules.length) return emptyFigure(t('kpi.rulePrecision'));
  const { figure, canvas } = chartFigure({
    title: t('kpi.rulePrecision'), caption: t('kpi.precisionHint'), testid: 'chart-precision',
    table: dataTable([t('order.rule'), t('kpi.confirmed'), t('kpi.dismissed'), t('kpi.precision')],
      rules.map((r) => [r.rule_id, String(r.confirmed), String(r.dismissed), percent(r.precision)])),
  });
  barChart(canvas, {
    labels: rules.map((r) => r.rule_id), horizontal: true, stacked: true,
    datasets: [
      { label: t('kpi.confirmed'), data: rules.map((r) => r.confirmed), backgroundColor: COLORS[2] },
      { label: t('kpi.dismissed'), data: rules.map((r) => r.dismissed), backgroundColor: COLORS[4] },
    ],
  });
  return figure;
}

function emptyFigure(title) {
  return h('figure', { class: 'chart chart-empty' }, h('figcaption', {}, h('span', { class: 'chart-title' }, title)), emptyNote(t('kpi.noData')));
}
