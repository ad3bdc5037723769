// #/orders?state=&risk=&area=&equipment=&assignee=&overdue=1&gateway=&q=&limit= : the filtered
// list, in the API's order (overdue first, then risk, then the current step's deadline), with
// counts over every match; the first `limit` orders (PAGE at first, "show more" adds a page).
import { api } from './api.js';
import { h, field, option, riskBadge, stateBadge, emptyNote } from './dom.js';
import { t } from './i18n.js';
import { routeHash } from './router.js';
import { STATES, RISKS, orderHref, stepDue, place, hazardName } from './orders-common.js';

export const meta = { title: 'orders.title', topics: ['orders'] };

const FILTERS = ['state', 'risk', 'area', 'equipment', 'assignee', 'overdue', 'gateway', 'q'];
// Orders per page: the API's default; a plant's whole history would be megabytes.
const PAGE = 200;
// Values seen in earlier answers, so a filtered list still offers the other choices.
const seen = { area: new Set(), equipment: new Set(), assignee: new Set(), gateway: new Set() };

export async function build(ctx) {
  const query = {};
  for (const key of FILTERS) {
    const value = ctx.route.query.get(key);
    if (value) query[key] = value;
  }
  if (!ctx.central) delete query.gateway;
  const limit = Math.min(Math.max(Number.parseInt(ctx.route.query.get('limit'), 10) || PAGE, PAGE), 5000);
  const [data, users] = await Promise.all([api.get('/api/v1/orders', { ...query, limit: String(limit) }), ctx.users()]);
  const orders = (data && data.orders) || [];
  for (const order of orders) {
    for (const key of Object.keys(seen)) if (order[key]) seen[key].add(order[key]);
  }
  for (const user of users) {
    if ((user.roles || []).some((r) => r === 'technician' || r === 'team_lead')) seen.assignee.add(user.name);
  }
  return h('div', { class: 'view-orders' },
    h('div', { class: 'view-head' },
      h('h1', {}, t('orders.title')),
      h('a', { class: 'btn btn-primary', href: '#/report', dataset: { testid: 'orders-report' } }, t('report.title'))),
    filtersForm(ctx, query),
    countsBar(data && data.counts, query),
    orders.length ? ordersTable(orders, ctx) : emptyNote(t('orders.none')),
    data && data.more ? moreBar(orders.length, data.counts.total, query, limit) : null);
}

// "Showing 200 of 10,000" and a link that asks for one page more.
function moreBar(shown, total, query, limit) {
  return h('p', { class: 'orders-more', dataset: { testid: 'orders-more' } },
    t('orders.showing', { shown, total }), ' ',
    h('a', { class: 'btn btn-quiet', href: routeHash('#/orders', { ...query, limit: String(Math.min(limit + PAGE, 5000)) }), dataset: { testid: 'orders-more-link' } }, t('orders.more')));
}

function filtersForm(ctx, query) {
  const apply = () => {
    const next = {};
    for (const [key, control] of Object.entries(controls)) {
      next[key] = control.type === 'checkbox' ? (control.checked ? '1' : '') : control.value.trim();
    }
    ctx.navigate(routeHash('#/orders', next));
  };
  const select = (key, values, labelKey) => h('select', { name: key, id: `filter-${key}`, dataset: { testid: `filter-${key}` }, onchange: apply },
    option('', t('orders.any')), values.map((v) => option(v, t(`${labelKey}.${v}`, null, v), query[key] === v)));
  const text = (key) => {
    const listId = `filter-${key}-list`;
    return [h('input', { type: 'search', name: key, id: `filter-${key}`, list: listId, value: query[key] || '', dataset: { testid: `filter-${key}` }, onchange: apply, autocomplete: 'off' }),
      h('datalist', { id: listId }, [...seen[key] || []].sort().map((v) => option(v, v)))];
  };
  const controls = {
    state: select('state', STATES, 'state'),
    risk: select('risk', RISKS, 'risk'),
  };
  const parts = [field(t('order.state'), controls.state), field(t('order.risk'), controls.risk)];
  for (const key of ['area', 'equipment', 'assignee'].concat(ctx.central ? ['gateway'] : [])) {
    const [input, list] = text(key);
    controls[key] = input;
    parts.push(h('div', { class: 'field' }, h('label', { for: input.id }, t(`order.${key}`)), input, list));
  }
  controls.q = h('input', { type: 'search', id: 'filter-q', name: 'q', value: query.q || '', dataset: { testid: 'filter-q' }, onchange: apply });
  parts.push(field(t('orders.search'), controls.q));
  controls.overdue = h('input', { type: 'checkbox', id: 'filter-overdue', checked: query.overdue === '1', dataset: { testid: 'filter-overdue' }, onchange: apply });
  parts.push(h('div', { class: 'field field-check' }, controls.overdue, h('label', { for: 'filter-overdue' }, t('orders.overdueOnly'))));
  const active = Object.keys(query).length > 0;
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('orders.filters'), dataset: { liveFilter: '' } },
    parts,
    h('div', { class: 'filter-buttons' },
      h('button', { type: 'submit', class: 'btn' }, t('orders.apply')),
      active ? h('a', { class: 'btn btn-quiet', href: '#/orders', dataset: { testid: 'filter-clear' } }, t('orders.clear')) : null));
  form.addEventListener('submit', (event) => { event.preventDefault(); apply(); });
  // On a phone the filters fold away unless some are set.
  const open = active || window.matchMedia('(min-width: 760px)').matches;
  return h('details', { class: 'filter-box', open, dataset: { testid: 'filters' } },
    h('summary', {}, t('orders.filters'), active ? ` (${Object.keys(query).length})` : ''), form);
}

function countsBar(counts, query) {
  if (!counts) return null;
  const chip = (label, value, hash, extraClass, testid) => h('li', {},
    h('a', { class: ['chip', extraClass], href: hash, dataset: { testid } },
      h('span', { class: 'chip-label' }, label), ' ', h('strong', { class: 'chip-value' }, String(value ?? 0))));
  const items = [chip(t('orders.total'), counts.total, '#/orders', null, 'count-total'),
    chip(t('order.overdue'), counts.overdue, routeHash('#/orders', { ...query, overdue: '1' }), 'chip-overdue', 'count-overdue')];
  for (const state of STATES) {
    const n = counts.by_state && counts.by_state[state];
    if (n) items.push(chip(t(`state.${state}`), n, routeHash('#/orders', { ...query, state }), `chip-state-${state}`, `count-state-${state}`));
  }
  for (const risk of RISKS) {
    const n = counts.by_risk && counts.by_risk[risk];
    if (n) items.push(chip(t(`risk.${risk}`), n, routeHash('#/orders', { ...query, risk }), `chip-risk risk-${risk}`, `count-risk-${risk}`));
  }
  return h('ul', { class: 'counts', 'aria-label': t('orders.counts') }, items);
}

function ordersTable(orders, ctx) {
  const now = Date.now();
  const headers = ['order.number', 'order.risk', 'order.state', 'order.title', 'order.place', 'order.assignee', 'order.due'];
  if (ctx.central) headers.push('order.gateway');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table orders-table', dataset: { testid: 'orders-table' } },
    h('caption', { class: 'visually-hidden' }, t('orders.title')),
    h('thead', {}, h('tr', {}, headers.map((key) => h('th', { scope: 'col' }, t(key))))),
    h('tbody', {}, orders.map((order) => h('tr', { class: order.overdue ? 'row-overdue' : null, dataset: { testid: 'order-row', orderId: order.id } },
      h('td', { dataset: { label: t('order.number') } }, h('a', { href: orderHref(order), class: 'order-link', dataset: { testid: 'order-link' } }, order.number || order.id)),
      h('td', { dataset: { label: t('order.risk') } }, riskBadge(order.risk)),
      h('td', { dataset: { label: t('order.state') } }, stateBadge(order.status)),
      h('td', { dataset: { label: t('order.title') }, class: 'cell-title' }, order.title || hazardName(order.hazard_type)),
      h('td', { dataset: { label: t('order.place') } }, place(order)),
      h('td', { dataset: { label: t('order.assignee') } }, order.assignee || '–'),
      h('td', { dataset: { label: t('order.due') } }, stepDue(order, now)),
      ctx.central ? h('td', { dataset: { label: t('order.gateway') }, class: 'cell-gateway' }, order.gateway || '–') : null)))));
}
