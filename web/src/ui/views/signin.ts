// Phone sign-in (docs/api/openapi.yaml, auth): country + number → code by SMS → verify;
// or number + password, with a reset by a code for a forgotten password. When the
// server runs with development OTP, its answer carries the code and the view
// shows it (with a button to fill it in), so a local system needs no SMS.
import { ApiError } from '../../api/errors';
import type { OtpRequestResponse, TokenResponse } from '../../api/types';
import { LOCALES, locale, t, intlLocale, type Locale } from '../../i18n';
import { formatPhone } from '../../util/phone';
import { COUNTRIES, countryByCode, type Country } from '../../util/countries';
import { h, replaceChildren } from '../../util/dom';
import type { Ctx, View } from '../context';
import { errorText } from '../errors';
import { chooseLocale, localeAtSignIn } from '../locale';
import { codeField, codeSentNote, newPasswordFields } from './password';

const COUNTRY_KEY = 'tchat.country';

export class SignInView implements View {
  readonly el: HTMLElement;
  private readonly card: HTMLElement;
  private country: Country = countryByCode(localStorage.getItem(COUNTRY_KEY) ?? guessCountry());
  private phone = '';
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly ctx: Ctx,
    private readonly notice: string | null,
  ) {
    this.card = h('div', { class: 'auth-card' });
    this.el = h('main', { class: 'auth', id: 'main' }, this.card);
    this.showPhoneStep();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private header(): HTMLElement[] {
    const lang = h(
      'select',
      {
        'aria-label': t('signin.language'),
        class: 'lang-select',
        onChange: (e: Event) =>
          void chooseLocale(this.ctx, (e.target as HTMLSelectElement).value as Locale),
      },
      LOCALES.map((l) => h('option', { value: l.code, selected: l.code === locale() }, l.name)),
    );
    return [
      h(
        'div',
        { class: 'auth-top' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'T'),
        lang,
      ),
      h('h1', null, t('signin.title')),
      h('p', { class: 'muted' }, t('signin.subtitle')),
    ];
  }

  /** Country and number (ids `country`, `phone`), shared by every step that asks for them. */
  private phoneFields(): { nodes: HTMLElement[]; phone: HTMLInputElement; read(): boolean } {
    const names = new Intl.DisplayNames([intlLocale()], { type: 'region' });
    const country = h(
      'select',
      { id: 'country', name: 'country', autocomplete: 'country' },
      COUNTRIES.map((c) =>
        h(
          'option',
          { value: c.code, selected: c.code === this.country.code },
          `${c.flag} ${names.of(c.code)} (${c.dial})`,
        ),
      ),
    );
    const phone = h('input', {
      id: 'phone',
      name: 'phone',
      type: 'tel',
      inputmode: 'tel',
      autocomplete: 'tel-national',
      placeholder: this.country.example,
      value: this.phone,
      required: true,
    });
    const dial = h('span', { class: 'dial', 'aria-hidden': 'true' }, this.country.dial);
    country.addEventListener('change', () => {
      this.country = countryByCode(country.value);
      phone.placeholder = this.country.example;
      dial.textContent = this.country.dial;
    });
    return {
      nodes: [
        h('label', { for: 'country' }, t('signin.country')),
        country,
        h('label', { for: 'phone' }, t('signin.phone')),
        h('div', { class: 'phone-row' }, dial, phone),
      ],
      phone,
      /** Takes the number typed; false (and focus on it) when it cannot be one. */
      read: () => {
        this.phone = phone.value.trim();
        if (/^\+?[\d\s().-]{6,20}$/.test(this.phone)) return true;
        phone.focus();
        return false;
      },
    };
  }

  private showPhoneStep(error: string | null = this.notice): void {
    const fields = this.phoneFields();
    const err = h('p', { class: 'form-error', role: 'alert' }, error ?? '');
    const submit = h('button', { type: 'submit', class: 'primary' }, t('signin.sendCode'));
    const form = h('form', { class: 'stack', novalidate: true }, fields.nodes, err, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!fields.read()) {
        err.textContent = t('signin.invalidPhone');
        return;
      }
      submit.disabled = true;
      err.textContent = '';
      try {
        const r = await this.ctx.auth.requestOtp(this.phone, this.country.code, locale());
        localStorage.setItem(COUNTRY_KEY, this.country.code);
        this.showCodeStep(r);
      } catch (ex) {
        err.textContent =
          ex instanceof ApiError && ex.status === 400 ? t('signin.invalidPhone') : errorText(ex);
        submit.disabled = false;
        fields.phone.focus();
      }
    });
    const other = h(
      'button',
      { type: 'button', class: 'link-button', onClick: () => this.showPasswordStep() },
      t('signin.withPassword'),
    );
    replaceChildren(this.card, this.header(), form, other);
    fields.phone.focus();
  }

  /** Phone number and password (POST /v1/auth/login); the way to a reset. */
  private showPasswordStep(notice: string | null = null): void {
    const fields = this.phoneFields();
    const password = h('input', {
      id: 'password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    });
    const ok = h('p', { class: 'form-ok', role: 'status' }, notice ?? '');
    const err = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('signin.signIn'));
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      ok,
      fields.nodes,
      h('label', { for: 'password' }, t('signin.password')),
      password,
      err,
      submit,
      h(
        'div',
        { class: 'row spread wrap' },
        h(
          'button',
          { type: 'button', class: 'link-button', onClick: () => this.showResetStep() },
          t('signin.forgot'),
        ),
        h(
          'button',
          { type: 'button', class: 'link-button', onClick: () => this.showPhoneStep(null) },
          t('signin.withCode'),
        ),
      ),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!fields.read()) {
        err.textContent = t('signin.invalidPhone');
        return;
      }
      submit.disabled = true;
      err.textContent = '';
      try {
        const tokens = await this.ctx.auth.loginWithPassword(
          this.phone,
          this.country.code,
          password.value,
        );
        localStorage.setItem(COUNTRY_KEY, this.country.code);
        await this.begin(tokens);
      } catch (ex) {
        err.textContent =
          ex instanceof ApiError && ex.status === 401 ? t('signin.wrongPassword') : errorText(ex);
        submit.disabled = false;
        password.select();
      }
    });
    replaceChildren(this.card, this.header(), form);
    (this.phone ? password : fields.phone).focus();
  }

  /** A forgotten password: a code (purpose `password`) and a new password. */
  private showResetStep(): void {
    const fields = this.phoneFields();
    const code = codeField('reset-code');
    const codeBox = h('div', { class: 'stack' });
    const pw = newPasswordFields('reset');
    const err = h('p', { class: 'form-error', role: 'alert' });
    const send = h('button', { type: 'button' }, t('password.sendCode'));
    const submit = h('button', { type: 'submit', class: 'primary' }, t('reset.submit'));
    send.addEventListener('click', async () => {
      if (!fields.read()) {
        err.textContent = t('signin.invalidPhone');
        return;
      }
      send.disabled = true;
      err.textContent = '';
      try {
        const r = await this.ctx.auth.requestPasswordOtp(this.phone, this.country.code, locale());
        replaceChildren(
          codeBox,
          codeSentNote(this.displayPhone(), r, code),
          code.label,
          code.input,
        );
        code.input.focus();
      } catch (ex) {
        err.textContent =
          ex instanceof ApiError && ex.status === 400 ? t('signin.invalidPhone') : errorText(ex);
      } finally {
        send.disabled = false;
      }
    });
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('h2', null, t('reset.title')),
      h('p', { class: 'hint' }, t('reset.hint')),
      fields.nodes,
      send,
      codeBox,
      pw.el,
      err,
      submit,
      h(
        'button',
        { type: 'button', class: 'link-button', onClick: () => this.showPasswordStep() },
        t('common.cancel'),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.reset(fields, code.input, pw, err, submit);
    });
    replaceChildren(this.card, this.header(), form);
    fields.phone.focus();
  }

  private async reset(
    fields: { read(): boolean },
    code: HTMLInputElement,
    pw: { password: HTMLInputElement; problem(): string | null },
    err: HTMLElement,
    submit: HTMLButtonElement,
  ): Promise<void> {
    const otp = code.value.replace(/\D/g, '');
    const problem = !fields.read()
      ? t('signin.invalidPhone')
      : otp.length !== 6
        ? t('signin.invalidCode')
        : pw.problem();
    if (problem) {
      err.textContent = problem;
      return;
    }
    submit.disabled = true;
    err.textContent = '';
    try {
      await this.ctx.auth.resetPassword(this.phone, this.country.code, otp, pw.password.value);
      this.showPasswordStep(t('reset.done'));
    } catch (ex) {
      submit.disabled = false;
      err.textContent =
        ex instanceof ApiError && ex.status === 401
          ? t('password.wrongCode')
          : ex instanceof ApiError && ex.status === 404
            ? t('reset.noAccount')
            : ex instanceof ApiError && ex.status === 400
              ? ex.message
              : errorText(ex);
    }
  }

  private async begin(tokens: TokenResponse): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const saveLocale = await localeAtSignIn(this.ctx, tokens);
    this.ctx.session.begin(tokens);
    saveLocale(); // the app re-renders into profile set-up or chats
  }

  /** The number as people there write it ("081 234 5678"). */
  private displayPhone(): string {
    return formatPhone(this.phone, this.country.code);
  }

  private showCodeStep(r: OtpRequestResponse): void {
    const code = h('input', {
      id: 'code',
      name: 'code',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      maxlength: 6,
      pattern: '[0-9]{6}',
      required: true,
      class: 'code-input',
    });
    const err = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('signin.verify'));
    const dev = r.dev_code
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
                code.value = r.dev_code!;
                submit.focus();
              },
            },
            t('signin.useDevCode'),
          ),
        )
      : null;
    const resend = h('button', { type: 'button', class: 'link-button', disabled: true });
    let left = r.resend_after;
    const tick = () => {
      resend.disabled = left > 0;
      resend.textContent = left > 0 ? t('signin.resendIn', { seconds: left }) : t('signin.resend');
      left--;
    };
    tick();
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(tick, 1000);
    resend.addEventListener('click', async () => {
      try {
        this.showCodeStep(await this.ctx.auth.requestOtp(this.phone, this.country.code, locale()));
      } catch (ex) {
        err.textContent = errorText(ex);
      }
    });
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('p', null, t('signin.codeSent', { phone: this.displayPhone() })),
      dev,
      h('label', { for: 'code' }, t('signin.code')),
      code,
      err,
      submit,
      h(
        'div',
        { class: 'row spread' },
        resend,
        h(
          'button',
          { type: 'button', class: 'link-button', onClick: () => this.showPhoneStep(null) },
          t('signin.changeNumber'),
        ),
      ),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const value = code.value.replace(/\D/g, '');
      if (value.length !== 6) {
        err.textContent = t('signin.invalidCode');
        code.focus();
        return;
      }
      submit.disabled = true;
      err.textContent = '';
      try {
        await this.begin(await this.ctx.auth.verifyOtp(this.phone, this.country.code, value));
      } catch (ex) {
        err.textContent =
          ex instanceof ApiError && ex.status < 500 && ex.status !== 429
            ? ex.message
            : errorText(ex);
        submit.disabled = false;
        code.select();
      }
    });
    replaceChildren(this.card, this.header(), form);
    code.focus();
  }
}

function guessCountry(): string {
  const region = navigator.language.split('-')[1]?.toUpperCase();
  return COUNTRIES.some((c) => c.code === region) ? region! : 'TH';
}
