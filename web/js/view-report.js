// #/report: a hazard from a phone. Equipment or area (choices from GET /api/v1/channels), type,
// risk, description, measures taken, photos from the camera (POST /api/v1/attachments each),
// anonymous; then POST /api/v1/reports.
import { api } from './api.js';
import { h, field, option, errorBox, listOf, riskBadge } from './dom.js';
import { t } from './i18n.js';
import { RISKS, orderHref } from './orders-common.js';
import { photoPicker, uploadPhotos } from './upload.js';

export const meta = { title: 'report.title', topics: [] };

export const HAZARD_TYPES = ['guarding', 'electrical', 'mechanical', 'vibration', 'temperature', 'fire',
  'chemical', 'slip_trip', 'working_at_height', 'lifting', 'ppe', 'housekeeping'];

export async function build(ctx) {
  let channels = [];
  try { channels = listOf(await api.get('/api/v1/channels'), 'channels'); } catch { /* the centre has none */ }
  const equipment = [...new Set(channels.map((c) => c.equipment).filter(Boolean))].sort();
  const areas = [...new Set(channels.map((c) => c.area).filter(Boolean))].sort();

  const whereKind = (value, checked) => h('input', { type: 'radio', name: 'where', value, id: `where-${value}`, defaultChecked: checked, dataset: { testid: `report-where-${value}` } });
  const byEquipment = whereKind('equipment', true);
  const byArea = whereKind('area', false);
  const equipmentInput = h('input', { type: 'text', id: 'report-equipment', list: 'report-equipment-list', autocomplete: 'off', dataset: { testid: 'report-equipment' } });
  const areaInput = h('input', { type: 'text', id: 'report-area', list: 'report-area-list', autocomplete: 'off', dataset: { testid: 'report-area' } });
  const equipmentField = h('div', {}, field(t('order.equipment'), equipmentInput), h('datalist', { id: 'report-equipment-list' }, equipment.map((v) => option(v, v))));
  const areaField = h('div', { hidden: true }, field(t('order.area'), areaInput), h('datalist', { id: 'report-area-list' }, areas.map((v) => option(v, v))));
  const switchWhere = () => {
    equipmentField.hidden = !byEquipment.checked;
    areaField.hidden = !byArea.checked;
  };
  byEquipment.addEventListener('change', switchWhere);
  byArea.addEventListener('change', switchWhere);

  const typeSelect = h('select', { id: 'report-type', dataset: { testid: 'report-type' } },
    option('', t('field.choose')), HAZARD_TYPES.map((v) => option(v, t(`hazard.${v}`))), option('other', t('hazard.other')));
  const otherType = h('input', { type: 'text', id: 'report-type-other', dataset: { testid: 'report-type-other' } });
  const otherField = field(t('report.otherType'), otherType);
  otherField.hidden = true;
  typeSelect.addEventListener('change', () => { otherField.hidden = typeSelect.value !== 'other'; });

  const riskInputs = RISKS.map((risk) => h('input', { type: 'radio', name: 'risk', value: risk, id: `report-risk-${risk}`, defaultChecked: risk === 'medium', dataset: { testid: `report-risk-${risk}` } }));
  const riskGroup = h('fieldset', { class: 'risk-choice' }, h('legend', {}, t('order.risk')),
    RISKS.map((risk, i) => h('div', { class: 'risk-option' }, riskInputs[i], h('label', { for: riskInputs[i].id }, riskBadge(risk), h('span', { class: 'hint' }, t(`risk.${risk}Hint`))))));

  const description = h('textarea', { id: 'report-description', rows: 4, required: true, dataset: { testid: 'report-description' } });
  const measures = h('textarea', { id: 'report-measures', rows: 2, dataset: { testid: 'report-measures' } });
  const picker = photoPicker({ label: t('report.photo'), testid: 'report-photo', multiple: true });
  const anonymous = h('input', { type: 'checkbox', id: 'report-anonymous', dataset: { testid: 'report-anonymous' } });
  const error = errorBox();
  error.dataset.testid = 'report-error';
  const progress = h('p', { class: 'hint', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', dataset: { testid: 'report-submit' } }, t('report.submit'));

  const form = h('form', { class: 'form report-form', novalidate: true },
    h('fieldset', { class: 'where' }, h('legend', {}, t('report.where')),
      h('div', { class: 'inline-choice' }, byEquipment, h('label', { for: byEquipment.id }, t('order.equipment')), byArea, h('label', { for: byArea.id }, t('order.area'))),
      equipmentField, areaField),
    field(t('order.hazardType'), typeSelect), otherField,
    riskGroup,
    field(t('order.description'), description, t('report.descriptionHint')),
    field(t('report.measures'), measures, t('report.measuresHint')),
    picker.element,
    h('div', { class: 'field field-check' }, anonymous, h('label', { for: anonymous.id }, t('report.anonymous'))),
    h('p', { class: 'hint', id: 'report-anonymous-hint' }, t('report.anonymousHint')),
    error, progress, submit);
  anonymous.setAttribute('aria-describedby', 'report-anonymous-hint');

  const result = h('div', { 'aria-live': 'polite' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.show('');
    const place = byEquipment.checked ? equipmentInput.value.trim() : areaInput.value.trim();
    const hazardType = typeSelect.value === 'other' ? otherType.value.trim() : typeSelect.value;
    if (!place) { error.show(t(byEquipment.checked ? 'report.needEquipment' : 'report.needArea')); return; }
    if (!hazardType) { error.show(t('report.needType')); typeSelect.focus(); return; }
    if (!description.value.trim()) { error.show(t('report.needDescription')); description.focus(); return; }
    const body = {
      hazard_type: hazardType,
      risk: riskInputs.find((r) => r.checked).value,
      description: description.value.trim(),
      immediate_measures: measures.value.trim(),
      anonymous: anonymous.checked,
    };
    body[byEquipment.checked ? 'equipment' : 'area'] = place;
    submit.disabled = true;
    try {
      body.attachments = await uploadPhotos(picker.files(), (text) => { progress.textContent = text; });
      const answer = await api.post('/api/v1/reports', body);
      const order = (answer && (answer.order || answer)) || {};
      form.reset();
      picker.reset();
      switchWhere();
      otherField.hidden = true;
      result.replaceChildren(h('div', { class: 'callout callout-success', dataset: { testid: 'report-done' }, tabIndex: -1 },
        h('p', {}, t('report.done', { number: order.number || order.id || '' })),
        order.id || order.number ? h('a', { href: orderHref(order), class: 'btn' }, t('report.view')) : null));
      result.firstChild.focus();
    } catch (e) {
      error.show(e.message);
    } finally {
      submit.disabled = false;
      progress.textContent = '';
    }
  });

  return h('section', { class: 'panel narrow view-report' },
    h('h1', {}, t('report.title')),
    h('p', { class: 'hint' }, t('report.intro')),
    result, form);
}
