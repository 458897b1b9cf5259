// Wallet → Payment requests (GET /v1/payment-requests): the requests others sent
// the user (incoming: Pay, Decline) and the user's own (outgoing: Cancel), with a
// status filter and keyset pages. Loaded with the wallet's extra screens.
import './screens.css';
import { ApiError } from '../../api/errors';
import type { PaymentRequest } from '../../api/types';
import { t, type TextKey } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { Subscriptions } from '../../util/emitter';
import { needsConfirmation } from '../../util/money';
import { confirmDialog } from '../components/confirm';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { fullTime, money, userName } from '../format';

type Direction = 'incoming' | 'outgoing';
type Status = PaymentRequest['status'];

const STATUS_KEYS: Record<Status, TextKey> = {
  pending: 'money.status.pending',
  paid: 'money.status.paid',
  declined: 'money.status.declined',
  cancelled: 'money.status.cancelled',
};

export class RequestsSection {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly tabs: Record<Direction, HTMLButtonElement>;
  private readonly status: HTMLSelectElement;
  private readonly subs = new Subscriptions();
  private direction: Direction = 'incoming';
  private items: PaymentRequest[] = [];
  private cursor: string | null = null;
  private generation = 0;

  constructor(private readonly ctx: Ctx) {
    const tab = (d: Direction, label: string) =>
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: `req-tab-${d}`,
          'aria-controls': 'req-list',
          'data-testid': `requests-${d}`,
          onClick: () => this.show(d),
        },
        label,
      );
    this.tabs = {
      incoming: tab('incoming', t('requests.incoming')),
      outgoing: tab('outgoing', t('requests.outgoing')),
    };
    this.status = h(
      'select',
      { id: 'req-status', 'data-testid': 'requests-status' },
      h('option', { value: '' }, t('requests.all')),
      (Object.keys(STATUS_KEYS) as Status[]).map((s) =>
        h('option', { value: s }, t(STATUS_KEYS[s])),
      ),
    );
    this.status.addEventListener('change', () => void this.load(true));
    this.list = h('ul', {
      class: 'tx-list',
      role: 'tabpanel',
      id: 'req-list',
      'data-testid': 'requests-list',
    });
    this.more = h(
      'button',
      { type: 'button', class: 'link-button', hidden: true, onClick: () => void this.load(false) },
      t('common.loadMore'),
    );
    this.el = h(
      'section',
      { class: 'card stack', 'aria-labelledby': 'requests-title', 'data-testid': 'requests' },
      h('h2', { id: 'requests-title' }, t('requests.title')),
      h(
        'div',
        { class: 'row spread wrap' },
        h(
          'div',
          { class: 'row segmented', role: 'tablist', 'aria-label': t('requests.title') },
          this.tabs.incoming,
          this.tabs.outgoing,
        ),
        h(
          'div',
          { class: 'row' },
          h('label', { for: 'req-status' }, t('requests.status')),
          this.status,
        ),
      ),
      this.list,
      this.more,
    );
    this.subs.add(ctx.directory.events.on('user', () => this.render()));
    // A request paid or declined in a chat changes the balance: the list follows.
    this.subs.add(ctx.wallet.events.on('changed', () => void this.load(true)));
    this.show('incoming');
  }

  dispose(): void {
    this.subs.dispose();
    this.generation++;
  }

  private show(d: Direction): void {
    this.direction = d;
    for (const [k, b] of Object.entries(this.tabs)) {
      b.setAttribute('aria-selected', k === d ? 'true' : 'false');
      b.className = k === d ? 'small primary' : 'small';
    }
    this.list.setAttribute('aria-labelledby', `req-tab-${d}`);
    void this.load(true);
  }

  private async load(reset: boolean): Promise<void> {
    const gen = ++this.generation;
    if (reset) replaceChildren(this.list, h('li', { class: 'muted' }, t('common.loading')));
    try {
      const page = await this.ctx.payment.paymentRequests({
        direction: this.direction,
        status: (this.status.value || undefined) as Status | undefined,
        cursor: reset ? null : this.cursor,
      });
      if (gen !== this.generation) return;
      this.items = reset ? page.payment_requests : [...this.items, ...page.payment_requests];
      this.cursor = page.next_cursor;
      this.ctx.directory.ensure(this.items.map((r) => this.other(r)));
      this.render();
    } catch (err) {
      if (gen !== this.generation) return;
      replaceChildren(this.list, h('li', { class: 'form-error' }, errorText(err)));
    }
  }

  /** The other party: the requester of an incoming request, the payer of an outgoing one. */
  private other(r: PaymentRequest): string {
    return r.from_user_id === this.ctx.session.user!.id ? r.to_user_id : r.from_user_id;
  }

  private render(): void {
    this.more.hidden = !this.cursor;
    if (!this.items.length) {
      replaceChildren(
        this.list,
        h(
          'li',
          { class: 'muted' },
          this.direction === 'incoming' ? t('requests.noneIncoming') : t('requests.noneOutgoing'),
        ),
      );
      return;
    }
    replaceChildren(
      this.list,
      this.items.map((r) => this.row(r)),
    );
  }

  private row(r: PaymentRequest): HTMLElement {
    const name = userName(this.ctx, this.other(r));
    const incoming = r.from_user_id === this.ctx.session.user!.id;
    const actions: HTMLElement[] = [];
    if (r.status === 'pending' && incoming) {
      actions.push(
        h(
          'button',
          { type: 'button', class: 'primary small', onClick: (e: Event) => this.act(r, 'pay', e) },
          t('money.pay'),
        ),
        h(
          'button',
          { type: 'button', class: 'small', onClick: (e: Event) => this.act(r, 'decline', e) },
          t('money.decline'),
        ),
      );
    } else if (r.status === 'pending') {
      actions.push(
        h(
          'button',
          { type: 'button', class: 'small', onClick: (e: Event) => this.act(r, 'cancel', e) },
          t('money.cancelRequest'),
        ),
      );
    }
    return h(
      'li',
      { class: 'tx', 'data-request': r.id, 'data-status': r.status },
      h(
        'div',
        { class: 'tx-main' },
        h(
          'span',
          { class: 'tx-kind' },
          incoming ? t('money.requestsFromYou', { name }) : t('requests.youAsked', { name }),
        ),
        r.note ? h('div', { class: 'pay-note' }, r.note) : null,
        h('div', { class: 'muted small' }, fullTime(r.created_at)),
      ),
      h(
        'div',
        { class: 'tx-side' },
        h('span', { class: 'tx-amount' }, money(r.amount, r.currency)),
        h('div', { class: 'muted small' }, t(STATUS_KEYS[r.status])),
        actions.length ? h('div', { class: 'row pay-actions' }, actions) : null,
      ),
    );
  }

  private async act(r: PaymentRequest, action: 'pay' | 'decline' | 'cancel', e: Event) {
    const btn = e.currentTarget as HTMLButtonElement;
    const amount = money(r.amount, r.currency);
    const name = userName(this.ctx, this.other(r));
    if (
      action === 'pay' &&
      needsConfirmation(r.amount, r.currency) &&
      !(await confirmDialog(t('money.confirmPay', { amount, name }), t('money.pay')))
    ) {
      return;
    }
    btn.disabled = true;
    try {
      await this.ctx.payment.actOnRequest(r.id, action);
      this.ctx.toast(
        action === 'pay'
          ? t('requests.paid', { amount, name })
          : action === 'decline'
            ? t('requests.declined', { name })
            : t('requests.cancelled', { name }),
      );
      if (action === 'pay') void this.ctx.wallet.refresh();
      else void this.load(true);
    } catch (err) {
      btn.disabled = false;
      this.ctx.toast(
        err instanceof ApiError && err.code === 'insufficient_funds'
          ? t('money.insufficient', { currency: r.currency })
          : errorText(err),
        'error',
      );
    }
  }
}
