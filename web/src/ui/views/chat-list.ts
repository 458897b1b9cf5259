// The conversation list: title, last message, time, unread badge, online dot.
import type { Conversation } from '../../api/types';
import { t, tn } from '../../i18n';
import { h, icon, replaceChildren } from '../../util/dom';
import { Subscriptions } from '../../util/emitter';
import { avatar } from '../components/avatar';
import type { Ctx, View } from '../context';
import { conversationTitle, messagePreview, peerOf, shortTime, userName } from '../format';
import { ICONS } from '../icons';
import { chatPath } from '../router';
import { openNewChat, openNewGroup } from './new-chat';
import { SearchPanel } from './search';

export class ChatListView implements View {
  readonly el: HTMLElement;
  private readonly ul: HTMLElement;
  private readonly search: SearchPanel;
  private readonly subs = new Subscriptions();
  private active: string | null = null;
  private frame = 0;

  constructor(private readonly ctx: Ctx) {
    this.ul = h('ul', { class: 'conv-list', role: 'list', 'data-testid': 'conversation-list' });
    // While a query is typed, its results take the list's place.
    this.search = new SearchPanel(ctx, {
      onActive: (active) => {
        this.ul.hidden = active;
        this.search.results.hidden = !active;
      },
    });
    this.search.results.hidden = true;
    this.el = h(
      'section',
      { class: 'chat-list' },
      h(
        'header',
        { class: 'pane-head' },
        h('h1', null, t('chats.title')),
        h(
          'div',
          { class: 'row' },
          h(
            'button',
            {
              type: 'button',
              class: 'icon-button',
              title: t('chats.newGroup'),
              'aria-label': t('chats.newGroup'),
              onClick: () => openNewGroup(ctx),
            },
            icon(ICONS.group),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'icon-button accent',
              title: t('chats.newChat'),
              'aria-label': t('chats.newChat'),
              'data-testid': 'new-chat',
              onClick: () => openNewChat(ctx),
            },
            icon(ICONS.plus),
          ),
        ),
      ),
      this.search.box,
      this.ul,
      this.search.results,
    );
    const later = () => this.schedule();
    this.subs.add(ctx.messenger.conversations.events.on('changed', later));
    this.subs.add(ctx.directory.events.on('user', later));
    this.subs.add(ctx.presence.events.on('changed', later));
    this.subs.add(ctx.messenger.typing.events.on('changed', later));
    this.render();
  }

  dispose(): void {
    this.subs.dispose();
    this.search.dispose();
    cancelAnimationFrame(this.frame);
  }

  setActive(id: string | null): void {
    this.active = id;
    this.render();
  }

  /** Many events arrive in bursts (a sync): render once per frame. */
  private schedule(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.render());
  }

  private render(): void {
    const convs = this.ctx.messenger.conversations;
    if (!convs.loaded) {
      replaceChildren(this.ul, h('li', { class: 'muted pad' }, t('common.loading')));
      return;
    }
    const list = convs.list();
    if (!list.length) {
      replaceChildren(this.ul, h('li', { class: 'muted pad' }, t('chats.empty')));
      return;
    }
    const focusedId = (document.activeElement as HTMLElement | null)?.dataset?.conversationId;
    replaceChildren(
      this.ul,
      list.map((c) => this.item(c)),
    );
    if (focusedId)
      this.ul.querySelector<HTMLElement>(`[data-conversation-id="${focusedId}"]`)?.focus();
  }

  private item(c: Conversation): HTMLElement {
    const title = conversationTitle(this.ctx, c);
    const peer = peerOf(this.ctx, c);
    const typing = this.ctx.messenger.typing.users(c.id);
    const preview = typing.length
      ? t('chat.typing', { name: userName(this.ctx, typing[0]!) })
      : c.last_message
        ? (c.type === 'group' && c.last_message.sender_id !== this.ctx.session.user?.id
            ? `${userName(this.ctx, c.last_message.sender_id)}: `
            : '') + messagePreview(this.ctx, c.last_message)
        : t('chats.noMessages');
    const online = peer ? this.ctx.presence.online(peer) : null;
    // The link's name is its visible text (WCAG 2.5.3, label in name) plus the
    // presence and unread count, which are shown as a dot and a number.
    const extra = [
      online ? t('chats.online') : '',
      c.unread_count ? tn('chats.unread', c.unread_count) : '',
    ]
      .filter(Boolean)
      .map((x) => `, ${x}`)
      .join('');
    return h(
      'li',
      null,
      h(
        'a',
        {
          href: chatPath(c.id),
          'data-link': true,
          'data-conversation-id': c.id,
          class: c.unread_count ? 'conv unread' : 'conv',
          'aria-current': c.id === this.active ? 'page' : null,
        },
        avatar(title, peer ?? c.id, online, 40, peer),
        h(
          'span',
          { class: 'conv-body' },
          h(
            'span',
            { class: 'conv-top' },
            h('span', { class: 'conv-title' }, title),
            h(
              'time',
              { class: 'conv-time', datetime: c.last_message?.created_at ?? c.updated_at },
              shortTime(c.last_message?.created_at ?? c.updated_at),
            ),
          ),
          h(
            'span',
            { class: 'conv-bottom' },
            h('span', { class: typing.length ? 'conv-preview typing' : 'conv-preview' }, preview),
            c.unread_count
              ? h(
                  'span',
                  { class: 'badge', 'data-testid': 'unread-badge', 'aria-hidden': 'true' },
                  String(c.unread_count),
                )
              : null,
          ),
          extra ? h('span', { class: 'visually-hidden' }, extra) : null,
        ),
      ),
    );
  }
}
