// The page: session, top bar and nav, hash routes, live refresh (server-sent events, else
// polling every 15 s). Each view is a module (view-<name>.js) exporting `meta` and `build(ctx)`.
import { api, setCsrf, onUnauthorized, abortRequests, ApiError } from './api.js';
import { t, loadLanguage, preferredLanguage, currentLanguage, translateStatic } from './i18n.js';
import { h, clear, roleName, listOf } from './dom.js';
import { parseRoute } from './router.js';
import { initLightbox } from './dialog.js';

const POLL_MS = 15000;
const STREAM_RETRY_MS = 60000;

const VIEWS = {
  login: () => import('./view-login.js'),
  orders: () => import('./view-orders.js'),
  order: () => import('./view-order.js'),
  report: () => import('./view-report.js'),
  mine: () => import('./view-mine.js'),
  alarms: () => import('./view-alarms.js'),
  equipment: () => import('./view-equipment.js'),
  kpi: () => import('./view-kpi.js'),
  weekly: () => import('./view-weekly.js'),
  gateways: () => import('./view-gateways.js'),
};

const NAV = [
  { route: 'mine', key: 'nav.mine', show: (s) => hasRole(s, 'technician', 'team_lead') },
  { route: 'orders', key: 'nav.orders' },
  { route: 'report', key: 'nav.report' },
  { route: 'alarms', key: 'nav.alarms', show: (s) => !isCentral(s) },
  { route: 'equipment', key: 'nav.equipment', show: (s) => !isCentral(s) },
  { route: 'kpi', key: 'nav.kpi' },
  { route: 'weekly', key: 'nav.weekly' },
  { route: 'gateways', key: 'nav.gateways', show: (s) => isCentral(s) },
];

let session = null;
let current = { route: null, view: null };
let renderToken = 0;
let dirty = false;
let usersPromise = null;

export function hasRole(s, ...roles) {
  return !!s && Array.isArray(s.roles) && s.roles.some((role) => roles.includes(role));
}

export function isCentral(s) {
  return !!s && !!s.node && s.node.role === 'central';
}

// ---- chrome ----

function renderChrome() {
  translateStatic();
  const signedIn = !!session;
  document.getElementById('session-user').textContent = signedIn ? session.user : '';
  document.getElementById('session-roles').textContent =
    signedIn ? (session.roles || []).map(roleName).join(' · ') : '';
  document.getElementById('logout-button').hidden = !signedIn;
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('nav-toggle').hidden = !signedIn;
  document.getElementById('language-select').value = currentLanguage();
  const live = document.getElementById('live-status');
  live.textContent = live.dataset.state ? t(`live.${live.dataset.state}`) : '';
  const badge = document.getElementById('node-badge');
  const node = signedIn && session.node;
  badge.hidden = !node || !node.role;
  badge.textContent = node ? [t(`node.${node.role}`, null, node.role), node.site, node.node]
    .filter(Boolean).join(' · ') : '';
  const list = clear(document.getElementById('nav-list'));
  if (!signedIn) return;
  for (const item of NAV) {
    if (item.show && !item.show(session)) continue;
    const active = current.route && (current.route.name === item.route ||
      (item.route === 'orders' && current.route.name === 'order'));
    list.append(h('li', {}, h('a', {
      href: `#/${item.route}`, id: `nav-${item.route}`, dataset: { testid: `nav-${item.route}` },
      'aria-current': active ? 'page' : null,
      onclick: () => setNavOpen(false),
    }, t(item.key))));
  }
}

function setNavOpen(open) {
  const toggle = document.getElementById('nav-toggle');
  toggle.setAttribute('aria-expanded', String(open));
  document.getElementById('nav').classList.toggle('open', open);
}

export function showNotice(message, kind = 'error') {
  const box = document.getElementById('notice');
  clear(box);
  if (!message) { box.hidden = true; return; }
  box.className = `notice notice-${kind}`;
  box.append(h('span', {}, message),
    h('button', { type: 'button', class: 'btn btn-quiet', onclick: () => showNotice('') }, t('app.dismiss')));
  box.hidden = false;
}

// ---- session ----

// Signed out is {user: null, language} (200), or a 401 carrying the same body: either way the
// server's default language applies until this browser has picked one.
async function loadSession() {
  let data;
  try {
    data = await api.get('/api/v1/session', null, { quiet401: true });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    data = error.body;
  }
  if (data && data.user) {
    await acceptSession(data);
    return;
  }
  session = null;
  if (data && data.language && !localStorageLanguage()) await loadLanguage(data.language);
}

function localStorageLanguage() {
  try { return localStorage.getItem('fw.language'); } catch { return null; }
}

export async function acceptSession(data) {
  session = { ...data, roles: Array.isArray(data.roles) ? data.roles : [] };
  setCsrf(data.csrf);
  usersPromise = null;
  if (data.language && data.language !== currentLanguage()) await loadLanguage(data.language);
  renderChrome();
}

function homeRoute() {
  if (hasRole(session, 'technician') && !hasRole(session, 'safety', 'manager', 'team_lead')) return '#/mine';
  return '#/orders';
}

// Live refresh and requests in flight stop before the session ends: landing after it, they would
// meet a 401.
async function logout() {
  stopLive();
  abortRequests();
  try { await api.post('/api/v1/logout'); } catch (error) { if (error.status !== 401) showNotice(error.message); }
  session = null;
  setCsrf('');
  renderChrome();
  location.hash = '#/login';
}

function goLogin() {
  if (current.route && current.route.name === 'login') return;
  session = null;
  setCsrf('');
  stopLive();
  renderChrome();
  const next = location.hash && !location.hash.startsWith('#/login') ? location.hash : '';
  location.hash = next ? `#/login?next=${encodeURIComponent(next)}` : '#/login';
}

// ---- views ----

function makeContext(route) {
  return {
    route,
    session,
    central: isCentral(session),
    hasRole: (...roles) => hasRole(session, ...roles),
    navigate: (hash) => { location.hash = hash; },
    refresh: () => render({ keepScroll: true }),
    notice: showNotice,
    home: homeRoute,
    acceptSession,
    // Workflow users for assignee choices and filters (GET /api/v1/users); [] when unavailable.
    users() {
      if (!usersPromise) {
        usersPromise = api.get('/api/v1/users').then((d) => listOf(d, 'users')).catch(() => []);
      }
      return usersPromise;
    },
  };
}

async function render({ keepScroll = false } = {}) {
  const token = ++renderToken;
  const route = parseRoute(location.hash);
  if (!session && route.name !== 'login') { goLogin(); return; }
  if (route.name === 'home') { location.replace(session ? homeRoute() : '#/login'); return; }
  current.route = route;
  renderChrome();
  const container = document.getElementById('view');
  container.setAttribute('aria-busy', 'true');
  let node;
  let meta = {};
  try {
    const loader = VIEWS[route.name];
    if (!loader) throw new Error(t('error.notFound'));
    const module = await loader();
    meta = module.meta || {};
    current.view = meta;
    document.title = `${t(meta.title || 'app.name')} · floorwatch`;
    node = await module.build(makeContext(route));
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.aborted)) return;
    node = h('section', { class: 'panel error-panel', dataset: { testid: 'view-error' } },
      h('h1', {}, t('error.title')), h('p', { role: 'alert' }, error.message || String(error)),
      h('button', { type: 'button', class: 'btn', onclick: () => render() }, t('app.retry')));
  }
  if (token !== renderToken) return;
  const scroll = window.scrollY;
  const focusedKey = focusKey(document.activeElement);
  clear(container).append(node);
  container.removeAttribute('aria-busy');
  dirty = false;
  hideChanged();
  if (keepScroll) {
    window.scrollTo(0, scroll);
    restoreFocus(focusedKey);
  } else {
    window.scrollTo(0, 0);
    const heading = container.querySelector('h1');
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  }
  if (session) startLive();
}

function focusKey(el) {
  if (!el || el === document.body) return null;
  return el.id ? `#${el.id}` : el.dataset && el.dataset.testid ? `[data-testid="${el.dataset.testid}"]` : null;
}

function restoreFocus(key) {
  if (!key) return;
  try {
    const el = document.querySelector(key);
    if (el) el.focus({ preventScroll: true });
  } catch { /* an id that is not a valid selector */ }
}

// ---- live refresh ----

let stream = null;
let pollTimer = null;
let retryTimer = null;
const pending = new Map();

function startLive() {
  if (stream || retryTimer) return;
  if (!('EventSource' in window)) { startPolling(); return; }
  stream = new EventSource('/api/v1/stream');
  stream.addEventListener('open', () => { stopPolling(); setLiveStatus('live'); });
  for (const topic of ['orders', 'alarms', 'readings']) {
    stream.addEventListener(topic, () => notify(topic));
  }
  stream.addEventListener('error', () => {
    startPolling();
    if (stream && stream.readyState === EventSource.CLOSED) {
      stream.close();
      stream = null;
      retryTimer = setTimeout(() => { retryTimer = null; if (session) startLive(); }, STREAM_RETRY_MS);
    }
  });
}

function stopLive() {
  if (stream) { stream.close(); stream = null; }
  clearTimeout(retryTimer);
  retryTimer = null;
  for (const timer of pending.values()) clearTimeout(timer);
  pending.clear();
  stopPolling();
  setLiveStatus('');
}

function startPolling() {
  if (pollTimer) return;
  setLiveStatus('polling');
  pollTimer = setInterval(() => autoRefresh(), POLL_MS);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

function setLiveStatus(state) {
  const el = document.getElementById('live-status');
  el.dataset.state = state;
  el.textContent = state ? t(`live.${state}`) : '';
}

// Readings change every second: coalesce them more than order and alarm notices.
function notify(topic) {
  const topics = (current.view && current.view.topics) || [];
  if (!topics.includes(topic) || pending.has(topic)) return;
  pending.set(topic, setTimeout(() => { pending.delete(topic); autoRefresh(); },
    topic === 'readings' ? 10000 : 400));
}

// Never throw away what someone is typing: offer the refresh instead.
function autoRefresh() {
  if (!session || !current.route || current.route.name === 'login') return;
  if (document.querySelector('dialog[open]')) return;
  const active = document.activeElement;
  const typing = active && active.closest('#view') && active.matches('input, textarea, select');
  if (dirty || typing) { showChanged(); return; }
  render({ keepScroll: true });
}

function showChanged() {
  let bar = document.getElementById('changed-bar');
  if (bar) return;
  bar = h('div', { id: 'changed-bar', class: 'changed-bar', role: 'status' },
    h('span', {}, t('live.changed')),
    h('button', { type: 'button', class: 'btn', id: 'changed-reload', onclick: () => render({ keepScroll: true }) },
      t('live.reload')));
  document.getElementById('main').prepend(bar);
}

function hideChanged() {
  const bar = document.getElementById('changed-bar');
  if (bar) bar.remove();
}

// ---- boot ----

async function boot() {
  onUnauthorized(goLogin);
  initLightbox();
  await loadLanguage(preferredLanguage());
  translateStatic();
  document.getElementById('nav-toggle').addEventListener('click', () => {
    const toggle = document.getElementById('nav-toggle');
    setNavOpen(toggle.getAttribute('aria-expanded') !== 'true');
  });
  document.getElementById('logout-button').addEventListener('click', logout);
  document.getElementById('language-select').addEventListener('change', async (event) => {
    const lang = event.target.value;
    try {
      await loadLanguage(lang);
      if (session) {
        session.language = lang;
        await api.put('/api/v1/session/language', { language: lang });
      }
    } catch (error) {
      showNotice(error.message);
    }
    renderChrome();
    render({ keepScroll: true });
  });
  document.getElementById('view').addEventListener('input', (event) => {
    if (!event.target.closest('[data-live-filter]')) dirty = true;
  });
  window.addEventListener('hashchange', () => { showNotice(''); render(); });
  try {
    await loadSession();
  } catch (error) {
    showNotice(error.message);
  }
  renderChrome();
  render();
}

boot();
