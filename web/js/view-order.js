// #/orders/<id or number>: GET /api/v1/orders/{id} -> {order, timeline, approval_chain, photos,
// occurrences, alarm, actions}. Only the actions the API lists are offered, each with the fields
// it names; photos are uploaded first (POST /api/v1/attachments), then named by SHA-256 in
// POST /api/v1/orders/{id}/actions.
import { api, enc } from './api.js';
import {
  h, field, option, errorBox, riskBadge, stateBadge, overdueBadge, roleName, dateTime, timeOnly,
  relative, attachmentUrl, toMs, emptyNote, number,
} from './dom.js';
import { t } from './i18n.js';
import { openLightbox } from './dialog.js';
import { photoPicker, uploadPhotos } from './upload.js';
import { chartFigure, timeChart, samplePoints, dataTable } from './charts.js';
import { stepDue, hazardName } from './orders-common.js';

export const meta = { title: 'order.title', topics: ['orders'] };

const READINGS_WINDOW_MS = 30 * 60 * 1000;

export async function build(ctx) {
  const detail = await api.get(`/api/v1/orders/${enc(ctx.route.id)}`);
  const order = detail.order || {};
  const timeline = Array.isArray(detail.timeline) ? detail.timeline : [];
  const actions = Array.isArray(detail.actions) ? detail.actions : [];
  document.title = `${order.number || order.id} · floorwatch`;
  return h('article', { class: 'view-order', dataset: { testid: 'order-detail', orderId: order.id || '' } },
    header(order, ctx),
    actions.length ? actionsPanel(order, actions, ctx) : null,
    h('div', { class: 'order-body' },
      h('div', { class: 'order-main' },
        approvalPanel(order, detail),
        photosPanel(order, detail, timeline),
        readingsPanel(detail.alarm),
        occurrencesPanel(order, detail, timeline)),
      h('div', { class: 'order-side' }, timelinePanel(timeline, order))));
}

// ---- header ----

function header(order, ctx) {
  const source = order.source || {};
  const facts = [
    ['order.equipment', order.equipment || '–'],
    ['order.area', order.area || '–'],
    ['order.hazardType', hazardName(order.hazard_type) || '–'],
    ['order.assignee', order.assignee || '–'],
    ['order.currentStep', stepDue(order)],
    ['order.reported', dateTime(order.reported_ms)],
    ['order.source', source.rule_id ? t('order.sourceRule', { rule: source.rule_id, version: source.rule_version ?? '' })
      : source.reporter === 'anonymous' ? t('actor.anonymous') : (source.reporter || '–')],
    ['order.occurrences', String(order.occurrences ?? 0)],
  ];
  if (order.rejections) facts.push(['order.rejections', String(order.rejections)]);
  if (order.closed_ms) facts.push(['order.closedAt', dateTime(order.closed_ms)]);
  if (ctx.central && order.gateway) facts.push(['order.gateway', order.gateway]);
  return h('header', { class: 'panel order-header' },
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/orders' }, `← ${t('orders.title')}`)),
    h('div', { class: 'order-title-row' },
      h('h1', { dataset: { testid: 'order-number' } }, order.number || order.id),
      h('div', { class: 'badges' }, stateBadge(order.status), riskBadge(order.risk), order.overdue ? overdueBadge() : null)),
    order.title ? h('p', { class: 'order-title', dataset: { testid: 'order-title' } }, order.title) : null,
    h('dl', { class: 'facts' }, facts.map(([key, value]) => h('div', {}, h('dt', {}, t(key)), h('dd', {}, value)))),
    order.description ? h('div', { class: 'prose' }, h('h2', { class: 'h3' }, t('order.description')),
      h('p', { class: 'pre', dataset: { testid: 'order-description' } }, order.description)) : null,
    order.immediate_measures ? h('div', { class: 'prose' }, h('h2', { class: 'h3' }, t('order.measures')),
      h('p', { class: 'pre', dataset: { testid: 'order-measures' } }, order.immediate_measures)) : null,
    order.dismissal ? h('p', { class: 'callout' }, h('strong', {}, t(`dismiss.${order.dismissal.kind}`, null, order.dismissal.kind)), ': ', order.dismissal.reason || '') : null);
}

// ---- actions ----

const DANGER = new Set(['reject', 'dismiss', 'escalate']);
const PRIMARY = new Set(['approve', 'accept', 'submit', 'assign']);

function actionsPanel(order, actions, ctx) {
  const slot = h('div', { class: 'action-form-slot' });
  const buttons = actions.map((entry) => {
    const name = entry.action;
    const button = h('button', {
      type: 'button', class: ['btn', PRIMARY.has(name) && 'btn-primary', DANGER.has(name) && 'btn-danger'],
      'aria-expanded': 'false', dataset: { testid: `action-${name}` }, id: `action-${name}`,
    }, t(`action.${name}`, null, name));
    button.addEventListener('click', async () => {
      const open = button.getAttribute('aria-expanded') === 'true';
      for (const other of panel.querySelectorAll('.action-buttons button')) other.setAttribute('aria-expanded', 'false');
      slot.replaceChildren();
      if (open) return;
      button.setAttribute('aria-expanded', 'true');
      const form = await actionForm(order, entry, ctx, () => {
        button.setAttribute('aria-expanded', 'false');
        slot.replaceChildren();
        button.focus();
      });
      slot.append(form);
      const first = form.querySelector('select, textarea, input, button[type=submit]');
      if (first) first.focus();
    });
    return button;
  });
  const panel = h('section', { class: 'panel actions-panel', dataset: { testid: 'actions' } },
    h('h2', {}, t('order.actions')),
    h('div', { class: 'action-buttons' }, buttons),
    slot);
  return panel;
}

async function actionForm(order, entry, ctx, close) {
  const name = entry.action;
  const fields = Array.isArray(entry.fields) ? entry.fields : [];
  const controls = {};
  const parts = [];
  let picker = null;
  for (const fieldName of fields) {
    const id = `act-${name}-${fieldName}`;
    const testid = `field-${fieldName}`;
    if (fieldName === 'reason' || fieldName === 'note') {
      controls[fieldName] = h('textarea', { id, rows: 3, dataset: { testid } });
      parts.push(field(t(`field.${fieldName}`), controls[fieldName], t(`field.${fieldName}Hint.${name}`, null, '')));
    } else if (fieldName === 'assignee') {
      const users = (await ctx.users()).filter((u) => (u.roles || []).some((r) => r === 'technician' || r === 'team_lead'));
      if (users.length) {
        controls.assignee = h('select', { id, dataset: { testid } }, option('', t('field.choose')),
          users.map((u) => option(u.name, `${u.name} (${(u.roles || []).map(roleName).join(', ')})`, u.name === order.assignee && name !== 'reassign')));
      } else {
        controls.assignee = h('input', { id, type: 'text', autocomplete: 'off', dataset: { testid } });
      }
      parts.push(field(t('field.assignee'), controls.assignee));
    } else if (fieldName === 'deadline') {
      controls.deadline = h('input', { id, type: 'datetime-local', dataset: { testid } });
      parts.push(field(t('field.deadline'), controls.deadline, t('field.deadlineHint')));
    } else if (fieldName === 'kind') {
      controls.kind = h('select', { id, dataset: { testid } }, option('false_alarm', t('dismiss.false_alarm')), option('duplicate', t('dismiss.duplicate')));
      parts.push(field(t('field.kind'), controls.kind));
    } else if (fieldName === 'photos') {
      picker = photoPicker({ label: t('field.photos'), testid: 'field-photos' });
      parts.push(picker.element);
    }
  }
  const error = errorBox();
  error.dataset.testid = 'action-error';
  const progress = h('p', { class: 'hint', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: ['btn', DANGER.has(name) ? 'btn-danger' : 'btn-primary'], dataset: { testid: 'action-confirm' } },
    t('action.confirm', { action: t(`action.${name}`, null, name) }));
  const form = h('form', { class: 'form action-form', dataset: { testid: `action-form-${name}` }, 'aria-label': t(`action.${name}`, null, name) },
    fields.length ? null : h('p', {}, t('action.noFields', { action: t(`action.${name}`, null, name), number: order.number || order.id })),
    parts, error, progress,
    h('div', { class: 'form-buttons' }, submit,
      h('button', { type: 'button', class: 'btn btn-quiet', onclick: close }, t('app.cancel'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.show('');
    const body = { action: name };
    for (const [key, control] of Object.entries(controls)) {
      const value = control.value.trim();
      if (!value) continue;
      if (key === 'deadline') {
        const ms = new Date(value).getTime();
        if (Number.isNaN(ms)) { error.show(t('field.badDeadline')); return; }
        body.deadline = ms;
      } else {
        body[key] = value;
      }
    }
    submit.disabled = true;
    try {
      if (picker && picker.files().length) {
        body.attachments = await uploadPhotos(picker.files(), (text) => { progress.textContent = text; });
      }
      await api.post(`/api/v1/orders/${enc(order.id)}/actions`, body);
      ctx.notice(t('action.done', { action: t(`action.${name}`, null, name), number: order.number || order.id }), 'success');
      ctx.refresh();
    } catch (e) {
      error.show(e.message);
      submit.disabled = false;
      progress.textContent = '';
    }
  });
  return form;
}

// ---- approval chain ----

function approvalChain(order, detail) {
  if (Array.isArray(detail.approval_chain)) return detail.approval_chain;
  const review = order.review || {};
  const approvals = Array.isArray(order.approvals) ? order.approvals : [];
  const deadline = order.step && order.step.kind === 'review' ? order.step.deadline_ms : null;
  return (review.chain || []).map((role, i) => {
    const done = approvals.find((a) => a.level === i + 1);
    return { level: i + 1, role, user: done ? done.user : null, at_ms: done ? done.at_ms : null, deadline_ms: deadline };
  });
}

function approvalPanel(order, detail) {
  const chain = approvalChain(order, detail);
  if (!chain.length) return null;
  const round = order.review && order.review.round;
  return h('section', { class: 'panel', dataset: { testid: 'approval-chain' } },
    h('h2', {}, t('order.approvalChain'), round > 1 ? h('span', { class: 'hint' }, ` · ${t('order.round', { n: round })}`) : null),
    h('ol', { class: 'chain' }, chain.map((level) => {
      const who = level.user || level.who || level.approved_by;
      const at = toMs(level.at_ms ?? level.when_ms ?? level.at);
      const late = !who && level.deadline_ms && level.deadline_ms < Date.now();
      return h('li', { class: ['chain-level', who ? 'chain-done' : 'chain-pending'], dataset: { testid: 'approval-level' } },
        h('span', { class: 'chain-mark', 'aria-hidden': 'true' }, who ? '✔' : String(level.level)),
        h('div', {},
          h('strong', {}, t('order.level', { n: level.level }), ' · ', roleName(level.role)),
          h('div', {}, who ? t('order.approvedBy', { user: who, when: dateTime(at) }) : t('order.pending')),
          !who && level.deadline_ms ? h('div', { class: ['hint', late && 'due-late'] },
            t('order.deadline'), ': ', dateTime(level.deadline_ms), ` (${relative(level.deadline_ms)})`) : null));
    })));
}

// ---- photos ----

function submissions(detail, timeline) {
  const photos = detail.photos || {};
  if (Array.isArray(photos.after)) return photos.after;
  return timeline.filter((e) => e.type === 'submitted').map((e, i) => ({
    submission: i + 1, by: e.actor, at_ms: e.wall_ms, note: e.payload && e.payload.note,
    photos: (e.payload && e.payload.attachments) || [], superseded: !!e.superseded,
  }));
}

function thumb(attachment, caption) {
  const url = attachmentUrl(attachment.sha256);
  if (!url) return null;
  const name = attachment.name || attachment.sha256.slice(0, 12);
  if (attachment.media_type && !attachment.media_type.startsWith('image/')) {
    return h('a', { href: url, class: 'file-link', target: '_blank', rel: 'noopener' }, name);
  }
  return h('button', {
    type: 'button', class: 'thumb', dataset: { testid: 'photo-thumb' },
    'aria-label': t('photo.enlarge', { name }),
    onclick: () => openLightbox({ src: url, caption: `${caption} · ${name}`, alt: name }),
  }, h('img', { src: url, alt: name, loading: 'lazy' }));
}

function photosPanel(order, detail, timeline) {
  const before = (detail.photos && Array.isArray(detail.photos.before)) ? detail.photos.before : (order.attachments || []);
  const after = submissions(detail, timeline);
  if (!before.length && !after.some((s) => (s.photos || []).length)) return null;
  const beforeLabel = t('photo.before');
  return h('section', { class: 'panel', dataset: { testid: 'photos' } },
    h('h2', {}, t('photo.title')),
    h('div', { class: 'before-after' },
      h('div', { class: 'photo-column', dataset: { testid: 'photos-before' } },
        h('h3', {}, beforeLabel),
        before.length ? h('div', { class: 'thumbs' }, before.map((a) => thumb(a, beforeLabel))) : emptyNote(t('photo.none'))),
      h('div', { class: 'photo-column', dataset: { testid: 'photos-after' } },
        h('h3', {}, t('photo.after')),
        after.length ? after.map((s, i) => {
          const label = t('photo.submission', { n: s.submission ?? i + 1 });
          return h('div', { class: ['submission', s.superseded && 'superseded'] },
            h('p', { class: 'hint' }, label, s.by ? ` · ${s.by}` : '', s.at_ms ? ` · ${dateTime(s.at_ms)}` : ''),
            s.note ? h('p', { class: 'pre' }, s.note) : null,
            (s.photos || []).length ? h('div', { class: 'thumbs' }, s.photos.map((a) => thumb(a, `${t('photo.after')} · ${label}`))) : emptyNote(t('photo.none')));
        }) : emptyNote(t('photo.none')))));
}

// ---- readings around the activation ----

function isoSeconds(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function readingsPanel(alarm) {
  if (!alarm) return null;
  const channels = Array.isArray(alarm.channels) ? alarm.channels : alarm.channel ? [alarm.channel] : [];
  const activation = toMs(alarm.activation_ms ?? alarm.activation_time ?? alarm.activated_ms);
  if (!channels.length || activation === null) return null;
  const since = activation - READINGS_WINDOW_MS;
  const until = Math.min(activation + READINGS_WINDOW_MS, Date.now());
  const box = h('div', { class: 'readings-box' }, h('p', { class: 'hint' }, t('app.loading')));
  const panel = h('section', { class: 'panel', dataset: { testid: 'readings' } },
    h('h2', {}, t('order.readings')),
    h('p', { class: 'hint' }, t('order.readingsHint', { rule: alarm.rule || alarm.rule_id || '', when: dateTime(activation) })),
    box);
  Promise.all(channels.slice(0, 4).map((name) => api.get(`/api/v1/channels/${enc(name)}/samples`, { since: isoSeconds(since), until: isoSeconds(until) })
    .then((data) => ({ name, unit: data && data.unit, points: samplePoints(data) }))))
    .then((series) => {
      const rows = [];
      for (const s of series) for (const p of s.points) rows.push([s.name, dateTime(p.x), Number.isFinite(p.y) ? number(p.y, 3) : '–']);
      if (!rows.length) { box.replaceChildren(emptyNote(t('order.noReadings'))); return; }
      const { figure, canvas } = chartFigure({
        title: channels.join(', '), size: 'small', testid: 'readings-chart',
        table: dataTable([t('equipment.channel'), t('equipment.time'), t('equipment.value')], rows.slice(0, 200)),
      });
      box.replaceChildren(figure);
      timeChart(canvas, {
        datasets: series.map((s) => ({ label: s.unit ? `${s.name} (${s.unit})` : s.name, data: s.points })),
        marker: activation, markerLabel: t('order.activation'), formatTime: timeOnly, xMin: since, xMax: until, unit: series.length === 1 ? series[0].unit : '',
      });
    })
    .catch((e) => box.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, e.message)));
  return panel;
}

// ---- occurrences ----

function occurrencesPanel(order, detail, timeline) {
  let list = Array.isArray(detail.occurrences) ? detail.occurrences : null;
  if (!list) {
    list = timeline.filter((e) => e.type === 'occurred' || (e.type === 'reported' && e.payload && e.payload.rule_id))
      .map((e) => ({ at_ms: e.wall_ms, rule_id: e.payload && e.payload.rule_id }));
  }
  if (!list.length && !(order.occurrences > 1)) return null;
  return h('section', { class: 'panel', dataset: { testid: 'occurrences' } },
    h('h2', {}, t('order.occurrences'), ' ', h('span', { class: 'count' }, String(order.occurrences ?? list.length))),
    list.length ? h('ol', { class: 'plain-list' }, list.map((o) => h('li', {},
      h('time', {}, dateTime(toMs(o.at_ms ?? o.time_ms ?? o.time))),
      o.rule_id || o.rule ? ` · ${o.rule_id || o.rule}` : '',
      o.value !== undefined && o.value !== null ? ` · ${number(o.value, 3)}` : '',
      o.detail ? ` · ${o.detail}` : ''))) : null);
}

// ---- timeline ----

function actorName(actor) {
  if (actor === 'system') return t('actor.system');
  if (actor === 'anonymous') return t('actor.anonymous');
  return actor || '–';
}

function eventDetails(event) {
  const p = event.payload || {};
  const parts = [];
  const add = (key, value) => { if (value !== undefined && value !== null && value !== '') parts.push([t(key), value]); };
  switch (event.type) {
    case 'reported':
      add('order.risk', riskBadge(p.risk));
      add('order.hazardType', hazardName(p.hazard_type));
      add('order.place', [p.equipment, p.area].filter(Boolean).join(' · '));
      add('order.rule', p.rule_id);
      break;
    case 'approved':
      add('order.levelLabel', t('order.levelOfRound', { level: p.level, round: p.round }));
      break;
    case 'dismissed':
      add('field.kind', t(`dismiss.${p.kind}`, null, p.kind));
      break;
    case 'assigned': case 'reassigned': case 'rejected':
      add('field.assignee', p.assignee);
      if (p.deadline_ms) add('field.deadline', dateTime(p.deadline_ms));
      break;
    case 'submitted':
      if ((p.attachments || []).length) add('photo.title', t('photo.count', { n: p.attachments.length }));
      if (p.acceptance_deadline_ms) add('order.acceptanceDeadline', dateTime(p.acceptance_deadline_ms));
      break;
    case 'overdue':
      add('order.step', t(`step.${p.step}`, null, p.step));
      if (p.deadline_ms) add('field.deadline', dateTime(p.deadline_ms));
      break;
    case 'escalated':
      add('order.riskChange', [riskBadge(p.from_risk), ' → ', riskBadge('red')]);
      add('order.rule', p.rule_id);
      break;
    case 'occurred':
      add('order.rule', p.rule_id);
      break;
    default:
      break;
  }
  return parts;
}

function timelinePanel(timeline, order) {
  const supersededReasons = new Map((order.superseded || []).map((s) => [s.event_id, s.reason]));
  return h('section', { class: 'panel', dataset: { testid: 'timeline' } },
    h('h2', {}, t('order.timeline')),
    timeline.length ? h('ol', { class: 'timeline' }, timeline.map((event) => {
      const p = event.payload || {};
      const superseded = event.superseded === true || (event.superseded && typeof event.superseded === 'object') || supersededReasons.has(event.event_id);
      const supersededWhy = event.superseded_reason || (event.superseded && event.superseded.reason) || supersededReasons.get(event.event_id);
      const why = p.reason || (event.type === 'submitted' || event.type === 'accepted' ? p.note : '') || (event.type === 'reported' ? p.description : '');
      return h('li', { class: ['event', `event-${event.type}`, superseded && 'superseded'], dataset: { testid: 'timeline-event', eventType: event.type } },
        h('div', { class: 'event-head' },
          h('strong', { class: 'event-what' }, t(`event.${event.type}`, null, event.type)),
          superseded ? h('span', { class: 'badge badge-superseded', dataset: { testid: 'superseded' } }, t('order.superseded')) : null,
          h('span', { class: 'event-when' }, h('time', { dateTime: new Date(event.wall_ms).toISOString() }, dateTime(event.wall_ms)),
            event.clock_synced === false ? h('span', { class: 'hint', title: t('order.clockUnsyncedHint') }, ` (${t('order.clockUnsynced')})`) : null)),
        h('div', { class: 'event-who' }, actorName(event.actor), event.role && event.role !== 'system' ? ` · ${roleName(event.role)}` : ''),
        (() => {
          const details = eventDetails(event);
          return details.length ? h('dl', { class: 'event-details' }, details.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))) : null;
        })(),
        why ? h('p', { class: 'event-why pre' }, why) : null,
        superseded && supersededWhy ? h('p', { class: 'event-superseded-why' }, t('order.supersededWhy', { reason: supersededWhy })) : null,
        h('p', { class: 'event-id' }, `${event.event_id || ''} · ${(event.hash || '').slice(0, 12)}`));
    })) : emptyNote(t('order.noEvents')));
}
