// The amount and currency fields of the money forms (send/request money, top-up,
// withdraw): a decimal amount input beside a currency select, each labelled.
import { t } from '../../i18n';
import { h } from '../../util/dom';
import { CURRENCIES } from '../../util/money';

export interface AmountFields {
  amount: HTMLInputElement;
  currency: HTMLSelectElement;
  /** The two fields with their labels, side by side. */
  row: HTMLElement;
}

/** Ids are `${idPrefix}-amount` and `${idPrefix}-currency`; `selected` is the currency shown first. */
export function amountFields(idPrefix: string, selected: string): AmountFields {
  const amount = h('input', {
    id: `${idPrefix}-amount`,
    name: 'amount',
    inputmode: 'decimal',
    autocomplete: 'off',
    required: true,
  });
  const currency = h(
    'select',
    { id: `${idPrefix}-currency`, name: 'currency' },
    CURRENCIES.map((c) => h('option', { value: c, selected: c === selected }, c)),
  );
  const row = h(
    'div',
    { class: 'row amount-row' },
    h('div', { class: 'stack grow' }, h('label', { for: amount.id }, t('money.amount')), amount),
    h('div', { class: 'stack' }, h('label', { for: currency.id }, t('money.currency')), currency),
  );
  return { amount, currency, row };
}
