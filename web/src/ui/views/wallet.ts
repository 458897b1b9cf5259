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
import { amountFields } from '../components/amount-fields';
import type { Ctx, View } from '../context';
import { errorText } from '../errors';
import { fullTime, money, userName } from '../format';
import { ApiError } from '../../api/errors';

const DEV_CHECKOUT = '/dev/psp/pay';
export const KIND_KEYS: Record<string, TextKey> = {
  topup: 'wallet.kind.topup',
  transfer: 'wallet.kind.transfer',
  refund: 'wallet.kind.refund',
  request_payment: 'wallet.kind.request_payment',
  withdrawal: 'wallet.kind.withdrawal',
  withdrawal_release: 'wallet.kind.withdrawal_release',
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
  /** History filters: currency (asked of the API) and direction (of the loaded lines). */
  private filterCurrency = '';
  private filterDirection: '' | 'in' | 'out' = '';
  private extras: { el: HTMLElement; dispose(): void } | null = null;

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
    // The payment-request list is a chunk of its own, loaded with this page; offline
    // with the chunk not cached, the page shows without it.
    const requestsBox = h('div');
    void import('./payment-requests').then(
      (m) => {
        if (this.disposed) return;
        this.extras = new m.RequestsSection(ctx);
        requestsBox.replaceWith(this.extras.el);
      },
      () => undefined,
    );
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
        this.withdrawCard(),
        requestsBox,
        h('h2', null, t('wallet.history')),
        this.historyFilters(),
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
    this.extras?.dispose();
  }

  private withdrawCard(): HTMLElement {
    return h(
      'section',
      { class: 'card row spread wrap' },
      h('p', { class: 'hint' }, t('withdraw.lead')),
      h(
        'button',
        {
          type: 'button',
          'data-testid': 'withdraw-open',
          onClick: () =>
            void import('./withdraw')
              .then((m) => m.openWithdrawDialog(this.ctx))
              .catch((err) => this.ctx.toast(errorText(err), 'error')),
        },
        t('withdraw.title'),
      ),
    );
  }

  private historyFilters(): HTMLElement {
    const currency = h(
      'select',
      { id: 'tx-currency', 'data-testid': 'tx-currency' },
      h('option', { value: '' }, t('history.allCurrencies')),
      CURRENCIES.map((c) => h('option', { value: c }, c)),
    );
    const direction = h(
      'select',
      { id: 'tx-direction', 'data-testid': 'tx-direction' },
      h('option', { value: '' }, t('history.all')),
      h('option', { value: 'in' }, t('history.in')),
      h('option', { value: 'out' }, t('history.out')),
    );
    currency.addEventListener('change', () => {
      this.filterCurrency = currency.value;
      void this.loadHistory(true);
    });
    direction.addEventListener('change', () => {
      this.filterDirection = direction.value as '' | 'in' | 'out';
      this.renderHistory();
    });
    return h(
      'div',
      { class: 'row wrap', role: 'group', 'aria-label': t('history.filters') },
      h('label', { for: 'tx-currency', class: 'visually-hidden' }, t('money.currency')),
      currency,
      h('label', { for: 'tx-direction', class: 'visually-hidden' }, t('history.direction')),
      direction,
    );
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
    const { amount, currency, row: amountRow } = amountFields('topup', home);
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
      amountRow,
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
      const page = await this.ctx.payment.transactions(
        reset ? null : this.cursor,
        this.filterCurrency || null,
      );
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
    const shown = this.transactions.filter(
      (x) => !this.filterDirection || (this.filterDirection === 'in' ? x.amount > 0 : x.amount < 0),
    );
    if (!shown.length) {
      replaceChildren(this.history, h('li', { class: 'muted' }, t('wallet.noHistory')));
      return;
    }
    replaceChildren(
      this.history,
      shown.map((x) => {
        const kind = t(KIND_KEYS[x.kind] ?? 'wallet.kind.other');
        return h(
          'li',
          {
            class: 'tx clickable',
            'data-kind': x.kind,
            // The kind is a button (keyboard, screen readers); a click anywhere opens it too.
            onClick: () =>
              void import('./receipt')
                .then((m) => m.openReceipt(this.ctx, x, kind))
                .catch((err) => this.ctx.toast(errorText(err), 'error')),
          },
          h(
            'div',
            { class: 'tx-main' },
            h(
              'button',
              {
                type: 'button',
                class: 'link-button tx-kind',
                'aria-label': `${t('receipt.title')}: ${kind} ${money(x.amount, x.currency)}`,
              },
              kind,
            ),
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
