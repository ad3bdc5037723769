// #/weekly?until=YYYY-MM-DD : GET /api/v1/reports/weekly?until= -> the week's figures (top-5
// risk points, open orders overdue first, this week against the previous one) and the same
// report as Markdown. Printable: the print stylesheet drops the chrome.
import { api } from './api.js';
import { h, field, emptyNote, riskBadge, stateBadge, dayOnly, dateTime, number, percent, duration } from './dom.js';
import { t } from './i18n.js';
import { routeHash } from './router.js';
import { renderMarkdown } from './markdown.js';
import { topRiskPoints } from './view-kpi.js';
import { orderHref, stepDue, place } from './orders-common.js';

export const meta = { title: 'weekly.title', topics: ['orders'] };

export async function build(ctx) {
  const untilDay = /^\d{4}-\d{2}-\d{2}$/.test(ctx.route.query.get('until') || '') ? ctx.route.query.get('until') : '';
  const report = await api.get('/api/v1/reports/weekly', untilDay ? { until: `${untilDay}T00:00:00Z` } : null);
  const week = report.week || {};
  const dayInput = h('input', { type: 'date', id: 'weekly-until', value: untilDay, dataset: { testid: 'weekly-until' } });
  dayInput.addEventListener('change', () => ctx.navigate(routeHash('#/weekly', { until: dayInput.value })));
  const structured = Array.isArray(report.top_risk_points) || Array.isArray(report.open_orders) || report.this_week;
  return h('article', { class: 'view-weekly printable' },
    h('div', { class: 'view-head' },
      h('h1', {}, t('weekly.title')),
      h('button', { type: 'button', class: 'btn btn-primary no-print', dataset: { testid: 'weekly-print' }, onclick: () => window.print() }, t('app.print'))),
    h('form', { class: 'filters no-print', dataset: { liveFilter: '' }, onsubmit: (e) => e.preventDefault() }, field(t('weekly.until'), dayInput, t('weekly.untilHint'))),
    week.since_ms ? h('p', { class: 'week-range' }, t('weekly.range', { since: dayOnly(week.since_ms), until: dayOnly(week.until_ms) }),
      report.generated_ms ? ` · ${t('weekly.generated', { when: dateTime(report.generated_ms) })}` : '') : null,
    structured ? [
      h('section', { class: 'panel' }, h('h2', {}, t('weekly.topRisk')), topRiskPoints(report.top_risk_points || [], 5, false)),
      todoPanel(report.open_orders || []),
      comparePanel(report.this_week || {}, report.previous_week || {}, report.overdue),
    ] : null,
    report.markdown ? (structured
      ? h('details', { class: 'panel no-print' }, h('summary', {}, t('weekly.markdown')), renderMarkdown(report.markdown))
      : h('section', { class: 'panel', dataset: { testid: 'weekly-markdown' } }, renderMarkdown(report.markdown))) : null);
}

function todoPanel(orders) {
  return h('section', { class: 'panel', dataset: { testid: 'weekly-todo' } }, h('h2', {}, t('weekly.todo')),
    orders.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table compact' },
      h('thead', {}, h('tr', {}, ['order.number', 'order.risk', 'order.state', 'order.place', 'order.title', 'order.assignee', 'order.due']
        .map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, orders.map((o) => h('tr', { class: o.overdue ? 'row-overdue' : null },
        h('td', {}, h('a', { href: orderHref(o), class: 'order-link' }, o.number || o.id)), h('td', {}, riskBadge(o.risk)), h('td', {}, stateBadge(o.status)),
        h('td', {}, place(o)), h('td', {}, o.title || ''), h('td', {}, o.assignee || '–'), h('td', {}, stepDue(o))))))) : emptyNote(t('weekly.noOpen')));
}

function comparePanel(now, before, overdue) {
  const rate = (w) => (w.reported ? percent((w.closed || 0) / w.reported) : '–');
  const ttc = (w, key) => (w.time_to_close && w.time_to_close.count ? duration(w.time_to_close[key]) : '–');
  const change = (a, b) => {
    const d = (a || 0) - (b || 0);
    return d === 0 ? '=' : `${d > 0 ? '+' : ''}${number(d, 1)}`;
  };
  const rows = [
    [t('kpi.reported'), number(now.reported ?? 0, 0), number(before.reported ?? 0, 0), change(now.reported, before.reported)],
    [t('kpi.closed'), number(now.closed ?? 0, 0), number(before.closed ?? 0, 0), change(now.closed, before.closed)],
    [t('kpi.dismissed'), number(now.dismissed ?? 0, 0), number(before.dismissed ?? 0, 0), change(now.dismissed, before.dismissed)],
    [t('kpi.closureRate'), rate(now), rate(before), ''],
    [t('weekly.medianToClose'), ttc(now, 'median_ms'), ttc(before, 'median_ms'), ''],
    [t('weekly.p90ToClose'), ttc(now, 'p90_ms'), ttc(before, 'p90_ms'), ''],
    [t('weekly.incidents'), number(now.recordable_incidents ?? 0, 0), number(before.recordable_incidents ?? 0, 0), change(now.recordable_incidents, before.recordable_incidents)],
    [t('kpi.incidentRate'), now.per_200k_hours == null ? '–' : number(now.per_200k_hours, 2), before.per_200k_hours == null ? '–' : number(before.per_200k_hours, 2), ''],
  ];
  return h('section', { class: 'panel', dataset: { testid: 'weekly-kpis' } }, h('h2', {}, t('weekly.compare')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table compact' },
      h('thead', {}, h('tr', {}, [t('kpi.what'), t('weekly.thisWeek'), t('weekly.previousWeek'), t('weekly.change')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))))),
    overdue !== undefined ? h('p', { class: 'callout' }, t('weekly.overdueNow', { n: overdue })) : null);
}
