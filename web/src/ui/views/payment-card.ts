// Payment messages (posted by the messaging service from payment events) drawn
// as cards. A request's card shows its latest status — later messages of the
// same request (paid, declined, cancelled) update it — and, while it is pending,
// Pay/Decline for the payer and Cancel for the requester.
import type { Message } from '../../api/types';
import { t, type TextKey } from '../../i18n';
import { h } from '../../util/dom';
import { needsConfirmation } from '../../util/money';
import { confirmDialog } from '../components/confirm';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { money, userName } from '../format';
import { ApiError } from '../../api/errors';

const STATUS_KEYS: Record<string, TextKey> = {
  completed: 'money.status.completed',
  pending: 'money.status.pending',
  paid: 'money.status.paid',
  declined: 'money.status.declined',
  cancelled: 'money.status.cancelled',
  refunded: 'money.status.refunded',
};

export function paymentCard(ctx: Ctx, m: Message, requestStatus: string | null): HTMLElement {
  const p = m.payment!;
  const me = ctx.session.user!.id;
  const amount = money(p.amount, p.currency);
  const statusText = (s: string) => {
    const key = STATUS_KEYS[s];
    return key ? t(key) : s;
  };
  let heading: string;
  let status = p.status;
  const actions: HTMLElement[] = [];
  if (p.kind === 'request') {
    const asked = p.from_user_id; // asked to pay
    const asker = p.to_user_id;
    if (p.status === 'pending') status = requestStatus ?? 'pending';
    if (p.status !== 'pending') {
      // The follow-up message of a request: who did what.
      heading = statusText(p.status);
    } else if (asker === me) {
      heading = `${t('money.youRequested')} ${t('money.requestFrom', { name: userName(ctx, asked) })}`;
    } else {
      heading = t('money.requestsFromYou', { name: userName(ctx, asker) });
    }
    if (p.status === 'pending' && status === 'pending' && p.request_id) {
      const act = (action: 'pay' | 'decline' | 'cancel') => async (e: Event) => {
        const btn = e.currentTarget as HTMLButtonElement;
        if (
          action === 'pay' &&
          needsConfirmation(p.amount, p.currency) &&
          !(await confirmDialog(
            t('money.confirmPay', { amount, name: userName(ctx, asker) }),
            t('money.pay'),
          ))
        ) {
          return;
        }
        btn.disabled = true;
        try {
          await ctx.payment.actOnRequest(p.request_id!, action);
          if (action === 'pay') void ctx.wallet.refresh();
        } catch (err) {
          btn.disabled = false;
          ctx.toast(
            err instanceof ApiError && err.code === 'insufficient_funds'
              ? t('money.insufficient', { currency: p.currency })
              : errorText(err),
            'error',
          );
        }
      };
      if (asked === me) {
        actions.push(
          h(
            'button',
            { type: 'button', class: 'primary small', onClick: act('pay') },
            `${t('money.pay')} ${amount}`,
          ),
          h(
            'button',
            { type: 'button', class: 'small', onClick: act('decline') },
            t('money.decline'),
          ),
        );
      } else if (asker === me) {
        actions.push(
          h(
            'button',
            { type: 'button', class: 'small', onClick: act('cancel') },
            t('money.cancelRequest'),
          ),
        );
      }
    }
  } else if (p.kind === 'refund') {
    heading = t('money.refund');
  } else if (p.from_user_id === me) {
    heading = t('money.sentTo', { name: userName(ctx, p.to_user_id) });
  } else {
    heading = t('money.sentYou', { name: userName(ctx, p.from_user_id) });
  }
  return h(
    'div',
    { class: `pay-card ${p.kind} status-${status}`, 'data-testid': 'payment-card' },
    h(
      'div',
      { class: 'pay-head' },
      h('span', { class: 'pay-icon', 'aria-hidden': 'true' }, p.kind === 'request' ? '🧾' : '💸'),
      h('span', null, heading),
    ),
    h('div', { class: 'pay-amount' }, amount),
    p.note ? h('div', { class: 'pay-note' }, p.note) : null,
    h('div', { class: 'pay-status' }, statusText(status)),
    actions.length ? h('div', { class: 'row pay-actions' }, actions) : null,
  );
}
