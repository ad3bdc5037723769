// Pieces every order view shares: the workflow's names, and how a step's deadline reads.
import { h, dateTime, relative, overdueBadge } from './dom.js';
import { t } from './i18n.js';

export const STATES = ['reported', 'in_review', 'rectifying', 'awaiting_acceptance', 'closed', 'dismissed'];
export const RISKS = ['low', 'medium', 'high', 'red'];

export function orderHref(order) {
  return `#/orders/${encodeURIComponent(order.id || order.number)}`;
}

// "Rectification due 3 Dec 2026, 14:00 (in 2 days)" + the overdue flag.
export function stepDue(order, now = Date.now()) {
  const step = order.step;
  if (!step || !step.deadline_ms) return h('span', { class: 'muted' }, '–');
  const late = order.overdue || step.deadline_ms < now;
  return h('span', { class: ['due', late && 'due-late'], dataset: { testid: 'step-due' } },
    h('span', { class: 'due-step' }, t(`step.${step.kind}`, null, step.kind)), ' ',
    h('time', { dateTime: new Date(step.deadline_ms).toISOString() }, dateTime(step.deadline_ms)), ' ',
    h('span', { class: 'due-relative' }, `(${relative(step.deadline_ms, now)})`),
    late ? [' ', overdueBadge()] : null);
}

// Known hazard types read in the page's language; anything else as the reporter typed it.
export function hazardName(type) {
  return type ? t(`hazard.${type}`, null, type) : '';
}

export function place(order) {
  return [order.equipment, order.area].filter(Boolean).join(' · ') || '–';
}
