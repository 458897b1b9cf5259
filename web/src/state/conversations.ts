// The conversation list: what GET /v1/conversations, /v1/sync and the live
// events say, merged. Unread counts are the server's, kept current locally
// between syncs (a message from someone else while the chat is not on screen
// adds one; reading sets it to what is left).
import type { Conversation, Message } from '../api/types';
import { Emitter } from '../util/emitter';

export class Conversations {
  readonly events = new Emitter<{ changed: string | null }>();
  private readonly map = new Map<string, Conversation>();
  /** True once the first list has arrived (before that, views show a spinner). */
  loaded = false;

  get(id: string): Conversation | undefined {
    return this.map.get(id);
  }

  /** Most recent activity first, as the API lists them. */
  list(): Conversation[] {
    return [...this.map.values()].sort((a, b) => activity(b).localeCompare(activity(a)));
  }

  totalUnread(): number {
    let n = 0;
    for (const c of this.map.values()) n += c.unread_count;
    return n;
  }

  /**
   * Stores the server's view of a conversation. `viewerRelative` is false for
   * conversation.updated events, whose unread_count is not the user's own.
   */
  upsert(c: Conversation, viewerRelative = true): void {
    const old = this.map.get(c.id);
    const merged: Conversation = { ...c };
    if (old) {
      if (!viewerRelative) merged.unread_count = old.unread_count;
      // A list page carries a group's own membership only: keep the others known.
      if (!hasAllMembers(c) && hasAllMembers(old) && old.member_count === c.member_count) {
        const fresh = new Map(c.members.map((m) => [m.user_id, m]));
        merged.members = old.members.map((m) => fresh.get(m.user_id) ?? m);
      }
      // Never go back to an older last message than one already seen live.
      if (old.last_seq > merged.last_seq) {
        merged.last_seq = old.last_seq;
        merged.last_message = old.last_message;
        merged.updated_at = old.updated_at > merged.updated_at ? old.updated_at : merged.updated_at;
      }
    }
    this.map.set(c.id, merged);
    this.events.emit('changed', c.id);
  }

  replaceAll(list: Conversation[]): void {
    this.map.clear();
    for (const c of list) this.map.set(c.id, c);
    this.loaded = true;
    this.events.emit('changed', null);
  }

  remove(id: string): void {
    if (this.map.delete(id)) this.events.emit('changed', id);
  }

  /**
   * Applies a new or changed message. Returns true when it is newer than
   * anything known for the conversation (so it may count as unread).
   */
  applyMessage(m: Message, countUnread: boolean): boolean {
    const c = this.map.get(m.conversation_id);
    if (!c) return false;
    const isNew = m.seq > c.last_seq;
    const next: Conversation = { ...c };
    if (isNew) {
      next.last_seq = m.seq;
      next.last_message = m;
      next.updated_at = m.created_at > c.updated_at ? m.created_at : c.updated_at;
      if (countUnread) next.unread_count = c.unread_count + 1;
    } else if (c.last_message && c.last_message.seq === m.seq) {
      next.last_message = m;
    } else {
      return false;
    }
    this.map.set(c.id, next);
    this.events.emit('changed', c.id);
    return isNew;
  }

  /** A member read up to `seq` (a receipt, or the user's own read on any device). */
  applyRead(conversationId: string, userId: string, seq: number, meId: string): void {
    const c = this.map.get(conversationId);
    if (!c) return;
    const members = c.members.map((m) =>
      m.user_id === userId ? { ...m, last_read_seq: Math.max(m.last_read_seq, seq) } : m,
    );
    const next: Conversation = { ...c, members };
    if (userId === meId) {
      // Approximate until the next sync: everything after `seq` counts as unread.
      next.unread_count = Math.min(c.unread_count, Math.max(0, c.last_seq - seq));
    }
    this.map.set(c.id, next);
    this.events.emit('changed', c.id);
  }

  setUnread(id: string, n: number): void {
    const c = this.map.get(id);
    if (!c || c.unread_count === n) return;
    this.map.set(id, { ...c, unread_count: n });
    this.events.emit('changed', id);
  }
}

/** False for a group from a list page (GET /v1/conversations): its own membership only. */
export function hasAllMembers(c: Conversation): boolean {
  return c.members.length >= c.member_count;
}

function activity(c: Conversation): string {
  return c.last_message?.created_at ?? c.updated_at ?? c.created_at;
}
