// First sign-in: the user picks the name others see (and optionally a username).
import { ApiError } from '../../api/errors';
import { t } from '../../i18n';
import { h } from '../../util/dom';
import type { Ctx, View } from '../context';
import { errorText } from '../errors';

export class ProfileSetupView implements View {
  readonly el: HTMLElement;

  constructor(ctx: Ctx) {
    const user = ctx.session.user!;
    const name = h('input', {
      id: 'display-name',
      name: 'display_name',
      autocomplete: 'name',
      maxlength: 64,
      value: user.display_name ?? '',
      required: true,
    });
    const username = h('input', {
      id: 'username',
      name: 'username',
      autocomplete: 'username',
      maxlength: 32,
      value: user.username ?? '',
      'aria-describedby': 'username-hint',
    });
    const err = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('profile.continue'));
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('label', { for: 'display-name' }, t('profile.displayName')),
      name,
      h('label', { for: 'username' }, t('profile.username')),
      username,
      h('p', { id: 'username-hint', class: 'hint' }, t('profile.usernameHint')),
      err,
      submit,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const display = name.value.trim();
      if (!display) {
        err.textContent = t('profile.nameRequired');
        name.focus();
        return;
      }
      submit.disabled = true;
      try {
        const patch: { display_name: string; username?: string } = { display_name: display };
        const u = username.value.trim().replace(/^@/, '');
        if (u && u !== user.username) patch.username = u;
        ctx.session.updateUser(await ctx.auth.updateMe(patch));
      } catch (ex) {
        err.textContent = ex instanceof ApiError && ex.status < 500 ? ex.message : errorText(ex);
        submit.disabled = false;
      }
    });
    this.el = h(
      'main',
      { class: 'auth', id: 'main' },
      h(
        'div',
        { class: 'auth-card' },
        h('h1', null, t('profile.title')),
        h('p', { class: 'muted' }, t('profile.subtitle')),
        form,
      ),
    );
    queueMicrotask(() => name.focus());
  }

  dispose(): void {}
}
