// #/equipment: GET /api/v1/channels (latest reading per channel), a last-hour sparkline per
// channel from GET /api/v1/channels/{name}/samples?since=1h (filled in after the page shows),
// and GET /api/v1/devices (Modbus devices and MQTT brokers: online, polls, errors).
import { api, enc } from './api.js';
import { h, emptyNote, listOf, dateTime, relative, toMs, number, cssToken } from './dom.js';
import { t } from './i18n.js';
import { sparkline, samplePoints } from './charts.js';

export const meta = { title: 'equipment.title', topics: ['readings'] };

const PARALLEL_REQUESTS = 4;

export async function build() {
  const [channelData, deviceData] = await Promise.all([
    api.get('/api/v1/channels'),
    api.get('/api/v1/devices').catch((e) => ({ error: e.message })),
  ]);
  const channels = listOf(channelData, 'channels');
  const sparkSlots = new Map();
  const groups = new Map();
  for (const channel of channels) {
    const key = channel.equipment || channel.area || '–';
    if (!groups.has(key)) groups.set(key, { area: channel.area, channels: [] });
    groups.get(key).channels.push(channel);
  }
  const view = h('div', { class: 'view-equipment' },
    h('h1', {}, t('equipment.title')),
    h('section', { class: 'panel' }, h('h2', {}, t('equipment.channels')),
      channels.length ? [...groups.entries()].map(([equipment, group]) => h('div', { class: 'equipment-group' },
        h('h3', {}, equipment, group.area && group.area !== equipment ? h('span', { class: 'hint' }, ` · ${group.area}`) : null),
        h('ul', { class: 'channel-grid' }, group.channels.map((channel) => {
          const slot = h('div', { class: 'spark-slot' });
          sparkSlots.set(channel.channel || channel.name, slot);
          return channelCard(channel, slot);
        })))) : emptyNote(t('equipment.noChannels'))),
    devicesPanel(deviceData));
  requestAnimationFrame(() => fillSparklines(sparkSlots)); // once the view is on the page
  return view;
}

function channelCard(channel, slot) {
  const name = channel.channel || channel.name;
  const latest = channel.latest || {};
  const at = toMs(latest.time_ms ?? latest.time);
  const quality = latest.quality || (at ? 'good' : '');
  return h('li', { class: ['channel-card', quality && quality !== 'good' && 'channel-bad'], dataset: { testid: 'channel', channel: name } },
    h('div', { class: 'channel-name' }, name),
    h('div', { class: 'channel-value' },
      h('strong', { dataset: { testid: 'channel-value' } }, latest.value === null || latest.value === undefined ? '–' : number(latest.value, 3)),
      channel.unit ? h('span', { class: 'unit' }, ` ${channel.unit}`) : null),
    h('div', { class: 'hint' },
      quality && quality !== 'good' ? h('span', { class: 'badge badge-warn' }, t(`quality.${quality}`, null, quality)) : null,
      at ? h('time', { title: dateTime(at) }, ` ${relative(at)}`) : ` ${t('equipment.noReading')}`),
    slot);
}

async function fillSparklines(slots) {
  const queue = [...slots.entries()];
  const worker = async () => {
    while (queue.length) {
      const [name, slot] = queue.shift();
      if (!slot.isConnected) continue; // the view was replaced meanwhile
      try {
        const points = samplePoints(await api.get(`/api/v1/channels/${enc(name)}/samples`, { since: '1h' }));
        slot.replaceChildren(sparkline(points, { label: t('equipment.lastHour', { channel: name }) }));
      } catch {
        slot.replaceChildren(h('span', { class: 'hint' }, '–'));
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_REQUESTS }, worker));
}

function devicesPanel(data) {
  const panel = h('section', { class: 'panel', dataset: { testid: 'devices' } }, h('h2', {}, t('equipment.devices')));
  if (data && data.error) { panel.append(h('p', { class: 'form-error', role: 'alert' }, data.error)); return panel; }
  const devices = listOf(data, 'devices');
  if (!devices.length) { panel.append(emptyNote(t('equipment.noDevices'))); return panel; }
  panel.append(h('div', { class: 'table-wrap' }, h('table', { class: 'table compact devices-table' },
    h('thead', {}, h('tr', {}, ['equipment.driver', 'equipment.bus', 'equipment.device', 'equipment.health', 'equipment.lastOk', 'equipment.polls', 'equipment.failed', 'equipment.lastError']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, devices.map((d) => {
      const lastOk = toMs(d.last_success);
      return h('tr', { class: d.online ? null : 'row-bad', dataset: { testid: 'device' } },
        h('td', { dataset: { label: t('equipment.driver') } }, d.driver || ''),
        h('td', { dataset: { label: t('equipment.bus') } }, d.bus || ''),
        h('td', { dataset: { label: t('equipment.device') } }, d.device || ''),
        h('td', { dataset: { label: t('equipment.health') } }, h('span', { class: ['badge', `health-${cssToken(d.online ? 'online' : 'offline')}`] },
          d.online ? `● ${t('equipment.online')}` : `✖ ${t('equipment.offline')}`)),
        h('td', { dataset: { label: t('equipment.lastOk') } }, lastOk ? dateTime(lastOk) : t('equipment.never')),
        h('td', { dataset: { label: t('equipment.polls') } }, number(d.polls, 0)),
        h('td', { dataset: { label: t('equipment.failed') } }, number(d.polls_failed, 0)),
        h('td', { dataset: { label: t('equipment.lastError') } }, d.last_error || '–'));
    })))));
  return panel;
}
