// Messaging service calls (docs/api/openapi.yaml, messaging).
import type { Http } from './http';
import type { Conversation, Message, MessageSearchPage, Presence, SyncResponse } from './types';

export interface SendBody {
  client_msg_id: string;
  type: 'text' | 'image' | 'voice' | 'video' | 'file';
  body: string;
  reply_to_seq?: number;
  /** An upload of the sender's (POST /v1/media) for image, voice, video and file. */
  attachment_id?: string;
}

export class MessagingApi {
  constructor(private readonly http: Http) {}

  conversations(
    cursor?: string,
  ): Promise<{ conversations: Conversation[]; next_cursor: string | null }> {
    return this.http.get('/v1/conversations', { query: { limit: 200, cursor } });
  }

  conversation(id: string): Promise<Conversation> {
    return this.http.get(`/v1/conversations/${id}`);
  }

  createDirect(userId: string): Promise<Conversation> {
    return this.http.post('/v1/conversations', { type: 'direct', member_ids: [userId] });
  }

  createGroup(title: string, memberIds: string[]): Promise<Conversation> {
    return this.http.post('/v1/conversations', { type: 'group', title, member_ids: memberIds });
  }

  /** Group owners and admins (posts a `title_changed` system message). */
  renameGroup(id: string, title: string): Promise<Conversation> {
    return this.http.patch(`/v1/conversations/${id}`, { title });
  }
  addMembers(id: string, userIds: string[]): Promise<Conversation> {
    return this.http.post(`/v1/conversations/${id}/members`, { user_ids: userIds });
  }
  /** Removes a member; with the caller's own id, leaves the group. */
  removeMember(id: string, userId: string): Promise<void> {
    return this.http.delete(`/v1/conversations/${id}/members/${encodeURIComponent(userId)}`);
  }
  /** The owner makes a member an admin or back. */
  setRole(id: string, userId: string, role: 'admin' | 'member'): Promise<Conversation> {
    return this.http.patch(`/v1/conversations/${id}/members/${encodeURIComponent(userId)}`, {
      role,
    });
  }
  /** Ascending page: the newest `limit` before `beforeSeq`, or after `afterSeq`. */
  messages(
    id: string,
    q: { beforeSeq?: number; afterSeq?: number; limit?: number },
  ): Promise<{ messages: Message[]; has_more: boolean }> {
    return this.http.get(`/v1/conversations/${id}/messages`, {
      query: { before_seq: q.beforeSeq, after_seq: q.afterSeq, limit: q.limit ?? 50 },
    });
  }

  /** Message search (newest first); `conversationId` narrows it to one chat. */
  searchMessages(
    q: string,
    opts: { conversationId?: string; cursor?: string; limit?: number } = {},
  ): Promise<MessageSearchPage> {
    return this.http.get('/v1/search/messages', {
      query: { q, conversation_id: opts.conversationId, cursor: opts.cursor, limit: opts.limit },
    });
  }

  /** The caller's groups whose title matches `q`. */
  searchConversations(q: string): Promise<{ conversations: Conversation[] }> {
    return this.http.get('/v1/search/conversations', { query: { q, limit: 10 } });
  }

  send(id: string, body: SendBody): Promise<Message> {
    return this.http.post(`/v1/conversations/${id}/messages`, body);
  }

  edit(id: string, seq: number, body: string): Promise<Message> {
    return this.http.patch(`/v1/conversations/${id}/messages/${seq}`, { body });
  }

  remove(id: string, seq: number): Promise<Message> {
    return this.http.delete(`/v1/conversations/${id}/messages/${seq}`);
  }

  react(id: string, seq: number, emoji: string, add: boolean): Promise<Message> {
    const path = `/v1/conversations/${id}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`;
    return add ? this.http.put(path) : this.http.delete(path);
  }

  markRead(id: string, seq: number): Promise<void> {
    return this.http.post(`/v1/conversations/${id}/read`, { seq });
  }

  typing(id: string): Promise<void> {
    return this.http.post(`/v1/conversations/${id}/typing`);
  }

  sync(since: string | null): Promise<SyncResponse> {
    return this.http.get('/v1/sync', { query: { since }, timeoutMs: 30_000 });
  }

  presence(userIds: string[]): Promise<{ presence: Presence[] }> {
    return this.http.get('/v1/presence', { query: { user_ids: userIds.join(',') } });
  }

  /** The users the caller blocked (ids). */
  async blocked(): Promise<string[]> {
    const r = await this.http.get<{ blocked_user_ids: string[] }>('/v1/blocks');
    return r.blocked_user_ids;
  }

  block(userId: string): Promise<void> {
    return this.http.post('/v1/blocks', { user_id: userId });
  }

  unblock(userId: string): Promise<void> {
    return this.http.delete(`/v1/blocks/${encodeURIComponent(userId)}`);
  }
}
