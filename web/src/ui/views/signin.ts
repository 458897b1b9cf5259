// Phone sign-in (docs/api/openapi.yaml, auth): country + number → code by SMS → verify. When the
// server runs with development OTP, its answer carries the code and the view
// shows it (with a button to fill it in), so a local system needs no SMS.
import { ApiError } from '../../api/errors';
import type { OtpRequestResponse } from '../../api/types';
import { LOCALES, locale, t, intlLocale, type Locale } from '../../i18n';
import { formatPhone } from '../../util/phone';
import { COUNTRIES, countryByCode, type Country } from '../../util/countries';
import { h, replaceChildren } from '../../util/dom';
import type { Ctx, View } from '../context';
import { errorText } from '../errors';
import { chooseLocale, localeAtSignIn } from '../locale';

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

  private showPhoneStep(error: string | null = this.notice): void {
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
    country.addEventListener('change', () => {
      this.country = countryByCode(country.value);
      phone.placeholder = this.country.example;
    });
    const err = h('p', { class: 'form-error', role: 'alert' }, error ?? '');
    const submit = h('button', { type: 'submit', class: 'primary' }, t('signin.sendCode'));
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('label', { for: 'country' }, t('signin.country')),
      country,
      h('label', { for: 'phone' }, t('signin.phone')),
      h(
        'div',
        { class: 'phone-row' },
        h('span', { class: 'dial', 'aria-hidden': 'true' }, this.country.dial),
        phone,
      ),
      err,
      submit,
    );
    country.addEventListener('change', () => {
      form.querySelector('.dial')!.textContent = this.country.dial;
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      this.phone = phone.value.trim();
      if (!/^\+?[\d\s().-]{6,20}$/.test(this.phone)) {
        err.textContent = t('signin.invalidPhone');
        phone.focus();
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
        phone.focus();
      }
    });
    replaceChildren(this.card, this.header(), form);
    phone.focus();
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
        const tokens = await this.ctx.auth.verifyOtp(this.phone, this.country.code, value);
        if (this.timer) clearInterval(this.timer);
        const saveLocale = await localeAtSignIn(this.ctx, tokens);
        this.ctx.session.begin(tokens);
        saveLocale(); // the app re-renders into profile set-up or chats
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
