// Wallet → Withdraw (POST /v1/withdrawals): amount, currency and where to — a
// bank account or one of the region's e-wallets (src/util/withdraw-methods.ts).
// The amount is held at once; the payment provider settles or releases it later,
// and the receipt (history) shows how it went (GET /v1/withdrawals/{id}).
import './screens.css';
import { ApiError } from '../../api/errors';
import { intlLocale, t } from '../../i18n';
import { countryByCode, METHOD_NAMES } from '../../util/countries';
import { h, replaceChildren } from '../../util/dom';
import { newId } from '../../util/ids';
import {
  amountPlaceholder,
  decimalSeparator,
  needsConfirmation,
  parseAmount,
} from '../../util/money';
import { accountKind, destinationText, WITHDRAW_METHODS } from '../../util/withdraw-methods';
import { amountFields } from '../components/amount-fields';
import { confirmDialog } from '../components/confirm';
import { openDialog } from '../components/dialog';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { money } from '../format';

export function openWithdrawDialog(ctx: Ctx): void {
  const home = countryByCode(ctx.session.user?.country).currency;
  const funded: string[] = ctx.wallet.wallets.filter((w) => w.balance > 0).map((w) => w.currency);
  const first = funded.includes(home) ? home : (funded[0] ?? home);
  const { amount, currency, row: amountRow } = amountFields('wd', first);
  const method = h('select', { id: 'wd-method', name: 'method' });
  const account = h('input', { id: 'wd-account', name: 'account', maxlength: 150, required: true });
  const accountLabel = h('label', { for: 'wd-account' });
  const balance = h('p', { class: 'hint' });
  const fillMethods = () => {
    amount.placeholder = amountPlaceholder(currency.value, intlLocale());
    balance.textContent = t('money.balance', {
      amount: money(ctx.wallet.balance(currency.value), currency.value),
    });
    replaceChildren(
      method,
      (WITHDRAW_METHODS[currency.value] ?? ['bank']).map((m) =>
        h('option', { value: m }, m === 'bank' ? t('withdraw.bank') : (METHOD_NAMES[m] ?? m)),
      ),
    );
    fillAccount();
  };
  const fillAccount = () => {
    const bank = accountKind(method.value) === 'bank';
    accountLabel.textContent = bank ? t('withdraw.bankAccount') : t('withdraw.walletPhone');
    account.setAttribute('inputmode', bank ? 'text' : 'tel');
    account.setAttribute('autocomplete', bank ? 'off' : 'tel');
  };
  fillMethods();
  currency.addEventListener('change', fillMethods);
  method.addEventListener('change', fillAccount);
  const err = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('withdraw.submit'));
  const form = h(
    'form',
    { class: 'stack', novalidate: true, 'data-testid': 'withdraw-form' },
    amountRow,
    balance,
    h('label', { for: 'wd-method' }, t('withdraw.to')),
    method,
    accountLabel,
    account,
    h('p', { class: 'hint' }, t('withdraw.hint')),
    err,
    h('div', { class: 'row end' }, submit),
  );
  const dlg = openDialog(t('withdraw.title'), form);
  let key = newId();
  let lastSent = '';
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const minor = parseAmount(amount.value, currency.value, decimalSeparator(intlLocale()));
    if (minor === null) {
      err.textContent = t('money.invalidAmount');
      amount.focus();
      return;
    }
    if (!account.value.trim()) {
      err.textContent = t('withdraw.needAccount');
      account.focus();
      return;
    }
    const destination = destinationText(method.value, t('withdraw.bank'), account.value);
    const shown = money(minor, currency.value);
    if (
      needsConfirmation(minor, currency.value) &&
      !(await confirmDialog(
        t('withdraw.confirm', { amount: shown, destination }),
        t('withdraw.submit'),
      ))
    ) {
      return;
    }
    const body = { amount: minor, currency: currency.value, destination };
    // The same key while the same withdrawal is retried; a changed form is a new one.
    const sig = JSON.stringify(body);
    if (lastSent && sig !== lastSent) key = newId();
    lastSent = sig;
    submit.disabled = true;
    err.textContent = '';
    try {
      await ctx.payment.withdraw(key, body);
      dlg.close();
      ctx.toast(t('withdraw.started', { amount: shown }));
      void ctx.wallet.refresh();
    } catch (ex) {
      submit.disabled = false;
      err.textContent =
        ex instanceof ApiError && ex.code === 'insufficient_funds'
          ? t('money.insufficient', { currency: currency.value })
          : ex instanceof ApiError && ex.code === 'limit_exceeded'
            ? t('money.limit', { currency: currency.value })
            : ex instanceof ApiError && ex.status < 500 && ex.status !== 429
              ? ex.message
              : errorText(ex);
    }
  });
}
