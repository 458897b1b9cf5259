// Send money to, or request money from, someone in the chat (docs/api/openapi.yaml, payment). The
// Idempotency-Key is fixed when the dialog opens, so pressing the button again
// after a network error cannot move the money twice.
import { ApiError } from '../../api/errors';
import type { Conversation } from '../../api/types';
import { intlLocale, t } from '../../i18n';
import { countryByCode } from '../../util/countries';
import { h } from '../../util/dom';
import { newId } from '../../util/ids';
import {
  amountPlaceholder,
  decimalSeparator,
  needsConfirmation,
  parseAmount,
} from '../../util/money';
import { amountFields } from '../components/amount-fields';
import { confirmDialog } from '../components/confirm';
import { openDialog } from '../components/dialog';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { money, userName } from '../format';

export function openMoneyDialog(ctx: Ctx, c: Conversation, mode: 'send' | 'request'): void {
  const me = ctx.session.user!;
  const others = c.members.map((m) => m.user_id).filter((id) => id !== me.id);
  if (!others.length) return;
  // One key per distinct request: a retry of the same one reuses it, a changed
  // form (different amount, say) is a new request and gets a new key.
  let key = newId();
  let lastSent: string | null = null;
  const home = countryByCode(me.country).currency;
  const defaultCurrency =
    mode === 'send' && ctx.wallet.balance(home) === 0
      ? (ctx.wallet.wallets.find((w) => w.balance > 0)?.currency ?? home)
      : home;

  const who = h(
    'select',
    { id: 'money-who', name: 'who', disabled: others.length === 1 },
    others.map((id) => h('option', { value: id }, userName(ctx, id))),
  );
  const { amount, currency, row: amountRow } = amountFields('money', defaultCurrency);
  const note = h('input', { id: 'money-note', name: 'note', maxlength: 200, autocomplete: 'off' });
  const balance = h('p', { class: 'hint', id: 'money-balance' });
  const showBalance = () => {
    balance.textContent =
      mode === 'send'
        ? t('money.balance', { amount: money(ctx.wallet.balance(currency.value), currency.value) })
        : '';
    amount.placeholder = amountPlaceholder(currency.value, intlLocale());
  };
  currency.addEventListener('change', showBalance);
  showBalance();
  void ctx.wallet.refresh().then(showBalance);

  const err = h('p', { class: 'form-error', role: 'alert' });
  const submit = h(
    'button',
    { type: 'submit', class: 'primary', 'data-testid': 'money-submit' },
    mode === 'send' ? t('money.send') : t('money.request'),
  );
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('label', { for: 'money-who' }, mode === 'send' ? t('money.to') : t('money.from')),
    who,
    amountRow,
    balance,
    h('label', { for: 'money-note' }, t('money.note')),
    note,
    err,
    h('div', { class: 'row end' }, submit),
  );
  const title =
    mode === 'send'
      ? t('money.sendTitle', { name: userName(ctx, others[0]!) })
      : t('money.requestTitle', { name: userName(ctx, others[0]!) });
  const dlg = openDialog(title, form);
  amount.focus();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const minor = parseAmount(amount.value, currency.value, decimalSeparator(intlLocale()));
    if (minor === null) {
      err.textContent = t('money.invalidAmount');
      amount.focus();
      return;
    }
    if (
      mode === 'send' &&
      needsConfirmation(minor, currency.value) &&
      !(await confirmDialog(
        t('money.confirmSend', {
          amount: money(minor, currency.value),
          name: userName(ctx, who.value),
        }),
        t('money.send'),
      ))
    ) {
      amount.focus();
      return;
    }
    submit.disabled = true;
    err.textContent = '';
    const body = {
      amount: minor,
      currency: currency.value,
      conversation_id: c.id,
      ...(note.value.trim() ? { note: note.value.trim() } : {}),
    };
    const signature = JSON.stringify([who.value, body]);
    if (lastSent !== null && lastSent !== signature) key = newId();
    lastSent = signature;
    try {
      if (mode === 'send') {
        await ctx.payment.transfer(key, { to_user_id: who.value, ...body });
        void ctx.wallet.refresh();
      } else {
        await ctx.payment.requestMoney(key, { from_user_id: who.value, ...body });
      }
      dlg.close();
    } catch (ex) {
      submit.disabled = false;
      if (ex instanceof ApiError && ex.code === 'insufficient_funds') {
        err.textContent = t('money.insufficient', { currency: currency.value });
      } else if (ex instanceof ApiError && ex.code === 'limit_exceeded') {
        err.textContent = t('money.limit', { currency: currency.value });
      } else if (ex instanceof ApiError && ex.status < 500 && ex.status !== 429) {
        err.textContent = ex.message;
      } else {
        err.textContent = errorText(ex);
      }
    }
  });
}
