// Settings: profile, interface language, notification preferences (push,
// previews, quiet hours, muted chats), password, devices, blocked people and
// sign-out, and deleting the account (delete-account.ts).
import { ApiError } from '../../api/errors';
import type { Preferences } from '../../api/types';
import { intlLocale, LOCALES, locale, t, type Locale } from '../../i18n';
import { formatPhone } from '../../util/phone';
import { COUNTRIES } from '../../util/countries';
import { h, replaceChildren } from '../../util/dom';
import { Subscriptions } from '../../util/emitter';
import type { Ctx, View } from '../context';
import { errorText } from '../errors';
import { chooseLocale } from '../locale';
import { conversationTitle } from '../format';
import { notificationsCard } from '../../pwa/notify';
import { avatarSetting } from './avatar-setting';
import { BlockedSection } from './blocked';
import { DeleteAccountSection } from './delete-account';
import { DevicesSection } from './devices';
import { untilText } from './mute-menu';
import { PasswordSection } from './password';

export class SettingsView implements View {
  readonly el: HTMLElement;
  private readonly prefsBox: HTMLElement;
  private readonly mutedBox: HTMLElement;
  private readonly subs = new Subscriptions();
  private readonly blocked: BlockedSection;

  constructor(private readonly ctx: Ctx) {
    this.blocked = new BlockedSection(ctx);
    const devices = new DevicesSection(ctx);
    // A new password ends the other sessions: the list shows it.
    const password = new PasswordSection(ctx, () => void devices.load());
    this.prefsBox = h('div', { class: 'stack' }, h('p', { class: 'muted' }, t('common.loading')));
    this.mutedBox = h('div');
    this.el = h(
      'section',
      { class: 'page settings' },
      h('header', { class: 'pane-head' }, h('h1', null, t('settings.title'))),
      h(
        'div',
        { class: 'page-body' },
        this.profileForm(),
        this.languageForm(),
        h(
          'section',
          { class: 'card stack', 'aria-labelledby': 'prefs-title' },
          h('h2', { id: 'prefs-title' }, t('settings.notifications')),
          this.prefsBox,
        ),
        notificationsCard(),
        h(
          'section',
          { class: 'card stack', 'aria-labelledby': 'muted-title' },
          h('h2', { id: 'muted-title' }, t('settings.muted')),
          this.mutedBox,
        ),
        this.blocked.el,
        password.el,
        devices.el,
        h(
          'button',
          { type: 'button', class: 'danger wide', onClick: () => void this.signOut() },
          t('settings.signOut'),
        ),
        new DeleteAccountSection(ctx).el,
      ),
    );
    this.subs.add(ctx.preferences.events.on('changed', (p) => this.renderMuted(p)));
    ctx.preferences.load().then(
      (p) => {
        this.renderPrefs(p);
        this.renderMuted(p);
      },
      (err) => replaceChildren(this.prefsBox, h('p', { class: 'form-error' }, errorText(err))),
    );
  }

  dispose(): void {
    this.subs.dispose();
    this.blocked.dispose();
  }

  private profileForm(): HTMLElement {
    const user = this.ctx.session.user!;
    const name = h('input', {
      id: 'set-name',
      name: 'display_name',
      maxlength: 64,
      value: user.display_name ?? '',
      autocomplete: 'name',
    });
    const username = h('input', {
      id: 'set-username',
      name: 'username',
      maxlength: 32,
      value: user.username ?? '',
      autocomplete: 'username',
    });
    const msg = h('p', { class: 'form-error', role: 'status' });
    const form = h(
      'form',
      { class: 'card stack', 'aria-labelledby': 'profile-title' },
      h('h2', { id: 'profile-title' }, t('settings.profile')),
      avatarSetting(this.ctx),
      h('label', { for: 'set-name' }, t('profile.displayName')),
      name,
      h('label', { for: 'set-username' }, t('profile.username')),
      username,
      h(
        'p',
        { class: 'hint' },
        `${t('settings.phone')}: ${user.phone ? formatPhone(user.phone, user.country) : ''}`,
      ),
      msg,
      h(
        'div',
        { class: 'row end' },
        h('button', { type: 'submit', class: 'primary' }, t('common.save')),
      ),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const patch: { display_name?: string; username?: string | null } = {};
      if (name.value.trim() && name.value.trim() !== user.display_name)
        patch.display_name = name.value.trim();
      const u = username.value.trim().replace(/^@/, '');
      if (u !== (user.username ?? '')) patch.username = u || null;
      if (!Object.keys(patch).length) return;
      try {
        this.ctx.session.updateUser(await this.ctx.auth.updateMe(patch as never));
        msg.textContent = t('common.saved');
        msg.className = 'form-ok';
      } catch (err) {
        msg.className = 'form-error';
        msg.textContent =
          err instanceof ApiError && err.status < 500 ? err.message : errorText(err);
      }
    });
    return form;
  }

  private languageForm(): HTMLElement {
    const select = h(
      'select',
      { id: 'set-language', name: 'language' },
      LOCALES.map((l) => h('option', { value: l.code, selected: l.code === locale() }, l.name)),
    );
    // The services word SMS and notifications in the user's language too.
    select.addEventListener('change', () => void chooseLocale(this.ctx, select.value as Locale));
    return h(
      'section',
      { class: 'card stack' },
      h('h2', null, h('label', { for: 'set-language' }, t('settings.language'))),
      select,
    );
  }

  private renderPrefs(p: Preferences): void {
    const push = h('input', { type: 'checkbox', id: 'set-push', checked: p.push_enabled });
    const previews = h('input', { type: 'checkbox', id: 'set-previews', checked: p.show_previews });
    const quiet = h('input', { type: 'checkbox', id: 'set-quiet', checked: !!p.quiet_hours });
    const from = h('input', {
      type: 'time',
      id: 'set-quiet-from',
      value: p.quiet_hours?.start ?? '22:00',
    });
    const to = h('input', {
      type: 'time',
      id: 'set-quiet-to',
      value: p.quiet_hours?.end ?? '07:00',
    });
    const zones = [
      ...new Set([
        p.quiet_hours?.timezone ?? p.timezone ?? '',
        Intl.DateTimeFormat().resolvedOptions().timeZone,
        ...COUNTRIES.map((c) => c.timezone),
      ]),
    ].filter(Boolean);
    const zone = h(
      'select',
      { id: 'set-zone' },
      zones.map((z) =>
        h('option', { value: z, selected: z === (p.quiet_hours?.timezone ?? p.timezone) }, z),
      ),
    );
    const quietFields = h(
      'fieldset',
      { class: 'row wrap', disabled: !p.quiet_hours },
      h('legend', { class: 'visually-hidden' }, t('settings.quiet')),
      h(
        'div',
        { class: 'stack' },
        h('label', { for: 'set-quiet-from' }, t('settings.quietFrom')),
        from,
      ),
      h('div', { class: 'stack' }, h('label', { for: 'set-quiet-to' }, t('settings.quietTo')), to),
      h('div', { class: 'stack' }, h('label', { for: 'set-zone' }, t('settings.timezone')), zone),
    );
    // The zone's clock now, so that "22:00" is read in the right place.
    const zoneNow = h('p', { class: 'hint', 'data-testid': 'zone-now' });
    const showZoneNow = () => {
      try {
        const time = new Date().toLocaleTimeString(intlLocale(), {
          hour: '2-digit',
          minute: '2-digit',
          timeZone: zone.value,
        });
        zoneNow.textContent = t('quiet.zoneNow', { zone: zone.value, time });
      } catch {
        zoneNow.textContent = '';
      }
    };
    showZoneNow();
    zone.addEventListener('change', showZoneNow);
    quiet.addEventListener('change', () => {
      quietFields.disabled = !quiet.checked;
    });
    const msg = h('p', { role: 'status' });
    const form = h(
      'form',
      { class: 'stack' },
      h('label', { class: 'check' }, push, t('settings.push')),
      h('label', { class: 'check' }, previews, t('settings.previews')),
      h('h3', null, t('settings.quiet')),
      h('label', { class: 'check' }, quiet, t('settings.quietOn')),
      quietFields,
      zoneNow,
      msg,
      h(
        'div',
        { class: 'row end' },
        h('button', { type: 'submit', class: 'primary' }, t('common.save')),
      ),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await this.ctx.preferences.update({
          push_enabled: push.checked,
          show_previews: previews.checked,
          quiet_hours: quiet.checked
            ? { start: from.value, end: to.value, timezone: zone.value }
            : null,
        });
        msg.textContent = t('common.saved');
        msg.className = 'form-ok';
      } catch (err) {
        msg.className = 'form-error';
        msg.textContent =
          err instanceof ApiError && err.status < 500 ? err.message : errorText(err);
      }
    });
    replaceChildren(this.prefsBox, form);
  }

  private renderMuted(p: Preferences): void {
    // A mute whose time has passed is over (the service ignores it too).
    const muted = p.muted_conversations.filter((m) => !m.until || Date.parse(m.until) > Date.now());
    if (!muted.length) {
      replaceChildren(this.mutedBox, h('p', { class: 'muted' }, t('settings.noMuted')));
      return;
    }
    replaceChildren(
      this.mutedBox,
      h(
        'ul',
        { class: 'plain-list', role: 'list' },
        muted.map((m) => {
          const c = this.ctx.messenger.conversations.get(m.conversation_id);
          return h(
            'li',
            { class: 'row spread' },
            h(
              'span',
              null,
              c ? conversationTitle(this.ctx, c) : m.conversation_id,
              ' ',
              h(
                'span',
                { class: 'muted small' },
                m.until ? t('mute.until', { time: untilText(m.until) }) : t('mute.always'),
              ),
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'small',
                onClick: () =>
                  void this.ctx.preferences
                    .setMuted(m.conversation_id, false)
                    .catch((e) => this.ctx.toast(errorText(e), 'error')),
              },
              t('settings.unmute'),
            ),
          );
        }),
      ),
    );
  }

  private async signOut(): Promise<void> {
    try {
      await this.ctx.auth.logout();
    } catch {
      // Signed out locally all the same; the session expires on its own.
    }
    this.ctx.session.end('user');
  }
}
