// A receipt for one line of the wallet history: what the posting says, and the
// transfer, top-up or withdrawal it belongs to (GET /v1/transfers/{id},
// /v1/topups/{id}, /v1/withdrawals/{id}). The recipient of a completed transfer
// can refund it from here (POST /v1/transfers/{id}/refund; the API refuses the
// sender and refunds of refunds).
import './screens.css';
import { ApiError } from '../../api/errors';
import type { Transaction, Transfer } from '../../api/types';
import { t, type TextKey } from '../../i18n';
import { METHOD_NAMES } from '../../util/countries';
import { h, replaceChildren } from '../../util/dom';
import { confirmDialog } from '../components/confirm';
import { openDialog } from '../components/dialog';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { fullTime, money, userName } from '../format';

const OPERATION_STATUS: Record<string, TextKey> = {
  pending: 'receipt.status.pending',
  succeeded: 'receipt.status.succeeded',
  failed: 'receipt.status.failed',
  completed: 'money.status.completed',
  refunded: 'money.status.refunded',
};

type Row = [string, string];

export function openReceipt(ctx: Ctx, x: Transaction, kindLabel: string): void {
  const rows: Row[] = [
    [t('receipt.type'), kindLabel],
    [t('money.amount'), `${x.amount > 0 ? '+' : ''}${money(x.amount, x.currency)}`],
    [t('receipt.date'), fullTime(x.created_at)],
  ];
  if (x.counterparty_user_id) rows.push([t('receipt.with'), userName(ctx, x.counterparty_user_id)]);
  rows.push([t('receipt.balanceAfter'), money(x.balance_after, x.currency)]);
  const details = h('dl', { class: 'receipt-list' });
  const extra = h('div', { class: 'stack' }, h('p', { class: 'muted' }, t('common.loading')));
  const status = (s: string) => (OPERATION_STATUS[s] ? t(OPERATION_STATUS[s]!) : s);
  const draw = (more: Row[]) =>
    replaceChildren(
      details,
      [...rows, ...more, [t('receipt.reference'), x.reference_id] as Row].flatMap(([k, v]) => [
        h('dt', null, k),
        h('dd', null, v),
      ]),
    );
  draw([]);
  const body = h('div', { class: 'stack receipt', 'data-testid': 'receipt' }, details, extra);
  openDialog(t('receipt.title'), body);

  const load = async () => {
    const more: Row[] = [];
    let refund: HTMLElement | null = null;
    if (x.kind === 'topup') {
      const op = await ctx.payment.getTopup(x.reference_id);
      more.push([t('wallet.method'), METHOD_NAMES[op.method] ?? op.method]);
      more.push([t('receipt.status'), status(op.status)]);
    } else if (x.kind.startsWith('withdrawal')) {
      const op = await ctx.payment.getWithdrawal(x.reference_id);
      more.push([t('withdraw.to'), op.destination]);
      more.push([t('receipt.status'), status(op.status)]);
    } else if (x.kind === 'transfer' || x.kind === 'refund' || x.kind === 'request_payment') {
      const tr = await ctx.payment.getTransfer(x.reference_id);
      if (tr.note) more.push([t('receipt.note'), tr.note]);
      more.push([t('receipt.status'), status(tr.status)]);
      refund = refundButton(ctx, tr, () => void load().catch(() => undefined));
    }
    draw(more);
    replaceChildren(extra, refund);
  };
  load().catch((err) => replaceChildren(extra, h('p', { class: 'form-error' }, errorText(err))));
}

/** Refund, for the recipient of a completed transfer that is not itself a refund. */
function refundButton(ctx: Ctx, tr: Transfer, reload: () => void): HTMLElement | null {
  const me = ctx.session.user!.id;
  if (tr.to_user_id !== me || tr.kind === 'refund' || tr.status !== 'completed') return null;
  const amount = money(tr.amount, tr.currency);
  const name = userName(ctx, tr.from_user_id);
  const err = h('p', { class: 'form-error', role: 'alert' });
  const button = h(
    'button',
    { type: 'button', class: 'danger', 'data-testid': 'receipt-refund' },
    t('money.refund'),
  );
  button.addEventListener('click', async () => {
    if (!(await confirmDialog(t('receipt.confirmRefund', { amount, name }), t('money.refund'))))
      return;
    button.disabled = true;
    try {
      await ctx.payment.refund(tr.id);
      ctx.toast(t('receipt.refunded', { amount, name }));
      void ctx.wallet.refresh();
      reload();
    } catch (ex) {
      button.disabled = false;
      err.textContent =
        ex instanceof ApiError && ex.code === 'insufficient_funds'
          ? t('money.insufficient', { currency: tr.currency })
          : errorText(ex);
    }
  });
  return h('div', { class: 'stack' }, h('div', { class: 'row end' }, button), err);
}
