// The notification inbox as the notification service keeps it: payments,
// top-ups, and the messages that arrived while the user was away (one entry per
// conversation, collapsed while unread). Reading a conversation in the chat
// marks its message entry read too.
import type { NotificationApi } from '../api/notification';
import type { Notification } from '../api/types';
import { Emitter } from '../util/emitter';

const POLL_MS = 30_000;

export class InboxState {
  readonly events = new Emitter<{ changed: void }>();
  private server: Notification[] = [];
  private serverUnread = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  nextCursor: string | null = null;
  loaded = false;

  constructor(private readonly api: NotificationApi) {}

  open(): void {
    void this.refresh();
    this.timer = setInterval(() => {
      if (navigator.onLine && document.visibilityState === 'visible') void this.refresh();
    }, POLL_MS);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.server = [];
    this.serverUnread = 0;
    this.loaded = false;
  }

  /** Newest first. */
  list(): Notification[] {
    return this.server;
  }

  unreadCount(): number {
    return this.serverUnread;
  }

  async refresh(): Promise<void> {
    try {
      const r = await this.api.list();
      this.server = r.notifications;
      this.serverUnread = r.unread_count;
      this.nextCursor = r.next_cursor;
      this.loaded = true;
      this.events.emit('changed', undefined);
    } catch {
      // Offline: keep what is shown.
    }
  }

  async loadMore(): Promise<void> {
    if (!this.nextCursor) return;
    const r = await this.api.list(this.nextCursor);
    const known = new Set(this.server.map((n) => n.id));
    this.server.push(...r.notifications.filter((n) => !known.has(n.id)));
    this.nextCursor = r.next_cursor;
    this.events.emit('changed', undefined);
  }

  async markRead(n: Notification): Promise<void> {
    if (n.read) return;
    await this.api.markRead(n.id);
    this.setRead(n.id);
  }

  /** The user read a conversation: its unread message entries are read too. */
  markConversationRead(conversationId: string): void {
    // Offline the request would only fail; the entry stays unread, which is true.
    if (!navigator.onLine) return;
    for (const n of this.server) {
      if (n.read || n.kind !== 'message' || n.data.conversation_id !== conversationId) continue;
      this.api.markRead(n.id).then(
        () => this.setRead(n.id),
        () => undefined, // the connection dropped: it stays unread
      );
    }
  }

  async markAllRead(): Promise<void> {
    if (this.serverUnread > 0) {
      await this.api.markAllRead();
      for (const x of this.server) x.read = true;
      this.serverUnread = 0;
    }
    this.events.emit('changed', undefined);
  }

  private setRead(id: string): void {
    const n = this.server.find((x) => x.id === id);
    if (!n || n.read) return;
    n.read = true;
    this.serverUnread = Math.max(0, this.serverUnread - 1);
    this.events.emit('changed', undefined);
  }
}
