// #/alarms (?all=1): GET /api/v1/alarms[?all=1]; the operator actions
// POST /api/v1/alarms/{rule}/{equipment}/{ack|shelve|unshelve|disable|enable} {reason, duration}.
// Which buttons show follows the alarm's state and the person's roles (shelving and taking out
// of service are for team_lead, safety, manager, admin); the daemon decides, and its 403/409
// words are shown. Recent changes: GET /api/v1/alarms/history?since=24h, loaded when opened.
import { api, enc } from './api.js';
import { h, field, option, errorBox, emptyNote, listOf, dateTime, toMs, number, cssToken } from './dom.js';
import { t } from './i18n.js';

export const meta = { title: 'alarms.title', topics: ['alarms'] };

const SUPERVISORS = ['team_lead', 'safety', 'manager', 'admin'];
const SHELVE_MINUTES = [15, 30, 60, 120, 240, 480, 720, 1440];

export async function build(ctx) {
  const all = ctx.route.query.get('all') === '1';
  const alarms = listOf(await api.get('/api/v1/alarms', all ? { all: 1 } : null), 'alarms');
  const toggle = h('a', { class: 'btn btn-quiet', href: all ? '#/alarms' : '#/alarms?all=1', dataset: { testid: 'alarms-all' } },
    t(all ? 'alarms.showActive' : 'alarms.showAll'));
  return h('div', { class: 'view-alarms' },
    h('div', { class: 'view-head' }, h('h1', {}, t(all ? 'alarms.titleAll' : 'alarms.title')), toggle),
    alarms.length
      ? h('ul', { class: 'cards alarm-list', dataset: { testid: 'alarm-list' } }, alarms.map((alarm) => alarmCard(alarm, ctx)))
      : emptyNote(t('alarms.none')),
    historyPanel());
}

function allowedActions(alarm, ctx) {
  if (Array.isArray(alarm.actions)) return alarm.actions;
  const supervisor = ctx.hasRole(...SUPERVISORS);
  const state = alarm.state;
  const actions = [];
  if (state === 'unack_active' || state === 'rtn_unack') actions.push('ack');
  if (supervisor && state !== 'out_of_service' && state !== 'shelved') actions.push('shelve');
  if (supervisor && state === 'shelved') actions.push('unshelve');
  if (supervisor && state !== 'out_of_service') actions.push('disable');
  if (supervisor && state === 'out_of_service') actions.push('enable');
  return actions;
}

function alarmCard(alarm, ctx) {
  const slot = h('div');
  const buttons = allowedActions(alarm, ctx).map((action) => {
    const button = h('button', { type: 'button', class: ['btn', action === 'ack' && 'btn-primary'], 'aria-expanded': 'false', dataset: { testid: `alarm-${action}` } },
      t(`alarmAction.${action}`, null, action));
    button.addEventListener('click', () => {
      const wasOpen = button.getAttribute('aria-expanded') === 'true';
      for (const b of card.querySelectorAll('.card-actions > .action-buttons button')) b.setAttribute('aria-expanded', 'false');
      slot.replaceChildren();
      if (wasOpen) return;
      button.setAttribute('aria-expanded', 'true');
      const form = actionForm(alarm, action, ctx, () => { slot.replaceChildren(); button.setAttribute('aria-expanded', 'false'); button.focus(); });
      slot.append(form);
      const first = form.querySelector('select, textarea, input, button[type=submit]');
      if (first) first.focus();
    });
    return button;
  });
  const since = toMs(alarm.last_change);
  const facts = [
    ['alarms.value', alarm.value === null || alarm.value === undefined ? '–' : number(alarm.value, 3)],
    ['alarms.detail', alarm.detail || '–'],
    ['alarms.since', since ? dateTime(since) : '–'],
  ];
  if (alarm.shelved_until) facts.push(['alarms.shelvedUntil', `${dateTime(toMs(alarm.shelved_until))} · ${alarm.shelved_by || ''}`]);
  if (alarm.reason) facts.push(['field.reason', alarm.reason]);
  const card = h('li', { class: ['card', 'alarm', `alarm-${cssToken(alarm.state)}`], dataset: { testid: 'alarm', rule: alarm.rule, equipment: alarm.equipment } },
    h('div', { class: 'card-head' },
      h('span', { class: ['badge', 'severity', `severity-${cssToken(alarm.severity)}`] }, t(`severity.${alarm.severity}`, null, alarm.severity)),
      h('span', { class: ['badge', 'alarm-state', `alarm-state-${cssToken(alarm.state)}`], dataset: { testid: 'alarm-state' } }, t(`alarmState.${alarm.state}`, null, alarm.state)),
      alarm.chattering ? h('span', { class: 'badge badge-warn' }, t('alarms.chattering')) : null),
    h('p', { class: 'card-title' }, h('strong', {}, alarm.rule), ' · ', alarm.equipment, alarm.area ? ` · ${alarm.area}` : ''),
    h('dl', { class: 'facts facts-compact' }, facts.map(([k, v]) => h('div', {}, h('dt', {}, t(k)), h('dd', {}, v)))),
    buttons.length ? h('div', { class: 'card-actions' }, h('div', { class: 'action-buttons' }, buttons), slot) : null);
  return card;
}

function actionForm(alarm, action, ctx, close) {
  const parts = [];
  let reason = null;
  let duration = null;
  if (action === 'shelve' || action === 'disable') {
    reason = h('textarea', { rows: 2, dataset: { testid: 'field-reason' } });
    parts.push(field(t('field.reason'), reason, t(`alarms.reasonHint.${action}`)));
  }
  if (action === 'shelve') {
    duration = h('select', { dataset: { testid: 'field-duration' } },
      SHELVE_MINUTES.map((m) => option(String(m * 60000), m < 60 ? t('unit.minutes', { n: m }) : t('unit.hours', { n: m / 60 }), m === 60)));
    parts.push(field(t('alarms.duration'), duration));
  }
  const error = errorBox();
  error.dataset.testid = 'alarm-error';
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'alarm-confirm' } },
    t('action.confirm', { action: t(`alarmAction.${action}`, null, action) }));
  const form = h('form', { class: 'form action-form' },
    parts.length ? parts : h('p', {}, t('alarms.confirm', { action: t(`alarmAction.${action}`), rule: alarm.rule, equipment: alarm.equipment })),
    error,
    h('div', { class: 'form-buttons' }, submit, h('button', { type: 'button', class: 'btn btn-quiet', onclick: close }, t('app.cancel'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.show('');
    const body = {};
    if (reason) body.reason = reason.value.trim();
    if (duration) body.duration = Number(duration.value);
    submit.disabled = true;
    try {
      await api.post(`/api/v1/alarms/${enc(alarm.rule)}/${enc(alarm.equipment)}/${action}`, body);
      ctx.notice(t('alarms.done', { action: t(`alarmAction.${action}`), rule: alarm.rule, equipment: alarm.equipment }), 'success');
      ctx.refresh();
    } catch (e) {
      error.show(e.message);
      submit.disabled = false;
    }
  });
  return form;
}

function historyPanel() {
  const body = h('div', {}, h('p', { class: 'hint' }, t('app.loading')));
  const details = h('details', { class: 'panel', dataset: { testid: 'alarm-history' } }, h('summary', {}, h('h2', { class: 'inline' }, t('alarms.history'))), body);
  let loaded = false;
  details.addEventListener('toggle', async () => {
    if (!details.open || loaded) return;
    loaded = true;
    try {
      const events = listOf(await api.get('/api/v1/alarms/history', { since: '24h' }), 'events').slice(-100).reverse();
      body.replaceChildren(events.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, ['alarms.time', 'alarms.rule', 'order.equipment', 'alarms.action', 'alarms.change', 'alarms.detail', 'alarms.actor']
          .map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, events.map((e) => h('tr', {},
          h('td', {}, dateTime(toMs(e.time))), h('td', {}, e.rule), h('td', {}, e.equipment),
          h('td', {}, t(`alarmEvent.${e.action}`, null, e.action)),
          h('td', {}, `${t(`alarmState.${e.from}`, null, e.from)} → ${t(`alarmState.${e.to}`, null, e.to)}`),
          h('td', {}, [e.detail, e.reason].filter(Boolean).join(' · ')),
          h('td', {}, e.actor || '–')))))) : emptyNote(t('alarms.noHistory')));
    } catch (e) {
      body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, e.message));
    }
  });
  return details;
}
