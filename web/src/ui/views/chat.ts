// One conversation: history with infinite scroll upwards, live messages, the
// composer (send, reply, edit), typing indicator, receipts and money actions.
import type { Conversation, Message } from '../../api/types';
import { t, tn } from '../../i18n';
import { h, icon, replaceChildren } from '../../util/dom';
import { Subscriptions } from '../../util/emitter';
import { avatar } from '../components/avatar';
import { confirmDialog } from '../components/confirm';
import { showMenu, type MenuItem } from '../components/menu';
import { openPeerMenu } from './blocked';
import { muteState, openMuteMenu } from './mute-menu';
import type { Ctx, View } from '../context';
import { errorText } from '../errors';
import { conversationTitle, fullTime, messagePreview, peerOf, userName } from '../format';
import { ICONS } from '../icons';
import { itemModels, renderItem, signature, type ItemActions } from './message-item';
import { openMoneyDialog } from './money-dialog';
import { SearchPanel } from './search';
import { ComposerMedia } from './composer-media';
import { forwardable, openForwardDialog, openGridMenu } from './forward';

const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

export class ChatView implements View {
  readonly el: HTMLElement;
  private readonly subs = new Subscriptions();
  private readonly head: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly top: HTMLElement;
  private readonly items: HTMLElement;
  private readonly typingLine: HTMLElement;
  private readonly composer: HTMLFormElement;
  private readonly input: HTMLTextAreaElement;
  private readonly banner: HTMLElement;
  private readonly bottom: HTMLElement;
  private readonly search: SearchPanel;
  private readonly media: ComposerMedia;
  private readonly rendered = new Map<string, { sig: string; el: HTMLElement }>();
  private readonly observer: IntersectionObserver;
  private conv: Conversation | null = null;
  private replyTo: Message | null = null;
  private editing: Message | null = null;
  private loadingOlder = false;
  private frame = 0;
  private disposed = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly id: string,
    private readonly target: number | null = null,
  ) {
    this.head = h('header', { class: 'chat-head' });
    this.top = h('div', { class: 'history-top' });
    this.items = h('div', { class: 'items' });
    this.bottom = h('div', { class: 'history-top' });
    // Search in this chat: the box under the header, its results over the history.
    this.search = new SearchPanel(ctx, {
      conversationId: id,
      onActive: (active) => {
        this.scroller.hidden = active;
        this.search.results.hidden = !active;
      },
    });
    this.search.box.hidden = true;
    this.search.results.hidden = true;
    this.scroller = h(
      'div',
      {
        class: 'messages',
        role: 'log',
        'aria-live': 'polite',
        'aria-relevant': 'additions',
        tabindex: '0',
        'data-testid': 'messages',
      },
      this.top,
      this.items,
      this.bottom,
    );
    this.typingLine = h('div', { class: 'typing-line', 'data-testid': 'typing' });
    this.input = h('textarea', {
      rows: 1,
      class: 'composer-input',
      'aria-label': t('chat.placeholder'),
      placeholder: t('chat.placeholder'),
      maxlength: 4096,
      'data-testid': 'composer',
    });
    this.banner = h('div', { class: 'composer-banner', hidden: true });
    const chatEl = h('section', { class: 'chat', 'data-conversation-id': id });
    this.media = new ComposerMedia(ctx, id, chatEl, this.input, this.scroller);
    this.scroller.append(this.media.uploadsEl);
    this.composer = h(
      'form',
      { class: 'composer' },
      this.banner,
      this.media.panel,
      h(
        'div',
        { class: 'composer-row' },
        h(
          'button',
          {
            type: 'button',
            class: 'icon-button',
            title: t('chat.sendMoney'),
            'aria-label': t('chat.sendMoney'),
            'data-testid': 'send-money',
            onClick: () => this.money('send'),
          },
          icon(ICONS.money),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'icon-button',
            title: t('chat.requestMoney'),
            'aria-label': t('chat.requestMoney'),
            'data-testid': 'request-money',
            onClick: () => this.money('request'),
          },
          icon(ICONS.request),
        ),
        this.media.buttons,
        this.input,
        h(
          'button',
          {
            type: 'submit',
            class: 'icon-button accent',
            'aria-label': t('chat.send'),
            title: t('chat.send'),
            'data-testid': 'send',
          },
          icon(ICONS.send),
        ),
      ),
    );
    this.el = chatEl;
    this.el.append(
      this.head,
      this.search.box,
      this.search.results,
      this.scroller,
      this.typingLine,
      this.composer,
    );

    this.wireComposer();
    this.observer = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          if (e.isIntersecting) void (e.target === this.top ? this.loadOlder() : this.loadNewer());
        }
      },
      { root: this.scroller, rootMargin: '300px 0px 300px 0px' },
    );
    this.observer.observe(this.top);
    this.observer.observe(this.bottom);

    const m = ctx.messenger;
    this.subs.add(m.events.on('messages', (cid) => cid === id && this.schedule()));
    this.subs.add(
      m.conversations.events.on('changed', (cid) => {
        if (cid === null || cid === id) {
          this.conv = m.conversations.get(id) ?? this.conv;
          this.renderHead();
          this.schedule();
        }
      }),
    );
    this.subs.add(m.typing.events.on('changed', (cid) => cid === id && this.renderTyping()));
    this.subs.add(
      ctx.directory.events.on('user', () => {
        this.renderHead();
        this.schedule();
      }),
    );
    this.subs.add(ctx.presence.events.on('changed', () => this.renderHead()));
    this.subs.add(ctx.preferences.events.on('changed', () => this.renderHead()));
    void this.init();
  }

  dispose(): void {
    this.disposed = true;
    this.subs.dispose();
    this.search.dispose();
    this.media.dispose();
    this.observer.disconnect();
    cancelAnimationFrame(this.frame);
  }

  private async init(): Promise<void> {
    this.conv = await this.ctx.messenger.ensureConversation(this.id);
    if (this.disposed) return;
    if (!this.conv) {
      replaceChildren(this.el, h('div', { class: 'empty-pane' }, h('p', null, t('chat.notFound'))));
      return;
    }
    this.renderHead();
    void this.ctx.preferences.load().catch(() => undefined);
    try {
      if (this.target) await this.ctx.messenger.openAround(this.id, this.target);
      else await this.ctx.messenger.openHistory(this.id);
    } catch (err) {
      this.ctx.toast(errorText(err), 'error');
    }
    if (this.disposed) return;
    this.render();
    this.scroller.scrollTop = this.scroller.scrollHeight;
    if (this.target) {
      this.jumpTo(this.target, 'auto');
      return;
    }
    if (window.matchMedia('(min-width: 800px)').matches) this.input.focus();
  }

  // ---- header and typing ----

  private renderHead(): void {
    const c = this.conv;
    if (!c) return;
    const title = conversationTitle(this.ctx, c);
    const peer = peerOf(this.ctx, c);
    const online = peer ? this.ctx.presence.online(peer) : null;
    let sub = '';
    if (c.type === 'group') sub = tn('chats.members', c.member_count);
    else if (online) sub = t('chats.online');
    const muted = muteState(this.ctx, c.id);
    replaceChildren(
      this.head,
      h(
        'a',
        {
          href: '/',
          'data-link': true,
          class: 'icon-button back-link',
          'aria-label': t('chat.back'),
        },
        icon(ICONS.back),
      ),
      avatar(title, peer ?? c.id, online, 40, peer),
      h(
        'div',
        { class: 'chat-title' },
        h('h1', null, title),
        h('p', { class: 'muted', 'data-testid': 'chat-status' }, sub),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'icon-button',
          'aria-label': t('search.inChat'),
          title: t('search.inChat'),
          'data-testid': 'chat-search',
          onClick: () => this.toggleSearch(),
        },
        icon(ICONS.search),
      ),
      h(
        'button',
        {
          type: 'button',
          class: muted ? 'icon-button active' : 'icon-button',
          'aria-haspopup': 'menu',
          'aria-label': muted ? `${t('chat.mute')}: ${muted}` : t('chat.mute'),
          title: muted ?? t('chat.mute'),
          'data-testid': 'chat-mute',
          onClick: (e: Event) => openMuteMenu(this.ctx, c.id, e.currentTarget as HTMLElement),
        },
        icon(muted ? ICONS.bellOff : ICONS.bell),
      ),
      (peer || c.type === 'group') &&
        h(
          'button',
          {
            type: 'button',
            class: 'icon-button',
            'aria-haspopup': 'menu',
            'aria-label': t('chat.more'),
            title: t('chat.more'),
            'data-testid': 'chat-more',
            onClick: (e: Event) =>
              peer
                ? void openPeerMenu(this.ctx, peer, e.currentTarget as HTMLElement)
                : void import('./group-settings')
                    .then((m) => m.openGroupSettings(this.ctx, c.id))
                    .catch((err) => this.ctx.toast(errorText(err), 'error')),
          },
          icon(ICONS.more),
        ),
    );
  }

  private toggleSearch(): void {
    const open = this.search.box.hidden;
    if (!open) this.search.clear();
    this.search.box.hidden = !open;
    if (open) this.search.focus();
  }

  private renderTyping(): void {
    const users = this.ctx.messenger.typing.users(this.id);
    this.typingLine.textContent = !users.length
      ? ''
      : users.length === 1
        ? t('chat.typing', { name: userName(this.ctx, users[0]!) })
        : t('chat.typingMany');
  }

  // ---- messages ----

  private schedule(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.render());
  }

  private render(): void {
    if (this.disposed || !this.conv) return;
    const cache = this.ctx.messenger.cache(this.id);
    const sc = this.scroller;
    const atBottom = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 80;
    const fromBottom = sc.scrollHeight - sc.scrollTop;
    const firstBefore = this.items.firstElementChild;

    replaceChildren(
      this.top,
      cache.hasOlder
        ? h(
            'button',
            { type: 'button', class: 'link-button', onClick: () => void this.loadOlder() },
            t('chat.loadOlder'),
          )
        : h('p', { class: 'muted' }, t('chat.start')),
    );

    replaceChildren(
      this.bottom,
      cache.hasNewer
        ? h(
            'button',
            { type: 'button', class: 'link-button', onClick: () => void this.loadNewer() },
            t('chat.loadNewer'),
          )
        : null,
    );

    const actions: ItemActions = {
      menu: (m, anchor, group) => this.openMenu(m, anchor, group),
      react: (m, emoji) => void this.react(m, emoji),
      retry: (id) => this.ctx.messenger.outbox.retry(id),
      discard: (id) => this.ctx.messenger.outbox.discard(id),
      jumpTo: (seq) => this.jumpTo(seq),
      forward: (list) => openForwardDialog(this.ctx, list),
    };
    const models = itemModels(this.ctx, this.id, this.conv);
    const keep = new Set<string>();
    let cursor: ChildNode | null = this.items.firstChild;
    for (const model of models) {
      keep.add(model.key);
      const sig = signature(this.ctx, model);
      let entry = this.rendered.get(model.key);
      if (!entry || entry.sig !== sig) {
        const el = renderItem(this.ctx, model, actions);
        if (entry) {
          if (cursor === entry.el) cursor = el;
          entry.el.replaceWith(el);
        }
        entry = { sig, el };
        this.rendered.set(model.key, entry);
      }
      // Move only what is out of place, so that focus inside a row survives.
      if (entry.el !== cursor) this.items.insertBefore(entry.el, cursor);
      cursor = entry.el.nextSibling;
    }
    for (const [key, entry] of this.rendered) {
      if (!keep.has(key)) {
        entry.el.remove();
        this.rendered.delete(key);
      }
    }

    if (atBottom && !cache.hasNewer) {
      sc.scrollTop = sc.scrollHeight;
    } else if (firstBefore && this.items.firstElementChild !== firstBefore) {
      sc.scrollTop = sc.scrollHeight - fromBottom; // older messages went in above
    }
  }

  private async loadOlder(): Promise<void> {
    const cache = this.ctx.messenger.cache(this.id);
    if (this.loadingOlder || !cache.loaded || !cache.hasOlder) return;
    this.loadingOlder = true;
    try {
      await this.ctx.messenger.loadOlder(this.id);
    } catch (err) {
      this.ctx.toast(errorText(err), 'error');
    } finally {
      this.loadingOlder = false;
    }
  }

  private async loadNewer(): Promise<void> {
    const cache = this.ctx.messenger.cache(this.id);
    if (this.loadingOlder || !cache.hasNewer) return;
    this.loadingOlder = true;
    try {
      await this.ctx.messenger.loadNewer(this.id);
    } catch (err) {
      this.ctx.toast(errorText(err), 'error');
    } finally {
      this.loadingOlder = false;
    }
  }

  private jumpTo(seq: number, behavior: ScrollBehavior = 'smooth'): void {
    const el = this.items.querySelector<HTMLElement>(`[data-seq="${seq}"]`);
    if (!el) return;
    const still = behavior === 'auto' || matchMedia('(prefers-reduced-motion: reduce)').matches;
    el.scrollIntoView({ block: 'center', behavior: still ? 'auto' : 'smooth' });
    el.classList.add('flash');
    setTimeout(() => el.classList.remove('flash'), 1500);
  }

  private openMenu(m: Message, anchor: HTMLElement, group: Message[] | null = null): void {
    const me = this.ctx.session.user!.id;
    if (group) {
      return openGridMenu(this.ctx, this.id, group, anchor, (last) => this.startReply(last));
    }
    const groups: MenuItem[][] = [
      QUICK_REACTIONS.map((emoji) => ({
        label: t('chat.react', { emoji }),
        glyph: emoji,
        action: () => void this.react(m, emoji),
      })),
    ];
    const items: MenuItem[] = [{ label: t('chat.reply'), action: () => this.startReply(m) }];
    if (m.sender_id === me && m.type === 'text') {
      items.push({ label: t('chat.edit'), action: () => this.startEdit(m) });
    }
    const fwd = forwardable(m);
    if (fwd)
      items.push({ label: t('media.forward'), action: () => openForwardDialog(this.ctx, [fwd]) });
    if (m.sender_id === me && m.type !== 'payment') {
      items.push({ label: t('chat.delete'), danger: true, action: () => void this.remove(m) });
    }
    groups.push(items);
    showMenu(anchor, groups);
  }

  private async react(m: Message, emoji: string): Promise<void> {
    try {
      await this.ctx.messenger.toggleReaction(this.id, m.seq, emoji);
    } catch (err) {
      this.ctx.toast(errorText(err), 'error');
    }
  }

  private async remove(m: Message): Promise<void> {
    if (!(await confirmDialog(t('chat.confirmDelete'), t('chat.delete')))) return;
    try {
      await this.ctx.messenger.remove(this.id, m.seq);
    } catch (err) {
      this.ctx.toast(errorText(err), 'error');
    }
  }

  // ---- composer ----

  private wireComposer(): void {
    const grow = () => {
      this.input.style.height = 'auto';
      this.input.style.height = `${Math.min(this.input.scrollHeight, 160)}px`;
    };
    this.input.addEventListener('input', () => {
      grow();
      if (this.input.value.trim() && !this.editing) this.ctx.messenger.userTyping(this.id);
    });
    this.input.addEventListener('keydown', (e) => {
      // isComposing: Enter that confirms an IME candidate (Thai, Vietnamese) is not "send".
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.composer.requestSubmit();
      } else if (e.key === 'Escape' && (this.replyTo || this.editing)) {
        e.preventDefault();
        this.clearMode();
      } else if (e.key === 'ArrowUp' && !this.input.value) {
        // Edit the last own text message, as desktop chat apps do.
        const me = this.ctx.session.user!.id;
        const last = [...this.ctx.messenger.cache(this.id).list()]
          .reverse()
          .find((m) => m.sender_id === me && m.type === 'text' && !m.deleted);
        if (last) {
          e.preventDefault();
          this.startEdit(last);
        }
      }
    });
    this.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      if (this.editing) {
        const m = this.editing;
        this.clearMode();
        if (text !== m.body) {
          this.ctx.messenger
            .edit(this.id, m.seq, text)
            .catch((err) => this.ctx.toast(errorText(err), 'error'));
        }
      } else {
        const reply = this.replyTo?.seq ?? null;
        this.clearMode();
        // From a window around an old message, back to the newest first.
        void this.ctx.messenger
          .openLatest(this.id)
          .catch(() => undefined)
          .then(() => {
            this.ctx.messenger.sendText(this.id, text, reply);
            this.scroller.scrollTop = this.scroller.scrollHeight;
          });
      }
      this.input.value = '';
      grow();
      this.input.focus();
    });
  }

  private startReply(m: Message): void {
    this.editing = null;
    this.replyTo = m;
    this.showBanner(
      t('chat.replyingTo', { name: userName(this.ctx, m.sender_id) }),
      messagePreview(this.ctx, m),
      t('chat.cancelReply'),
    );
    this.input.focus();
  }

  private startEdit(m: Message): void {
    this.replyTo = null;
    this.editing = m;
    this.showBanner(t('chat.editing'), fullTime(m.created_at), t('chat.cancelEdit'));
    this.input.value = m.body;
    this.input.focus();
    this.input.setSelectionRange(m.body.length, m.body.length);
  }

  private showBanner(title: string, detail: string, cancelLabel: string): void {
    replaceChildren(
      this.banner,
      h('div', { class: 'banner-text' }, h('strong', null, title), h('span', null, detail)),
      h(
        'button',
        {
          type: 'button',
          class: 'icon-button',
          'aria-label': cancelLabel,
          onClick: () => this.clearMode(),
        },
        '✕',
      ),
    );
    this.banner.hidden = false;
  }

  private clearMode(): void {
    if (this.editing) this.input.value = '';
    this.replyTo = null;
    this.editing = null;
    this.banner.hidden = true;
    this.input.focus();
  }

  private money(mode: 'send' | 'request'): void {
    if (this.conv) openMoneyDialog(this.ctx, this.conv, mode);
  }
}
