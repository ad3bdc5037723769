// #/mine: a technician's home on a phone. GET /api/v1/orders?mine=1; an order being rectified
// can be submitted here (note + photos: POST /api/v1/attachments each, then
// POST /api/v1/orders/{id}/actions {action: submit}). A rejected order shows why (its detail).
import { api, enc } from './api.js';
import { h, field, errorBox, riskBadge, stateBadge, emptyNote, dateTime } from './dom.js';
import { t } from './i18n.js';
import { orderHref, stepDue, place, hazardName } from './orders-common.js';
import { photoPicker, uploadPhotos } from './upload.js';

export const meta = { title: 'mine.title', topics: ['orders'] };

export async function build(ctx) {
  const data = await api.get('/api/v1/orders', { mine: 1 });
  const orders = (data && data.orders) || [];
  const reasons = await rejectionReasons(orders);
  return h('div', { class: 'view-mine' },
    h('div', { class: 'view-head' },
      h('h1', {}, t('mine.title')),
      h('a', { class: 'btn', href: '#/report', dataset: { testid: 'mine-report' } }, t('report.title'))),
    h('p', { class: 'hint' }, t('mine.intro', { user: ctx.session.user })),
    orders.length
      ? h('ul', { class: 'cards', dataset: { testid: 'mine-list' } }, orders.map((order) => card(order, reasons.get(order.id), ctx)))
      : emptyNote(t('mine.none')));
}

// The reason of the last rejection, for orders that came back.
async function rejectionReasons(orders) {
  const reasons = new Map();
  await Promise.all(orders.filter((o) => o.rejections > 0 && o.status === 'rectifying').slice(0, 10).map(async (order) => {
    try {
      const detail = await api.get(`/api/v1/orders/${enc(order.id)}`);
      const rejected = (detail.timeline || []).filter((e) => e.type === 'rejected' && !e.superseded).pop();
      if (rejected) reasons.set(order.id, { reason: rejected.payload && rejected.payload.reason, by: rejected.actor, at: rejected.wall_ms });
    } catch { /* the card still shows the order */ }
  }));
  return reasons;
}

function card(order, rejection, ctx) {
  return h('li', { class: ['card', order.overdue && 'card-overdue'], dataset: { testid: 'mine-order', orderId: order.id } },
    h('div', { class: 'card-head' },
      h('a', { href: orderHref(order), class: 'order-link' }, order.number || order.id),
      riskBadge(order.risk), stateBadge(order.status)),
    h('p', { class: 'card-title' }, order.title || hazardName(order.hazard_type)),
    h('p', { class: 'hint' }, place(order)),
    h('p', { class: 'card-due' }, stepDue(order)),
    rejection ? h('p', { class: 'callout callout-warn', dataset: { testid: 'rejection-reason' } },
      h('strong', {}, t('mine.rejected', { user: rejection.by || '', when: dateTime(rejection.at) })), ' ', rejection.reason || '') : null,
    order.status === 'rectifying' && order.assignee === ctx.session.user ? submitBlock(order, ctx) : null);
}

function submitBlock(order, ctx) {
  const slot = h('div');
  const open = h('button', { type: 'button', class: 'btn btn-primary btn-block', 'aria-expanded': 'false', dataset: { testid: 'mine-submit-open' } }, t('action.submit'));
  open.addEventListener('click', () => {
    if (open.getAttribute('aria-expanded') === 'true') {
      slot.replaceChildren();
      open.setAttribute('aria-expanded', 'false');
      return;
    }
    open.setAttribute('aria-expanded', 'true');
    slot.replaceChildren(submitForm(order, ctx, () => { slot.replaceChildren(); open.setAttribute('aria-expanded', 'false'); open.focus(); }));
    slot.querySelector('textarea').focus();
  });
  return h('div', { class: 'card-actions' }, open, slot);
}

function submitForm(order, ctx, close) {
  const note = h('textarea', { id: `mine-note-${order.id}`, rows: 3, dataset: { testid: 'field-note' } });
  const picker = photoPicker({ label: t('mine.afterPhotos'), testid: 'field-photos' });
  const error = errorBox();
  error.dataset.testid = 'action-error';
  const progress = h('p', { class: 'hint', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { testid: 'action-confirm' } }, t('mine.send'));
  const form = h('form', { class: 'form action-form', dataset: { testid: 'action-form-submit' } },
    field(t('field.note'), note, t('field.noteHint.submit')), picker.element, error, progress,
    h('div', { class: 'form-buttons' }, submit, h('button', { type: 'button', class: 'btn btn-quiet', onclick: close }, t('app.cancel'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.show('');
    if (!note.value.trim()) { error.show(t('mine.needNote')); note.focus(); return; }
    submit.disabled = true;
    try {
      const attachments = await uploadPhotos(picker.files(), (text) => { progress.textContent = text; });
      await api.post(`/api/v1/orders/${enc(order.id)}/actions`, { action: 'submit', note: note.value.trim(), attachments });
      ctx.notice(t('action.done', { action: t('action.submit'), number: order.number || order.id }), 'success');
      ctx.refresh();
    } catch (e) {
      error.show(e.message);
      submit.disabled = false;
      progress.textContent = '';
    }
  });
  return form;
}
