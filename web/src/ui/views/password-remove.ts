// Settings → Password → Remove (DELETE /v1/auth/password): the account then signs
// in with codes only. The same proof as a change — the current password or a code
// sent to the phone with `purpose: password`; the API ends the other sessions.
import { ApiError } from '../../api/errors';
import { t } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { openDialog } from '../components/dialog';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { codeField, currentPasswordField, sendCodeButton } from './password';

export function removePasswordButton(ctx: Ctx, onRemoved: () => void): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'link-button danger',
      'data-testid': 'password-remove',
      onClick: () => openRemoveDialog(ctx, onRemoved),
    },
    t('passwordRemove.open'),
  );
}

function openRemoveDialog(ctx: Ctx, onRemoved: () => void): void {
  const body = h('div', { class: 'stack' });
  const dlg = openDialog(t('passwordRemove.title'), body);
  const render = (proof: 'current' | 'code') => {
    const current = currentPasswordField('pwr-current');
    const code = codeField('pwr-code');
    const codeBox = h('div', { class: 'stack' });
    const err = h('p', { class: 'form-error', role: 'alert' });
    const send = sendCodeButton(ctx, codeBox, code, err);
    const submit = h(
      'button',
      { type: 'submit', class: 'primary danger' },
      t('passwordRemove.submit'),
    );
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('p', null, t('passwordRemove.hint')),
      proof === 'current'
        ? [h('label', { for: 'pwr-current' }, t('password.current')), current]
        : [h('p', null, t('password.codeHint')), send, codeBox],
      err,
      h(
        'div',
        { class: 'row spread' },
        h(
          'button',
          {
            type: 'button',
            class: 'link-button',
            onClick: () => render(proof === 'current' ? 'code' : 'current'),
          },
          proof === 'current' ? t('password.useCode') : t('password.useCurrent'),
        ),
        submit,
      ),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const otp = code.input.value.replace(/\D/g, '');
      if (proof === 'code' && otp.length !== 6) {
        err.textContent = t('signin.invalidCode');
        return;
      }
      if (proof === 'current' && !current.value) {
        err.textContent = t('passwordRemove.needCurrent');
        current.focus();
        return;
      }
      submit.disabled = true;
      err.textContent = '';
      try {
        await ctx.auth.removePassword(
          proof === 'current' ? { current_password: current.value } : { otp_code: otp },
        );
        ctx.session.updateUser({ ...ctx.session.user!, has_password: false });
        dlg.close();
        ctx.toast(t('passwordRemove.done'));
        onRemoved();
      } catch (ex) {
        submit.disabled = false;
        err.textContent =
          ex instanceof ApiError && ex.status === 403
            ? proof === 'code'
              ? t('password.wrongCode')
              : t('password.wrongCurrent')
            : ex instanceof ApiError && ex.status < 500 && ex.status !== 429
              ? ex.message
              : errorText(ex);
      }
    });
    replaceChildren(body, form);
    (proof === 'current' ? current : send).focus();
  };
  render('current');
}
