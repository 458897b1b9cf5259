// The notification inbox: the notification service's entries (payments, top-ups,
// ...) plus, kept on this device, the messages that arrived while the client was
// offline. The service pushes messages to devices but does not put them in the
// inbox (SPEC §6), so without the local entries a user coming back would not see
// what they missed there. When the service does send inbox entries for messages
// (data.message_id), those win and the local copy is dropped.
import type { NotificationApi } from '../api/notification';
import type { Notification } from '../api/types';
import { Emitter } from '../util/emitter';

const LOCAL_LIMIT = 100;
const POLL_MS = 30_000;

export class InboxState {
  readonly events = new Emitter<{ changed: void }>();
  private server: Notification[] = [];
  private serverUnread = 0;
  private local: Notification[] = [];
  private storageKey: string | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  nextCursor: string | null = null;
  loaded = false;

  constructor(private readonly api: NotificationApi) {}

  open(userId: string): void {
    this.storageKey = `tchat.inbox.${userId}`;
    try {
      this.local = JSON.parse(localStorage.getItem(this.storageKey) ?? '[]') as Notification[];
    } catch {
      this.local = [];
    }
    void this.refresh();
    this.timer = setInterval(() => {
      if (navigator.onLine && document.visibilityState === 'visible') void this.refresh();
    }, POLL_MS);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.server = [];
    this.local = [];
    this.serverUnread = 0;
    this.loaded = false;
    this.storageKey = null;
  }

  /** Newest first. */
  list(): Notification[] {
    const serverMessages = new Set(
      this.server.map((n) => n.data?.message_id).filter((x): x is string => typeof x === 'string'),
    );
    const local = this.local.filter((n) => !serverMessages.has(String(n.data.message_id)));
    return [...this.server, ...local].sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  unreadCount(): number {
    return this.serverUnread + this.local.filter((n) => !n.read).length;
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

  /** Records a message that arrived while the client was away. */
  addMissedMessage(n: Notification): void {
    if (this.local.some((x) => x.id === n.id)) return;
    this.local.unshift(n);
    this.local = this.local.slice(0, LOCAL_LIMIT);
    this.saveLocal();
    this.events.emit('changed', undefined);
  }

  async markRead(n: Notification): Promise<void> {
    if (n.read) return;
    if (n.id.startsWith('local:')) {
      for (const x of this.local) if (x.id === n.id) x.read = true;
      this.saveLocal();
    } else {
      await this.api.markRead(n.id);
      for (const x of this.server) if (x.id === n.id) x.read = true;
      this.serverUnread = Math.max(0, this.serverUnread - 1);
    }
    this.events.emit('changed', undefined);
  }

  /** Marks the local entries of a conversation read (the user opened it). */
  markConversationRead(conversationId: string): void {
    let changed = false;
    for (const x of this.local) {
      if (!x.read && x.data.conversation_id === conversationId) {
        x.read = true;
        changed = true;
      }
    }
    if (!changed) return;
    this.saveLocal();
    this.events.emit('changed', undefined);
  }

  async markAllRead(): Promise<void> {
    for (const x of this.local) x.read = true;
    this.saveLocal();
    if (this.serverUnread > 0) {
      await this.api.markAllRead();
      for (const x of this.server) x.read = true;
      this.serverUnread = 0;
    }
    this.events.emit('changed', undefined);
  }

  private saveLocal(): void {
    if (this.storageKey) localStorage.setItem(this.storageKey, JSON.stringify(this.local));
  }
}
