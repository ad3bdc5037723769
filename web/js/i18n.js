// One catalog per language (web/i18n/<lang>.json, the same keys in each); t() looks a key up
// and fills {placeholders}. Dates and numbers follow the chosen language via Intl.
export const LANGUAGES = ['en', 'zh-CN'];

let language = 'en';
let catalog = {};

export async function loadLanguage(wanted) {
  const lang = LANGUAGES.includes(wanted) ? wanted : 'en';
  const response = await fetch(`/i18n/${lang}.json`, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`language ${lang}: HTTP ${response.status}`);
  catalog = await response.json();
  language = lang;
  document.documentElement.lang = lang;
  try { localStorage.setItem('fw.language', lang); } catch { /* private mode */ }
  return lang;
}

export function currentLanguage() {
  return language;
}

// Before anyone logs in: the last choice on this browser, else the browser's own language.
export function preferredLanguage() {
  try {
    const saved = localStorage.getItem('fw.language');
    if (LANGUAGES.includes(saved)) return saved;
  } catch { /* private mode */ }
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

// Dates: Chinese for zh-CN; for English the browser's English variant (en-GB dates stay en-GB).
export function locale() {
  if (language === 'zh-CN') return 'zh-CN';
  const browser = navigator.language || 'en';
  return browser.toLowerCase().startsWith('en') ? browser : 'en';
}

// t('order.level', {n: 2}); `fallback` is shown for keys the catalog lacks (e.g. a state name
// a newer server sends).
export function t(key, vars, fallback) {
  let text = Object.prototype.hasOwnProperty.call(catalog, key) ? catalog[key] : (fallback ?? key);
  if (vars) {
    text = String(text).replace(/\{(\w+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole);
  }
  return text;
}

// Static markup in index.html: data-i18n (text) and data-i18n-aria-label.
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
}
