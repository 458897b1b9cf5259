// Wallet: balances per currency, top-up through the payment provider, history.
//
// A top-up is created pending (POST /v1/topups) and completed by the provider's
// signed webhook once the user has paid on the provider's page. The browser goes
// to that page and comes back to /wallet?topup=<id>, where this view waits for
// the top-up to settle. Locally the "provider" is the development simulator
// behind the gateway at /dev/psp/ (web/dev/psp-simulator.mjs).
import type { Topup, Transaction } from '../../api/types';
import { intlLocale, t, type TextKey } from '../../i18n';
import { countryByCode, METHOD_NAMES, TOPUP_METHODS } from '../../util/countries';
import { h, replaceChildren } from '../../util/dom';
import { Subscriptions } from '../../util/emitter';
import { newId } from '../../util/ids';
import { amountPlaceholder, CURRENCIES, decimalSeparator, parseAmount } from '../../util/money';
import type { Ctx, View } from '../context';
import { errorText } from '../errors';
import { fullTime, money, userName } from '../format';
import { ApiError } from '../../api/errors';

const DEV_CHECKOUT = '/dev/psp/pay';
const KIND_KEYS: Record<string, TextKey> = {
  topup: 'wallet.kind.topup',
  transfer: 'wallet.kind.transfer',
  refund: 'wallet.kind.refund',
  request_payment: 'wallet.kind.request_payment',
  withdrawal: 'wallet.kind.withdrawal',
};

export class WalletView implements View {
  readonly el: HTMLElement;
  private readonly balances: HTMLElement;
  private readonly history: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly subs = new Subscriptions();
  private transactions: Transaction[] = [];
  private cursor: string | null = null;
  private disposed = false;

  constructor(
    private readonly ctx: Ctx,
    topupId: string | null,
  ) {
    this.balances = h('div', { class: 'balances', 'data-testid': 'balances' });
    this.history = h('ul', { class: 'tx-list', role: 'list' });
    this.more = h(
      'button',
      {
        type: 'button',
        class: 'link-button',
        hidden: true,
        onClick: () => void this.loadHistory(false),
      },
      t('common.loadMore'),
    );
    this.status = h('div', { class: 'status-line', role: 'status', 'data-testid': 'topup-status' });
    this.el = h(
      'section',
      { class: 'page wallet' },
      h('header', { class: 'pane-head' }, h('h1', null, t('wallet.title'))),
      h(
        'div',
        { class: 'page-body' },
        this.status,
        h('h2', null, t('wallet.balances')),
        this.balances,
        this.topupForm(),
        h('h2', null, t('wallet.history')),
        this.history,
        this.more,
      ),
    );
    this.subs.add(
      ctx.wallet.events.on('changed', () => {
        this.renderBalances();
        void this.loadHistory(true);
      }),
    );
    this.subs.add(ctx.directory.events.on('user', () => this.renderHistory()));
    this.renderBalances();
    void ctx.wallet.refresh();
    void this.loadHistory(true);
    if (topupId) void this.awaitTopup(topupId);
  }

  dispose(): void {
    this.disposed = true;
    this.subs.dispose();
  }

  private renderBalances(): void {
    const w = this.ctx.wallet;
    if (!w.loaded) {
      replaceChildren(this.balances, h('p', { class: 'muted' }, t('common.loading')));
      return;
    }
    const home = countryByCode(this.ctx.session.user?.country).currency;
    const list = w.wallets.length ? w.wallets : [{ currency: home, balance: 0, updated_at: '' }];
    replaceChildren(
      this.balances,
      list.map((x) =>
        h(
          'div',
          { class: 'balance-card', 'data-currency': x.currency },
          h('span', { class: 'cur' }, x.currency),
          h(
            'span',
            { class: 'amount', 'data-testid': `balance-${x.currency}` },
            money(x.balance, x.currency),
          ),
        ),
      ),
      w.wallets.length ? null : h('p', { class: 'muted' }, t('wallet.noWallets')),
    );
  }

  private topupForm(): HTMLElement {
    const home = countryByCode(this.ctx.session.user?.country).currency;
    const amount = h('input', {
      id: 'topup-amount',
      name: 'amount',
      inputmode: 'decimal',
      autocomplete: 'off',
      required: true,
    });
    const currency = h(
      'select',
      { id: 'topup-currency', name: 'currency' },
      CURRENCIES.map((c) => h('option', { value: c, selected: c === home }, c)),
    );
    const method = h('select', { id: 'topup-method', name: 'method' });
    const fillMethods = () => {
      amount.placeholder = amountPlaceholder(currency.value, intlLocale());
      replaceChildren(
        method,
        (TOPUP_METHODS[currency.value] ?? []).map((m) =>
          h('option', { value: m }, METHOD_NAMES[m] ?? m),
        ),
      );
    };
    fillMethods();
    currency.addEventListener('change', fillMethods);
    const err = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('wallet.continue'));
    const form = h(
      'form',
      { class: 'card stack', novalidate: true, 'aria-labelledby': 'topup-title' },
      h('h2', { id: 'topup-title' }, t('wallet.topupTitle')),
      h(
        'div',
        { class: 'row amount-row' },
        h(
          'div',
          { class: 'stack grow' },
          h('label', { for: 'topup-amount' }, t('money.amount')),
          amount,
        ),
        h(
          'div',
          { class: 'stack' },
          h('label', { for: 'topup-currency' }, t('money.currency')),
          currency,
        ),
      ),
      h('label', { for: 'topup-method' }, t('wallet.method')),
      method,
      err,
      h('div', { class: 'row end' }, submit),
    );
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
      const body = { amount: minor, currency: currency.value, method: method.value };
      const sig = JSON.stringify(body);
      if (lastSent && sig !== lastSent) key = newId();
      lastSent = sig;
      submit.disabled = true;
      err.textContent = '';
      try {
        const topup = await this.ctx.payment.topup(key, body);
        location.assign(checkoutUrl(topup));
      } catch (ex) {
        submit.disabled = false;
        err.textContent =
          ex instanceof ApiError && ex.status < 500 && ex.status !== 429
            ? ex.message
            : errorText(ex);
      }
    });
    return form;
  }

  /** Back from the provider's page: wait until the webhook has settled the top-up. */
  private async awaitTopup(id: string): Promise<void> {
    this.status.textContent = t('wallet.topupPending');
    this.status.className = 'status-line';
    for (let i = 0; i < 60 && !this.disposed; i++) {
      let topup: Topup;
      try {
        topup = await this.ctx.payment.getTopup(id);
      } catch {
        await sleep(1000);
        continue;
      }
      if (topup.status !== 'pending') {
        const ok = topup.status === 'succeeded';
        this.status.textContent = ok
          ? t('wallet.topupSucceeded', { amount: money(topup.amount, topup.currency) })
          : t('wallet.topupFailed');
        this.status.className = ok ? 'status-line ok' : 'status-line error';
        void this.ctx.wallet.refresh();
        void this.ctx.inbox.refresh();
        // Drop ?topup= so that a reload does not wait again.
        history.replaceState(null, '', '/wallet');
        return;
      }
      await sleep(1000);
    }
  }

  private async loadHistory(reset: boolean): Promise<void> {
    try {
      const page = await this.ctx.payment.transactions(reset ? null : this.cursor);
      if (this.disposed) return;
      this.transactions = reset ? page.transactions : [...this.transactions, ...page.transactions];
      this.cursor = page.next_cursor;
      this.ctx.directory.ensure(
        this.transactions.map((x) => x.counterparty_user_id).filter((x): x is string => !!x),
      );
      this.renderHistory();
    } catch (err) {
      if (!reset) this.ctx.toast(errorText(err), 'error');
    }
  }

  private renderHistory(): void {
    this.more.hidden = !this.cursor;
    if (!this.transactions.length) {
      replaceChildren(this.history, h('li', { class: 'muted' }, t('wallet.noHistory')));
      return;
    }
    replaceChildren(
      this.history,
      this.transactions.map((x) => {
        const kind = t(KIND_KEYS[x.kind] ?? 'wallet.kind.other');
        return h(
          'li',
          { class: 'tx' },
          h(
            'div',
            { class: 'tx-main' },
            h('span', { class: 'tx-kind' }, kind),
            x.counterparty_user_id
              ? h(
                  'span',
                  { class: 'muted' },
                  ` ${t('wallet.with', { name: userName(this.ctx, x.counterparty_user_id) })}`,
                )
              : null,
            h('div', { class: 'muted small' }, fullTime(x.created_at)),
          ),
          h(
            'div',
            { class: 'tx-side' },
            h(
              'span',
              { class: x.amount < 0 ? 'tx-amount out' : 'tx-amount in' },
              `${x.amount > 0 ? '+' : ''}${money(x.amount, x.currency)}`,
            ),
            h(
              'div',
              { class: 'muted small' },
              t('wallet.balanceAfter', { amount: money(x.balance_after, x.currency) }),
            ),
          ),
        );
      }),
    );
  }
}

/** The provider's payment page: named by the service, else the local simulator. */
function checkoutUrl(topup: Topup): string {
  if (topup.checkout_url) return topup.checkout_url;
  const q = new URLSearchParams({
    reference: topup.provider_reference,
    amount: String(topup.amount),
    currency: topup.currency,
    method: topup.method,
    return: `/wallet?topup=${topup.id}`,
  });
  return `${DEV_CHECKOUT}?${q}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
