// #/gateways (the centre): GET /api/v1/sync -> every gateway with its sync state (connected or
// why not, backlog, oldest unsynced, last hello/ack, quarantined events, integrity alarms).
// On a gateway the same answer describes its one peer, the centre.
import { api } from './api.js';
import { h, emptyNote, dateTime, relative, toMs, number, duration } from './dom.js';
import { t } from './i18n.js';
import { routeHash } from './router.js';

export const meta = { title: 'gateways.title', topics: ['orders'] };

export async function build() {
  const data = await api.get('/api/v1/sync');
  const peers = (data && (data.gateways || data.peers)) || (Array.isArray(data) ? data : []);
  return h('div', { class: 'view-gateways' },
    h('h1', {}, t('gateways.title')),
    peers.length ? h('ul', { class: 'cards gateway-list', dataset: { testid: 'gateway-list' } }, peers.map(peerCard)) : emptyNote(t('gateways.none')));
}

function when(value) {
  const ms = toMs(value);
  return ms ? `${dateTime(ms)} (${relative(ms)})` : t('equipment.never');
}

function peerCard(peer) {
  const name = peer.gateway || peer.origin || peer.name || peer.node || '–';
  const healthy = peer.connected && !peer.integrity_alarms && !peer.stopped;
  const facts = [
    ['gateways.backlog', number(peer.backlog ?? 0, 0)],
    ['gateways.oldest', peer.oldest_unsynced_ms ? duration(peer.oldest_unsynced_ms) : '–'],
    ['gateways.lastHello', when(peer.last_hello_ms ?? peer.last_hello)],
    ['gateways.lastAck', when(peer.last_ack_ms ?? peer.last_ack)],
    ['gateways.quarantined', number(peer.quarantined ?? 0, 0)],
    ['gateways.integrity', number(peer.integrity_alarms ?? 0, 0)],
  ];
  if (peer.incarnation) facts.push(['gateways.incarnation', String(peer.incarnation)]);
  if (peer.cursors) facts.push(['gateways.cursors', Object.entries(peer.cursors).map(([k, v]) => `${k} ${v}`).join(' · ')]);
  return h('li', { class: ['card', healthy ? 'card-ok' : 'card-overdue'], dataset: { testid: 'gateway', gateway: name } },
    h('div', { class: 'card-head' }, h('strong', {}, name),
      h('span', { class: ['badge', peer.connected ? 'health-online' : 'health-offline'] },
        peer.connected ? `● ${t('gateways.connected')}` : `✖ ${t('gateways.disconnected')}`),
      peer.integrity_alarms ? h('span', { class: 'badge badge-danger' }, t('gateways.integrityAlarm')) : null),
    !peer.connected && peer.reason ? h('p', { class: 'hint' }, peer.reason) : null,
    h('dl', { class: 'facts facts-compact' }, facts.map(([k, v]) => h('div', {}, h('dt', {}, t(k)), h('dd', {}, v)))),
    h('a', { href: routeHash('#/orders', { gateway: name }), class: 'btn btn-quiet' }, t('gateways.orders')));
}
