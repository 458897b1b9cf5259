// Settings → Password: set one (proof: a code sent to the phone with
// `purpose: password`) or change it (proof: the current password, or such a
// code), PUT /v1/auth/password. The API ends the user's other sessions.
// Removing it (DELETE /v1/auth/password) is in password-remove.ts.
import { ApiError } from '../../api/errors';
import type { OtpRequestResponse } from '../../api/types';
import { locale, t } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { formatPhone } from '../../util/phone';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { removePasswordButton } from './password-remove';

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

export class PasswordSection {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;

  constructor(
    private readonly ctx: Ctx,
    private readonly onChanged: () => void,
  ) {
    this.body = h('div', { class: 'stack' });
    this.el = h(
      'section',
      { class: 'card stack', 'aria-labelledby': 'password-title', 'data-testid': 'password' },
      h('h2', { id: 'password-title' }, t('password.title')),
      this.body,
    );
    this.render(ctx.session.user?.has_password ? 'current' : 'code');
    // The password may have been set or removed on another device since sign-in.
    ctx.auth.me().then(
      (u) => {
        if (!!u.has_password === !!ctx.session.user?.has_password) return;
        ctx.session.updateUser(u);
        if (this.el.isConnected) this.render(u.has_password ? 'current' : 'code');
      },
      () => undefined,
    );
  }

  /** `current`: prove with the current password; `code`: with a code sent by SMS. */
  private render(proof: 'current' | 'code', status = ''): void {
    const has = !!this.ctx.session.user?.has_password;
    const current = currentPasswordField('pw-current');
    const code = codeField('pw-code');
    const codeBox = h('div', { class: 'stack' });
    const fields = newPasswordFields('pw');
    const err = h('p', { class: 'form-error', role: 'alert' });
    const ok = h('p', { class: 'form-ok', role: 'status' }, status);
    const submit = h(
      'button',
      { type: 'submit', class: 'primary' },
      has ? t('password.change') : t('password.set'),
    );
    const sendCode = sendCodeButton(this.ctx, codeBox, code, err);
    const other =
      has &&
      h(
        'button',
        {
          type: 'button',
          class: 'link-button',
          onClick: () => this.render(proof === 'current' ? 'code' : 'current'),
        },
        proof === 'current' ? t('password.useCode') : t('password.useCurrent'),
      );
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('p', { class: 'hint' }, has ? t('password.hasOne') : t('password.none')),
      proof === 'current'
        ? [h('label', { for: 'pw-current' }, t('password.current')), current]
        : [h('p', null, t('password.codeHint')), sendCode, codeBox],
      fields.el,
      err,
      ok,
      h('div', { class: 'row spread' }, other || h('span'), submit),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      ok.textContent = '';
      const problem = fields.problem();
      if (problem) {
        err.textContent = problem;
        fields.password.focus();
        return;
      }
      const otp = code.input.value.replace(/\D/g, '');
      if (proof === 'code' && otp.length !== 6) {
        err.textContent = t('signin.invalidCode');
        (code.input.isConnected ? code.input : sendCode).focus();
        return;
      }
      submit.disabled = true;
      err.textContent = '';
      const failure = await this.save(
        fields.password.value,
        proof === 'current' ? { current_password: current.value } : { otp_code: otp },
      );
      submit.disabled = false;
      err.textContent = failure ?? '';
    });
    replaceChildren(
      this.body,
      form,
      has &&
        removePasswordButton(this.ctx, () => {
          this.render('code');
          this.onChanged();
        }),
    );
  }

  /** Sends the new password; on success shows the form anew, else answers the error text. */
  private async save(
    password: string,
    proof: { current_password: string } | { otp_code: string },
  ): Promise<string | null> {
    try {
      await this.ctx.auth.setPassword(password, proof);
      this.ctx.session.updateUser({ ...this.ctx.session.user!, has_password: true });
      this.render('current', t('password.saved'));
      this.onChanged();
      return null;
    } catch (ex) {
      if (ex instanceof ApiError && ex.status === 403)
        return 'otp_code' in proof ? t('password.wrongCode') : t('password.wrongCurrent');
      return ex instanceof ApiError && ex.status === 400 ? ex.message : errorText(ex);
    }
  }
}

/**
 * "Send code" (password settings, password removal, account deletion): sends a
 * password code to the user's own number and shows `code` in `codeBox` to type
 * it in; a failure goes to `err`.
 */
export function sendCodeButton(
  ctx: Ctx,
  codeBox: HTMLElement,
  code: { label: HTMLElement; input: HTMLInputElement },
  err: HTMLElement,
): HTMLButtonElement {
  const button = h('button', { type: 'button' }, t('password.sendCode'));
  button.addEventListener('click', async () => {
    err.textContent = '';
    button.disabled = true;
    try {
      const user = ctx.session.user;
      // The own number is in E.164 (international), so no country goes with it.
      const r = await ctx.auth.requestPasswordOtp(user?.phone ?? '', undefined, locale());
      // The number as people there write it.
      const phone = user?.phone ? formatPhone(user.phone, user.country) : '';
      replaceChildren(codeBox, codeSentNote(phone, r, code), code.label, code.input);
      code.input.focus();
    } catch (ex) {
      err.textContent = errorText(ex);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** The current-password input. */
export function currentPasswordField(id: string): HTMLInputElement {
  return h('input', {
    id,
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
}

/** The 6-digit code input with its label. */
export function codeField(id: string): { label: HTMLElement; input: HTMLInputElement } {
  return {
    label: h('label', { for: id }, t('signin.code')),
    input: h('input', {
      id,
      name: 'otp_code',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      maxlength: 6,
      pattern: '[0-9]{6}',
      required: true,
      class: 'code-input',
    }),
  };
}

/** "We sent a code to …", with the development code and a button to fill it in. */
export function codeSentNote(
  phone: string,
  r: OtpRequestResponse,
  code: { input: HTMLInputElement },
): HTMLElement {
  return h(
    'div',
    { class: 'stack' },
    h('p', null, t('signin.codeSent', { phone })),
    r.dev_code
      ? h(
          'div',
          { class: 'dev-code', 'data-testid': 'dev-code' },
          h('span', null, t('signin.devCode', { code: r.dev_code })),
          h(
            'button',
            {
              type: 'button',
              class: 'link-button',
              onClick: () => {
                code.input.value = r.dev_code!;
                code.input.focus();
              },
            },
            t('signin.useDevCode'),
          ),
        )
      : null,
  );
}

/** New password + repeat, with the API's length rule checked before sending. */
export function newPasswordFields(prefix: string): {
  el: HTMLElement;
  password: HTMLInputElement;
  problem(): string | null;
} {
  const password = h('input', {
    id: `${prefix}-new`,
    type: 'password',
    autocomplete: 'new-password',
    minlength: PASSWORD_MIN,
    maxlength: PASSWORD_MAX,
    required: true,
    'aria-describedby': `${prefix}-rule`,
  });
  const repeat = h('input', {
    id: `${prefix}-repeat`,
    type: 'password',
    autocomplete: 'new-password',
    maxlength: PASSWORD_MAX,
    required: true,
  });
  return {
    el: h(
      'div',
      { class: 'stack' },
      h('label', { for: `${prefix}-new` }, t('password.new')),
      password,
      h('p', { class: 'hint', id: `${prefix}-rule` }, t('password.rule', { min: PASSWORD_MIN })),
      h('label', { for: `${prefix}-repeat` }, t('password.repeat')),
      repeat,
    ),
    password,
    problem: () =>
      [...password.value].length < PASSWORD_MIN
        ? t('password.tooShort', { min: PASSWORD_MIN })
        : password.value !== repeat.value
          ? t('password.mismatch')
          : null,
  };
}
