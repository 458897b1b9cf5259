// Settings → Delete my account (PDPA erasure), DELETE /v1/users/me. The proof is
// a code sent to the phone (`purpose: password`), as for the password; the
// user also ticks that they understand it cannot be undone and confirms in a
// dialog. The wallet must be empty first (409 wallet_not_empty: the API keeps the
// money safe, the screen says to withdraw it). On success the session ends and
// nothing of the account stays on this device.
import { ApiError } from '../../api/errors';
import { t } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { confirmDialog } from '../components/confirm';
import { toast } from '../components/toast';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { codeField, sendCodeButton } from './password';

export class DeleteAccountSection {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;

  constructor(private readonly ctx: Ctx) {
    this.body = h('div', { class: 'stack' });
    this.el = h(
      'section',
      {
        class: 'card stack danger-zone',
        'aria-labelledby': 'delete-account-title',
        'data-testid': 'delete-account',
      },
      h('h2', { id: 'delete-account-title' }, t('deleteAccount.title')),
      this.body,
    );
    this.renderStart();
  }

  /** What deleting means, and the button that opens the form. */
  private renderStart(): void {
    const open = h(
      'button',
      { type: 'button', class: 'danger', 'aria-expanded': 'false' },
      t('deleteAccount.open'),
    );
    open.addEventListener('click', () => this.renderForm());
    replaceChildren(this.body, this.explanation(), h('div', { class: 'row end' }, open));
  }

  private explanation(): HTMLElement {
    return h(
      'div',
      { class: 'stack' },
      h('p', null, t('deleteAccount.intro')),
      h(
        'ul',
        { class: 'hint' },
        h('li', null, t('deleteAccount.deleted')),
        h('li', null, t('deleteAccount.messages')),
        h('li', null, t('deleteAccount.kept')),
        h('li', null, t('deleteAccount.wallet')),
      ),
    );
  }

  /** The proof (a code), the "I understand" box and the final button. */
  private renderForm(): void {
    const code = codeField('delete-code');
    const codeBox = h('div', { class: 'stack' });
    const err = h('p', { class: 'form-error', role: 'alert' });
    const understand = h('input', { id: 'delete-understand', type: 'checkbox', required: true });
    const submit = h('button', { type: 'submit', class: 'danger' }, t('deleteAccount.submit'));
    const cancel = h('button', { type: 'button' }, t('common.cancel'));
    cancel.addEventListener('click', () => this.renderStart());
    const send = sendCodeButton(this.ctx, codeBox, code, err);
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      this.explanation(),
      h('p', null, t('deleteAccount.codeHint')),
      send,
      codeBox,
      h(
        'div',
        { class: 'row' },
        understand,
        h('label', { for: 'delete-understand' }, t('deleteAccount.understand')),
      ),
      err,
      h('div', { class: 'row spread' }, cancel, submit),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const otp = code.input.value.replace(/\D/g, '');
      if (otp.length !== 6) {
        err.textContent = t('signin.invalidCode');
        (code.input.isConnected ? code.input : send).focus();
        return;
      }
      if (!understand.checked) {
        err.textContent = t('deleteAccount.tickFirst');
        understand.focus();
        return;
      }
      if (!(await confirmDialog(t('deleteAccount.confirm'), t('deleteAccount.submit')))) return;
      submit.disabled = true;
      err.textContent = '';
      err.textContent = (await this.remove(otp)) ?? '';
      submit.disabled = false;
    });
    replaceChildren(this.body, form);
    send.focus();
  }

  /** Deletes the account; on success signs out, else answers the error text. */
  private async remove(otp: string): Promise<string | null> {
    try {
      await this.ctx.auth.deleteMe({ otp_code: otp });
    } catch (ex) {
      if (ex instanceof ApiError && ex.status === 403) return t('password.wrongCode');
      if (ex instanceof ApiError && ex.code === 'wallet_not_empty') {
        return t('deleteAccount.walletNotEmpty');
      }
      if (ex instanceof ApiError && ex.code === 'operation_pending') {
        return t('deleteAccount.operationPending');
      }
      return ex instanceof ApiError && ex.status === 400 ? ex.message : errorText(ex);
    }
    toast(t('deleteAccount.done'));
    // 'user': the app removes what this device kept of the account.
    this.ctx.session.end('user');
    return null;
  }
}
