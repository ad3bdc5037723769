// DOM building without HTML strings: every text, server data included, goes in through
// textContent or element properties, so "<script>" in a description is only ever text.
import { t, locale } from './i18n.js';

// h('a', {href: '#/orders', class: 'x', onclick: fn, dataset: {testid: 'y'}}, 'text', child, ...)
export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'style') {
      throw new Error('no style attributes (CSP): use classes, or element.style from code');
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key.startsWith('aria-') || key === 'role' || key === 'for' || key === 'list' ||
               key === 'capture' || key === 'form' || el instanceof SVGElement) {
      el.setAttribute(key, value === true ? '' : String(value));
    } else {
      el[key] = value;
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// A labelled form field: <div class=field><label for=id>…</label> control hint</div>.
let fieldCounter = 0;
export function field(labelText, control, hint) {
  if (!control.id) control.id = `f${++fieldCounter}`;
  const parts = [h('label', { for: control.id }, labelText), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { class: 'hint', id: hintId }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

export function errorBox() {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  box.show = (message) => { box.textContent = message; box.hidden = !message; };
  return box;
}

export function option(value, label, selected) {
  return h('option', { value, selected: !!selected }, label);
}

// Risk as colour AND words, never colour alone.
export function riskBadge(risk) {
  return h('span', { class: ['badge', 'risk', `risk-${cssToken(risk)}`], dataset: { risk } },
           h('span', { class: 'risk-dot', 'aria-hidden': 'true' }), t(`risk.${risk}`, null, risk));
}

export function stateBadge(status) {
  return h('span', { class: ['badge', 'state', `state-${cssToken(status)}`], dataset: { state: status } },
           t(`state.${status}`, null, status));
}

export function overdueBadge() {
  return h('span', { class: 'badge overdue', dataset: { testid: 'overdue' } }, '⚠ ', t('order.overdue'));
}

export function cssToken(text) {
  return String(text || '').replace(/[^a-z0-9_-]/gi, '_');
}

export function roleName(role) {
  return t(`role.${role}`, null, role);
}

// ---- time and numbers, in the page's language ----

export function dateTime(ms) {
  if (ms === undefined || ms === null || ms === '' || Number.isNaN(Number(ms))) return '–';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' })
    .format(new Date(Number(ms)));
}

export function timeOnly(ms) {
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit' }).format(new Date(ms));
}

export function dayOnly(ms) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(ms));
}

// An ISO time the API sends ("2026-11-29T08:00:00.000Z") or ms -> ms.
export function toMs(value) {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number') return value;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
}

const units = [['day', 86400000], ['hour', 3600000], ['minute', 60000]];

// "in 3 hours" / "2 days ago"
export function relative(ms, now = Date.now()) {
  const delta = ms - now;
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(delta) >= size || unit === 'minute') return rtf.format(Math.round(delta / size), unit);
  }
  return '';
}

// A duration in ms for people: "45 min", "3.5 h", "2.1 d".
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return '–';
  const n = new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 });
  if (ms < 3600000) return t('unit.minutes', { n: n.format(ms / 60000) });
  if (ms < 4 * 86400000) return t('unit.hours', { n: n.format(ms / 3600000) });
  return t('unit.days', { n: n.format(ms / 86400000) });
}

export function number(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '–';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(Number(value));
}

export function percent(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '–';
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(Number(value));
}

// Only a 64-hex SHA-256 becomes part of a URL.
export function attachmentUrl(sha256) {
  return /^[0-9a-f]{64}$/.test(sha256 || '') ? `/api/v1/attachments/${sha256}` : '';
}

// The API answers lists either bare or wrapped ({alarms: [...]}); accept both.
export function listOf(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  return [];
}

export function section(titleText, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, titleText), children);
}

export function emptyNote(text) {
  return h('p', { class: 'empty' }, text);
}
