// Settings → Devices: the user's sessions (GET /v1/auth/sessions), this one
// marked, each other one with its own sign-out (DELETE /v1/auth/sessions/{id})
// and one button for all the others (the API revokes one at a time).
import { ApiError } from '../../api/errors';
import type { AuthSession } from '../../api/types';
import { t } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { confirmDialog } from '../components/confirm';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { fullTime, relativeTime } from '../format';

export class DevicesSection {
  readonly el: HTMLElement;
  private readonly box: HTMLElement;
  private readonly status: HTMLElement;

  constructor(private readonly ctx: Ctx) {
    this.box = h('div', { class: 'stack' }, h('p', { class: 'muted' }, t('common.loading')));
    this.status = h('p', { role: 'status', class: 'form-ok' });
    this.el = h(
      'section',
      { class: 'card stack', 'aria-labelledby': 'devices-title', 'data-testid': 'devices' },
      h('h2', { id: 'devices-title' }, t('devices.title')),
      this.box,
      this.status,
    );
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.render(await this.ctx.auth.sessions());
    } catch (err) {
      replaceChildren(this.box, h('p', { class: 'form-error' }, errorText(err)));
    }
  }

  private render(sessions: AuthSession[]): void {
    // This device first, then the most recently used.
    sessions.sort(
      (a, b) =>
        Number(b.current) - Number(a.current) || b.last_used_at.localeCompare(a.last_used_at),
    );
    const others = sessions.filter((s) => !s.current);
    replaceChildren(
      this.box,
      h(
        'ul',
        { class: 'plain-list', role: 'list', 'data-testid': 'session-list' },
        sessions.map((s) => this.item(s)),
      ),
      others.length
        ? h(
            'button',
            {
              type: 'button',
              class: 'danger',
              'data-testid': 'sign-out-others',
              onClick: () => void this.signOutOthers(others),
            },
            t('devices.signOutOthers'),
          )
        : h('p', { class: 'muted' }, t('devices.onlyThis')),
    );
  }

  private item(s: AuthSession): HTMLElement {
    const name = s.device_name || s.platform || t('devices.unknown');
    const details = [
      s.method === 'password' ? t('devices.byPassword') : t('devices.byCode'),
      t('devices.lastActive', { time: relativeTime(s.last_used_at) }),
      s.ip,
    ].filter(Boolean);
    return h(
      'li',
      { class: 'row spread', 'data-session': s.id, 'data-current': s.current ? 'true' : null },
      h(
        'div',
        { class: 'stack tight' },
        h(
          'span',
          null,
          h('strong', null, name),
          s.current ? h('span', { class: 'tag' }, t('devices.current')) : null,
        ),
        h('span', { class: 'hint', title: fullTime(s.created_at) }, details.join(' · ')),
      ),
      s.current
        ? null
        : h(
            'button',
            {
              type: 'button',
              class: 'small',
              'aria-label': t('devices.signOutNamed', { device: name }),
              onClick: () => void this.signOut(s, name),
            },
            t('devices.signOut'),
          ),
    );
  }

  private async signOut(s: AuthSession, name: string): Promise<void> {
    if (!(await confirmDialog(t('devices.confirmOne', { device: name }), t('devices.signOut'))))
      return;
    let done = false;
    try {
      await this.revoke(s.id);
      done = true;
    } catch (err) {
      this.ctx.toast(errorText(err), 'error');
    }
    await this.load();
    if (done) this.status.textContent = t('devices.signedOut', { device: name });
  }

  private async signOutOthers(others: AuthSession[]): Promise<void> {
    if (!(await confirmDialog(t('devices.confirmOthers'), t('devices.signOutOthers')))) return;
    const results = await Promise.allSettled(others.map((s) => this.revoke(s.id)));
    await this.load();
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) this.ctx.toast(errorText((failed as PromiseRejectedResult).reason), 'error');
    else this.status.textContent = t('devices.signedOutOthers');
  }

  /** Revokes a session; one that has ended meanwhile (404) is signed out already. */
  private async revoke(id: string): Promise<void> {
    try {
      await this.ctx.auth.revokeSession(id);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }
}
