// The JSON API (daemon/http/README.md): JSON in and out, the session's CSRF token on every
// state change, 401 sends the person to the login page, errors carry the server's words.
import { t } from './i18n.js';

let csrfToken = '';
let unauthorizedHandler = () => {};

export class ApiError extends Error {
  constructor(status, message, body, aborted = false) {
    super(message);
    this.status = status;
    this.body = body;
    this.aborted = aborted; // cancelled by abortRequests(), not refused or lost
  }
}

// Requests in flight share one controller, so logging out can cancel them before the session
// ends (one landing after it would be a 401).
let inFlight = new AbortController();

export function abortRequests() {
  inFlight.abort();
  inFlight = new AbortController();
}

export function setCsrf(token) {
  csrfToken = token || '';
}

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '' && value !== false) {
      params.set(key, value === true ? '1' : String(value));
    }
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function request(method, path, { query, body, form, quiet401 } = {}) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (form) {
    payload = form; // multipart: the browser writes the boundary
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let response;
  const { signal } = inFlight;
  try {
    response = await fetch(withQuery(path, query), {
      method, headers, body: payload, credentials: 'same-origin', cache: 'no-store', signal,
    });
  } catch {
    throw new ApiError(0, t('error.network'), null, signal.aborted);
  }
  let data = null;
  let text;
  try {
    text = await response.text();
  } catch {
    throw new ApiError(0, t('error.network'), null, signal.aborted);
  }
  if (text && (response.headers.get('Content-Type') || '').includes('json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (response.status === 401 && !quiet401) unauthorizedHandler();
  if (!response.ok) {
    const words = data && typeof data.error === 'string' && data.error
      ? data.error
      : t(`error.http${response.status}`, null, t('error.status', { status: response.status }));
    throw new ApiError(response.status, words, data);
  }
  return data;
}

export const api = {
  get: (path, query, options) => request('GET', path, { query, ...options }),
  post: (path, body, options) => request('POST', path, { body: body ?? {}, ...options }),
  put: (path, body, options) => request('PUT', path, { body: body ?? {}, ...options }),
  // One file per request (POST /api/v1/attachments) -> {sha256, media_type, size, name}.
  upload(file) {
    const form = new FormData();
    form.append('file', file, file.name || 'photo.jpg');
    return request('POST', '/api/v1/attachments', { form });
  },
};

export const enc = encodeURIComponent;
