// #/login: user name and password; POST /api/v1/login answers the session (user, roles, csrf,
// language) and sets the HttpOnly cookie.
import { api } from './api.js';
import { h, field, errorBox } from './dom.js';
import { t } from './i18n.js';

export const meta = { title: 'login.title', topics: [] };

export async function build(ctx) {
  if (ctx.session) {
    ctx.navigate(ctx.home());
    return h('div');
  }
  const user = h('input', { type: 'text', name: 'user', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: false, id: 'login-user', dataset: { testid: 'login-user' } });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, id: 'login-password', dataset: { testid: 'login-password' } });
  const error = errorBox();
  error.dataset.testid = 'login-error';
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'login-submit', dataset: { testid: 'login-submit' } }, t('login.submit'));
  const form = h('form', { class: 'form login-form', novalidate: true }, field(t('login.user'), user), field(t('login.password'), password), error, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!user.value.trim() || !password.value) { error.show(t('login.missing')); return; }
    submit.disabled = true;
    error.show('');
    try {
      const session = await api.post('/api/v1/login', { user: user.value.trim(), password: password.value }, { quiet401: true });
      await ctx.acceptSession(session);
      const next = ctx.route.query.get('next');
      ctx.navigate(next && next.startsWith('#/') && !next.startsWith('#/login') ? next : ctx.home());
    } catch (e) {
      // The same answer for an unknown user and a wrong password, in the page's language.
      error.show(e.status === 401 ? t('login.failed') : e.message);
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  requestAnimationFrame(() => user.focus());
  return h('section', { class: 'panel narrow' }, h('h1', {}, t('login.title')), h('p', { class: 'hint' }, t('login.intro')), form);
}
