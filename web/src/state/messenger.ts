// Ties the messaging pieces together: the WebSocket's events, /v1/sync catch-up,
// the per-conversation message caches, the outbox, read receipts and typing.
//
// Consistency rule: every message, whichever way it arrives (event, ack, sync,
// history page, HTTP answer), goes through onMessage(), which stores it by seq;
// so duplicates collapse and the order is always the server's.
import type { MessagingApi, SendBody } from '../api/messaging';
import type { Conversation, Message } from '../api/types';
import type { Session } from '../api/session';
import type { ServerEvent } from '../realtime/events';
import type { RealtimeSocket, SocketStatus } from '../realtime/socket';
import { Emitter } from '../util/emitter';
import { Conversations, hasAllMembers } from './conversations';
import type { Directory } from './directory';
import type { InboxState } from './inbox';
import { MessageCache } from './message-cache';
import { Outbox, type PendingMedia } from './outbox';
import type { PresenceState } from './presence';
import { TypingState } from './typing';
import type { WalletState } from './wallet';

const PAGE = 50;
/** The history API's largest page. */
const AROUND_MAX = 200;
/** A jump this far below the range held extends it; a farther one opens a window. */
const AROUND_NEAR = 2 * PAGE;
const TYPING_EVERY_MS = 3_000;

type Source = 'live' | 'sync' | 'history';

export class Messenger {
  readonly events = new Emitter<{ messages: string; status: SocketStatus; synced: void }>();
  readonly conversations = new Conversations();
  readonly typing = new TypingState();
  readonly outbox: Outbox;
  private readonly caches = new Map<string, MessageCache>();
  private active: string | null = null;
  private me = '';
  private syncToken: string | null = null;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private readonly typingSentAt = new Map<string, number>();
  private readonly readSent = new Map<string, number>();
  private readTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribe: (() => void)[] = [];

  constructor(
    private readonly api: MessagingApi,
    private readonly session: Session,
    private readonly socket: RealtimeSocket,
    private readonly directory: Directory,
    private readonly presence: PresenceState,
    private readonly wallet: WalletState,
    private readonly inbox: InboxState,
  ) {
    this.outbox = new Outbox({
      sendLive: (conversationId, message) =>
        this.socket.send({ type: 'message.send', conversation_id: conversationId, message }),
      sendHttp: (conversationId, body: SendBody) => this.api.send(conversationId, body),
    });
    this.outbox.events.on('sent', (m) => this.onMessage(m, 'live'));
    this.outbox.events.on('changed', (c) => this.events.emit('messages', c));
  }

  get status(): SocketStatus {
    return this.socket.status;
  }

  get meId(): string {
    return this.me;
  }

  /** Starts for the signed-in user: list, socket, catch-up. */
  start(): void {
    const user = this.session.user;
    if (!user) return;
    this.me = user.id;
    this.syncToken = localStorage.getItem(this.syncKey());
    this.outbox.open(user.id);
    this.unsubscribe.push(
      this.socket.events.on('event', (ev) => this.handle(ev)),
      this.socket.events.on('status', (s) => this.events.emit('status', s)),
    );
    const onVisible = () => {
      if (document.visibilityState === 'visible' && this.active) this.scheduleRead(this.active);
    };
    document.addEventListener('visibilitychange', onVisible);
    this.unsubscribe.push(() => document.removeEventListener('visibilitychange', onVisible));
    void this.loadList();
    this.socket.start();
  }

  stop(): void {
    this.socket.stop();
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.outbox.close();
    this.caches.clear();
    this.conversations.replaceAll([]);
    this.conversations.loaded = false;
    this.active = null;
  }

  // ---- conversations ----

  cache(conversationId: string): MessageCache {
    let c = this.caches.get(conversationId);
    if (!c) {
      c = new MessageCache(conversationId);
      this.caches.set(conversationId, c);
    }
    return c;
  }

  /** The chat on screen (null: none). Its messages count as read while visible. */
  setActive(conversationId: string | null): void {
    this.active = conversationId;
    if (conversationId) {
      this.scheduleRead(conversationId);
      void this.ensureMembers(conversationId);
    }
  }

  /** A group known from a list page has its own membership only: fetches all. */
  async ensureMembers(id: string): Promise<void> {
    const known = this.conversations.get(id);
    if (!known || hasAllMembers(known)) return;
    try {
      this.adoptConversation(await this.api.conversation(id), true);
    } catch {
      // Offline: the list's count stands until the chat is opened again.
    }
  }

  async ensureConversation(id: string): Promise<Conversation | null> {
    const known = this.conversations.get(id);
    if (known) return known;
    try {
      const c = await this.api.conversation(id);
      this.adoptConversation(c, true);
      return c;
    } catch {
      return null;
    }
  }

  async createDirect(userId: string): Promise<Conversation> {
    const c = await this.api.createDirect(userId);
    this.adoptConversation(c, true);
    return c;
  }

  async createGroup(title: string, memberIds: string[]): Promise<Conversation> {
    const c = await this.api.createGroup(title, memberIds);
    this.adoptConversation(c, true);
    return c;
  }

  // ---- history ----

  /** Loads the newest page once; later calls return at once. */
  async openHistory(conversationId: string): Promise<void> {
    const cache = this.cache(conversationId);
    if (cache.loaded) return;
    const page = await this.api.messages(conversationId, { limit: PAGE });
    if (page.has_more && page.messages.length) cache.dropBefore(page.messages[0]!.seq);
    for (const m of page.messages) this.onMessage(m, 'history');
    cache.hasOlder = page.has_more;
    cache.loaded = true;
    this.events.emit('messages', conversationId);
  }

  /** One more page of older messages (infinite scroll). */
  async loadOlder(conversationId: string): Promise<void> {
    const cache = this.cache(conversationId);
    const oldest = cache.oldestSeq;
    if (!cache.hasOlder || oldest === null || oldest <= 1) {
      cache.hasOlder = false;
      return;
    }
    const page = await this.api.messages(conversationId, { beforeSeq: oldest, limit: PAGE });
    for (const m of page.messages) this.onMessage(m, 'history');
    cache.hasOlder = page.has_more;
    this.events.emit('messages', conversationId);
  }

  /**
   * Loads the history around `seq` (a search result): the range held is extended
   * down to it when that is two pages at most, else replaced by a window of a page
   * around it (`before_seq` = seq + half a page), which grows as the user scrolls
   * either way (loadOlder, loadNewer).
   */
  async openAround(conversationId: string, seq: number): Promise<void> {
    await this.openHistory(conversationId);
    const cache = this.cache(conversationId);
    const want = Math.max(1, seq - 5);
    if (cache.get(seq) || (cache.oldestSeq ?? 0) <= want) return;
    if ((cache.oldestSeq ?? 0) - want <= AROUND_NEAR) {
      while (cache.hasOlder && (cache.oldestSeq ?? 0) > want) {
        const oldest = cache.oldestSeq!;
        const limit = Math.min(AROUND_MAX, Math.max(PAGE, oldest - want));
        const page = await this.api.messages(conversationId, { beforeSeq: oldest, limit });
        for (const m of page.messages) this.onMessage(m, 'history');
        cache.hasOlder = page.has_more;
        if (!page.messages.length) break;
      }
    } else {
      const page = await this.api.messages(conversationId, {
        beforeSeq: seq + PAGE / 2,
        limit: PAGE,
      });
      cache.clear();
      for (const m of page.messages) this.onMessage(m, 'history');
      cache.hasOlder = page.has_more;
      const last = this.conversations.get(conversationId)?.last_seq ?? 0;
      cache.hasNewer = cache.newestSeq < last;
      cache.loaded = true;
    }
    this.events.emit('messages', conversationId);
  }

  /** One more page of newer messages, in a window (see openAround). */
  async loadNewer(conversationId: string): Promise<void> {
    const cache = this.cache(conversationId);
    if (!cache.hasNewer) return;
    const page = await this.api.messages(conversationId, {
      afterSeq: cache.newestSeq,
      limit: PAGE,
    });
    for (const m of page.messages) this.onMessage(m, 'history');
    cache.hasNewer = page.has_more;
    this.events.emit('messages', conversationId);
  }

  /** Leaves a window for the newest page (before sending, "latest"). */
  async openLatest(conversationId: string): Promise<void> {
    const cache = this.cache(conversationId);
    if (!cache.hasNewer) return;
    cache.clear();
    await this.openHistory(conversationId);
  }

  // ---- sending and acting on messages ----

  sendText(conversationId: string, body: string, replyToSeq: number | null): void {
    this.outbox.enqueue(conversationId, body, replyToSeq);
    this.typingSentAt.delete(conversationId);
  }

  /** An uploaded attachment as a message (the outbox retries it like text). */
  sendMedia(conversationId: string, media: PendingMedia, caption = ''): void {
    this.outbox.enqueue(conversationId, caption, null, media);
  }

  async edit(conversationId: string, seq: number, body: string): Promise<void> {
    this.onMessage(await this.api.edit(conversationId, seq, body), 'live');
  }

  async remove(conversationId: string, seq: number): Promise<void> {
    this.onMessage(await this.api.remove(conversationId, seq), 'live');
  }

  async toggleReaction(conversationId: string, seq: number, emoji: string): Promise<void> {
    const m = this.cache(conversationId).get(seq);
    const mine = m?.reactions[emoji]?.includes(this.me) ?? false;
    this.onMessage(await this.api.react(conversationId, seq, emoji, !mine), 'live');
  }

  /** The user is typing: tell the others, at most every few seconds. */
  userTyping(conversationId: string): void {
    const now = Date.now();
    if (now - (this.typingSentAt.get(conversationId) ?? 0) < TYPING_EVERY_MS) return;
    if (this.socket.send({ type: 'typing', conversation_id: conversationId })) {
      this.typingSentAt.set(conversationId, now);
    }
  }

  // ---- events ----

  private handle(ev: ServerEvent): void {
    switch (ev.type) {
      case 'ready':
        // Subscriptions are in place: resend what waits, then catch up (no gap).
        this.outbox.flush();
        void this.sync();
        break;
      case 'sync.required':
        void this.sync();
        break;
      case 'message.new':
      case 'message.updated':
      case 'message.deleted':
      case 'reaction':
        this.onMessage(ev.message, 'live');
        break;
      case 'ack':
        this.outbox.resolve(ev.message);
        this.onMessage(ev.message, 'live');
        break;
      case 'error':
        if (ev.client_msg_id) this.outbox.reject(ev.client_msg_id, ev.error.code, ev.error.message);
        break;
      case 'read':
        this.conversations.applyRead(ev.conversation_id, ev.read.user_id, ev.read.seq, this.me);
        if (ev.read.user_id === this.me) this.inbox.markConversationRead(ev.conversation_id);
        this.events.emit('messages', ev.conversation_id);
        break;
      case 'typing':
        if (ev.typing.user_id !== this.me) this.typing.saw(ev.conversation_id, ev.typing.user_id);
        break;
      case 'presence':
        this.presence.apply(ev.presence);
        break;
      case 'conversation.updated':
        if (ev.removed || !ev.conversation) {
          this.conversations.remove(ev.conversation_id);
          this.caches.delete(ev.conversation_id);
        } else {
          this.adoptConversation(ev.conversation, false);
        }
        break;
      case 'pong':
      case 'auth.ok':
        break;
    }
  }

  private onMessage(m: Message, source: Source): void {
    if (m.sender_id === this.me) this.outbox.resolve(m);
    const cache = this.caches.get(m.conversation_id);
    const gap =
      cache?.loaded && !cache.hasNewer && source === 'live' && m.seq > cache.newestSeq + 1;
    const changed = cache ? cache.upsert(m, source === 'history') : false;
    const conv = this.conversations.get(m.conversation_id);
    if (!conv) {
      // A conversation this client has not heard of yet (created elsewhere).
      void this.ensureConversation(m.conversation_id);
    }
    const viewing = this.isViewing(m.conversation_id);
    const fromOther = m.sender_id !== this.me;
    const isNew = this.conversations.applyMessage(
      m,
      source === 'live' && fromOther && !viewing && m.type !== 'system',
    );
    if (isNew && fromOther) this.typing.stopped(m.conversation_id, m.sender_id);
    if (viewing && isNew) this.scheduleRead(m.conversation_id);
    if (isNew && source !== 'history' && m.type === 'payment' && this.involvesMe(m)) {
      void this.wallet.refresh();
      void this.inbox.refresh();
    }
    if (gap) void this.fetchAfter(m.conversation_id, cache!.newestSeq);
    if (changed || isNew) this.events.emit('messages', m.conversation_id);
  }

  private involvesMe(m: Message): boolean {
    return m.payment?.from_user_id === this.me || m.payment?.to_user_id === this.me;
  }

  private isViewing(conversationId: string): boolean {
    return this.active === conversationId && document.visibilityState === 'visible';
  }

  private adoptConversation(c: Conversation, viewerRelative: boolean): void {
    this.conversations.upsert(c, viewerRelative);
    const others = c.members.map((m) => m.user_id).filter((id) => id !== this.me);
    this.directory.ensure(others);
    if (c.type === 'direct') void this.presence.load(others.filter((id) => !this.presence.get(id)));
  }

  // ---- list and catch-up ----

  private async loadList(): Promise<void> {
    try {
      const all: Conversation[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.api.conversations(cursor);
        all.push(...page.conversations);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      this.conversations.replaceAll(all);
      this.afterList(all);
    } catch {
      // Offline at start: the first sync after the socket connects fills the list.
    }
  }

  private afterList(list: Conversation[]): void {
    const people = new Set<string>();
    const direct = new Set<string>();
    for (const c of list) {
      for (const m of c.members) {
        if (m.user_id === this.me) continue;
        people.add(m.user_id);
        if (c.type === 'direct') direct.add(m.user_id);
      }
    }
    this.directory.ensure(people);
    void this.presence.load([...direct]);
  }

  /** Catches up with /v1/sync; calls while one runs fold into one more run. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        try {
          await this.syncOnce();
        } catch {
          // The socket's next "ready" (or sync.required) tries again.
        }
      } while (this.syncAgain);
    })().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const since = this.syncToken;
    const r = await this.api.sync(since);
    // What this client had seen before, to tell which messages it missed.

    if (r.full) {
      this.conversations.replaceAll(r.conversations);
      this.afterList(r.conversations);
    } else {
      for (const c of r.conversations) this.adoptConversation(c, true);
    }
    for (const id of r.removed_conversation_ids) {
      this.conversations.remove(id);
      this.caches.delete(id);
    }
    for (const m of r.messages) {
      this.onMessage(m, 'sync');
    }
    for (const id of r.truncated_conversation_ids) {
      const cache = this.caches.get(id);
      if (cache?.loaded) await this.fetchAfter(id, cache.newestSeq);
    }
    this.syncToken = r.token;
    localStorage.setItem(this.syncKey(), r.token);
    if (this.active) this.scheduleRead(this.active);
    // What arrived while away is in the inbox now (the service wrote it).
    void this.inbox.refresh();
    this.events.emit('synced', undefined);
  }

  private async fetchAfter(conversationId: string, afterSeq: number): Promise<void> {
    let after = afterSeq;
    for (let i = 0; i < 20; i++) {
      const page = await this.api.messages(conversationId, { afterSeq: after, limit: 200 });
      for (const m of page.messages) this.onMessage(m, 'history');
      if (!page.has_more || !page.messages.length) break;
      after = page.messages[page.messages.length - 1]!.seq;
    }
    this.events.emit('messages', conversationId);
  }

  // ---- read receipts ----

  private scheduleRead(conversationId: string): void {
    if (this.readTimer) clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => this.sendRead(conversationId), 250);
  }

  private sendRead(conversationId: string): void {
    if (!this.isViewing(conversationId)) return;
    const c = this.conversations.get(conversationId);
    if (!c) return;
    this.conversations.setUnread(conversationId, 0);
    this.inbox.markConversationRead(conversationId);
    const seq = c.last_seq;
    const mine = c.members.find((m) => m.user_id === this.me)?.last_read_seq ?? 0;
    if (seq <= mine || seq <= (this.readSent.get(conversationId) ?? 0)) return;
    this.readSent.set(conversationId, seq);
    if (!this.socket.send({ type: 'read', conversation_id: conversationId, seq })) {
      if (!navigator.onLine) {
        this.readSent.delete(conversationId); // sent after the next sync instead
        return;
      }
      this.api.markRead(conversationId, seq).catch(() => this.readSent.delete(conversationId));
    }
  }

  private syncKey(): string {
    return `tchat.sync.${this.me}`;
  }
}
