// The signed-in layout: navigation rail (a bottom bar on phones), the chat list
// and the main pane. On a phone only one of list and main shows at a time,
// chosen by the route (CSS reads data-route).
import { t } from '../../i18n';
import { h, icon, replaceChildren } from '../../util/dom';
import { Subscriptions } from '../../util/emitter';
import type { Ctx, View } from '../context';
import { ICONS } from '../icons';
import type { Route } from '../router';
import { ChatListView } from './chat-list';
import { ChatView } from './chat';
import { InboxView } from './inbox';
import { SettingsView } from './settings';
import { WalletView } from './wallet';

export class ShellView implements View {
  readonly el: HTMLElement;
  private readonly main: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly content: HTMLElement;
  private readonly subs = new Subscriptions();
  private readonly list: ChatListView;
  private current: View | null = null;
  private readonly badges: Record<'chats' | 'inbox', HTMLElement>;
  private bannerTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly ctx: Ctx) {
    this.badges = {
      chats: h('span', { class: 'badge', hidden: true, 'data-testid': 'chats-badge' }),
      inbox: h('span', { class: 'badge', hidden: true, 'data-testid': 'inbox-badge' }),
    };
    const link = (
      path: string,
      label: string,
      iconPaths: string[],
      name: string,
      badge?: HTMLElement,
    ) =>
      h(
        'a',
        { href: path, 'data-link': true, 'data-nav': name, class: 'nav-link' },
        icon(iconPaths),
        h('span', { class: 'nav-label' }, label),
        badge,
      );
    const rail = h(
      'nav',
      { class: 'rail', 'aria-label': t('nav.main') },
      h('span', { class: 'brand-mark rail-brand', 'aria-hidden': 'true' }, 'T'),
      link('/', t('nav.chats'), ICONS.chats, 'chats', this.badges.chats),
      link('/wallet', t('nav.wallet'), ICONS.wallet, 'wallet'),
      link('/inbox', t('nav.inbox'), ICONS.inbox, 'inbox', this.badges.inbox),
      link('/settings', t('nav.settings'), ICONS.settings, 'settings'),
    );
    this.list = new ChatListView(ctx);
    this.banner = h('div', { class: 'banner', role: 'status', hidden: true });
    this.content = h('div', { class: 'content' });
    this.main = h('main', { class: 'main', id: 'main', tabindex: '-1' }, this.content);
    this.el = h(
      'div',
      { class: 'shell' },
      h('a', { class: 'skip-link', href: '#main' }, t('app.skip')),
      this.banner,
      rail,
      h('aside', { class: 'sidebar', 'aria-label': t('chats.title') }, this.list.el),
      this.main,
    );
    this.subs.add(ctx.router.events.on('change', (r) => this.show(r)));
    this.subs.add(ctx.messenger.conversations.events.on('changed', () => this.updateBadges()));
    this.subs.add(ctx.inbox.events.on('changed', () => this.updateBadges()));
    this.subs.add(ctx.messenger.events.on('status', () => this.updateBanner()));
    this.show(ctx.router.route);
    this.updateBadges();
    this.updateBanner();
  }

  dispose(): void {
    this.subs.dispose();
    this.list.dispose();
    this.current?.dispose();
    if (this.bannerTimer) clearTimeout(this.bannerTimer);
  }

  private show(r: Route): void {
    this.current?.dispose();
    this.current = null;
    this.el.dataset.route = r.name;
    for (const a of this.el.querySelectorAll<HTMLAnchorElement>('.rail a')) {
      const active = a.dataset.nav === (r.name === 'chat' ? 'chats' : r.name);
      if (active) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    this.list.setActive(r.name === 'chat' ? r.id : null);
    this.ctx.messenger.setActive(r.name === 'chat' ? r.id : null);
    switch (r.name) {
      case 'chat':
        this.current = new ChatView(this.ctx, r.id, r.seq);
        break;
      case 'wallet':
        this.current = new WalletView(this.ctx, r.topup);
        break;
      case 'inbox':
        this.current = new InboxView(this.ctx);
        break;
      case 'settings':
        this.current = new SettingsView(this.ctx);
        break;
      case 'chats':
        this.current = {
          el: h('div', { class: 'empty-pane' }, h('p', null, t('chats.pick'))),
          dispose() {},
        };
        break;
    }
    replaceChildren(this.content, this.current.el);
  }

  private updateBadges(): void {
    const chats = this.ctx.messenger.conversations.totalUnread();
    const inbox = this.ctx.inbox.unreadCount();
    setBadge(this.badges.chats, chats);
    setBadge(this.badges.inbox, inbox);
    document.title = chats + inbox > 0 ? `(${chats + inbox}) ${t('app.name')}` : t('app.name');
  }

  /** "Offline" at once; "connecting" only when it lasts, to avoid flicker. */
  private updateBanner(): void {
    const s = this.ctx.messenger.status;
    if (this.bannerTimer) clearTimeout(this.bannerTimer);
    this.bannerTimer = null;
    if (s === 'online') {
      this.banner.hidden = true;
    } else if (s === 'offline') {
      this.banner.textContent = t('common.offline');
      this.banner.className = 'banner offline';
      this.banner.hidden = false;
    } else {
      this.bannerTimer = setTimeout(() => {
        this.banner.textContent = t('common.connecting');
        this.banner.className = 'banner';
        this.banner.hidden = false;
      }, 1500);
    }
  }
}

function setBadge(el: HTMLElement, n: number): void {
  el.hidden = n <= 0;
  el.textContent = n > 99 ? '99+' : String(n);
}
