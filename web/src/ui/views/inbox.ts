// The notification inbox: newest first, unread marked; opening an entry marks
// it read and goes to its chat when it has one.
import type { Notification } from '../../api/types';
import { t, tn } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { Subscriptions } from '../../util/emitter';
import type { Ctx, View } from '../context';
import { errorText } from '../errors';
import { fullTime, relativeTime, userName } from '../format';
import { chatPath } from '../router';

export class InboxView implements View {
  readonly el: HTMLElement;
  private readonly ul: HTMLElement;
  private readonly markAll: HTMLButtonElement;
  private readonly more: HTMLButtonElement;
  private readonly subs = new Subscriptions();

  constructor(private readonly ctx: Ctx) {
    this.ul = h('ul', { class: 'inbox-list', role: 'list', 'data-testid': 'inbox-list' });
    this.markAll = h(
      'button',
      { type: 'button', class: 'link-button', onClick: () => void this.readAll() },
      t('inbox.markAll'),
    );
    this.more = h(
      'button',
      {
        type: 'button',
        class: 'link-button',
        hidden: true,
        onClick: () => void ctx.inbox.loadMore().catch((e) => ctx.toast(errorText(e), 'error')),
      },
      t('common.loadMore'),
    );
    this.el = h(
      'section',
      { class: 'page inbox' },
      h('header', { class: 'pane-head' }, h('h1', null, t('inbox.title')), this.markAll),
      h('div', { class: 'page-body' }, this.ul, this.more),
    );
    this.subs.add(ctx.inbox.events.on('changed', () => this.render()));
    this.subs.add(ctx.directory.events.on('user', () => this.render()));
    this.render();
    void ctx.inbox.refresh();
  }

  dispose(): void {
    this.subs.dispose();
  }

  private render(): void {
    const list = this.ctx.inbox.list();
    this.markAll.hidden = this.ctx.inbox.unreadCount() === 0;
    this.more.hidden = !this.ctx.inbox.nextCursor;
    if (!list.length) {
      replaceChildren(
        this.ul,
        h(
          'li',
          { class: 'muted pad' },
          this.ctx.inbox.loaded ? t('inbox.empty') : t('common.loading'),
        ),
      );
      return;
    }
    const senders = list
      .map((n) => n.data.sender_id)
      .filter((x): x is string => typeof x === 'string');
    this.ctx.directory.ensure(senders);
    replaceChildren(
      this.ul,
      list.map((n) => this.item(n)),
    );
  }

  private item(n: Notification): HTMLElement {
    const { title, body } = this.texts(n);
    return h(
      'li',
      null,
      h(
        'button',
        {
          type: 'button',
          class: n.read ? 'note' : 'note unread',
          'data-kind': n.kind,
          onClick: () => void this.open(n),
        },
        n.read ? null : h('span', { class: 'unread-dot', 'aria-label': t('inbox.unread') }),
        h(
          'span',
          { class: 'note-body' },
          h('strong', null, title),
          body ? h('span', null, body) : null,
        ),
        h(
          'time',
          { datetime: n.created_at, title: fullTime(n.created_at) },
          relativeTime(n.created_at),
        ),
      ),
    );
  }

  /** Message entries are worded here, with the sender's current name and in the
   * interface's language; the service's own texts are the fallback. */
  private texts(n: Notification): { title: string; body: string } {
    const sender = n.data.sender_id;
    if (n.kind === 'message' && typeof sender === 'string') {
      const name = userName(this.ctx, sender);
      const count = typeof n.data.count === 'number' ? n.data.count : 1;
      return {
        title:
          count > 1 ? tn('inbox.messagesFrom', count, { name }) : t('inbox.messageFrom', { name }),
        body: n.body,
      };
    }
    return { title: n.title, body: n.body };
  }

  private async open(n: Notification): Promise<void> {
    try {
      await this.ctx.inbox.markRead(n);
    } catch (err) {
      this.ctx.toast(errorText(err), 'error');
    }
    const conv = n.data.conversation_id;
    if (typeof conv === 'string') this.ctx.router.go(chatPath(conv));
    else if (n.kind.startsWith('payment')) this.ctx.router.go('/wallet');
  }

  private async readAll(): Promise<void> {
    try {
      await this.ctx.inbox.markAllRead();
    } catch (err) {
      this.ctx.toast(errorText(err), 'error');
    }
  }
}
