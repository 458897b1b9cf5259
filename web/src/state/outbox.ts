// Messages the user sent that the server has not confirmed yet. Each has its
// client_msg_id from the moment it is typed; every attempt — over the WebSocket
// or, when that is down or silent, over HTTP — reuses it, so the server stores
// the message once however often it is sent (docs/api/openapi.yaml, messaging). Transient failures are
// retried with backoff; refusals (4xx) and exhausted retries leave the message
// "failed" with a retry button. Kept in localStorage, so a reload resends.
import type { Message } from '../api/types';
import type { Attachment } from '../api/media';
import type { SendBody } from '../api/messaging';
import { ApiError, isTransient } from '../api/errors';
import { Emitter } from '../util/emitter';
import { newId } from '../util/ids';

export interface PendingMessage {
  clientMsgId: string;
  conversationId: string;
  body: string;
  replyToSeq: number | null;
  createdAt: string;
  state: 'sending' | 'failed';
  error: string | null;
  attempts: number;
  /** An attachment message: its type, the upload, and what its bubble shows meanwhile. */
  media?: PendingMedia;
}

export interface PendingMedia {
  type: 'image' | 'voice' | 'video' | 'file';
  attachmentId: string;
  attachment: Attachment;
}

export interface OutboxTransport {
  /** Sends over the WebSocket; false when it is not connected. */
  sendLive(conversationId: string, body: SendBody): boolean;
  sendHttp(conversationId: string, body: SendBody): Promise<Message>;
}

const ACK_TIMEOUT_MS = 8_000;
const MAX_AUTO_ATTEMPTS = 6;

export class Outbox {
  readonly events = new Emitter<{ changed: string; sent: Message }>();
  private items: PendingMessage[] = [];
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private storageKey: string | null = null;

  constructor(private readonly transport: OutboxTransport) {}

  /** Loads the pending messages of the user (after sign-in or reload). */
  open(userId: string): void {
    this.storageKey = `tchat.outbox.${userId}`;
    try {
      this.items = JSON.parse(localStorage.getItem(this.storageKey) ?? '[]') as PendingMessage[];
    } catch {
      this.items = [];
    }
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.items = [];
    this.storageKey = null;
  }

  pending(conversationId: string): PendingMessage[] {
    return this.items.filter((p) => p.conversationId === conversationId);
  }

  enqueue(
    conversationId: string,
    body: string,
    replyToSeq: number | null,
    media?: PendingMedia,
  ): PendingMessage {
    const p: PendingMessage = {
      clientMsgId: newId(),
      conversationId,
      body,
      replyToSeq,
      createdAt: new Date().toISOString(),
      state: 'sending',
      error: null,
      attempts: 0,
    };
    if (media) p.media = media;
    this.items.push(p);
    this.changed(p);
    this.attempt(p, true);
    return p;
  }

  /** The user asked to try a failed message again. */
  retry(clientMsgId: string): void {
    const p = this.find(clientMsgId);
    if (!p) return;
    p.state = 'sending';
    p.error = null;
    p.attempts = 0;
    this.changed(p);
    this.attempt(p, true);
  }

  discard(clientMsgId: string): void {
    const p = this.find(clientMsgId);
    if (!p) return;
    this.forget(p);
  }

  /** Resends everything still waiting (the WebSocket is back). */
  flush(): void {
    for (const p of this.items) {
      if (p.state === 'sending') this.attempt(p, true);
    }
  }

  /**
   * The server's copy of a message arrived (ack, event, sync or HTTP answer):
   * the pending entry is done. Returns true when it was one of ours.
   */
  resolve(m: Message): boolean {
    if (!m.client_msg_id) return false;
    const p = this.find(m.client_msg_id);
    if (!p || p.conversationId !== m.conversation_id) return false;
    this.forget(p);
    this.events.emit('sent', m);
    return true;
  }

  /** The WebSocket refused a send: same handling as an HTTP refusal. */
  reject(clientMsgId: string, code: string, message: string): void {
    const p = this.find(clientMsgId);
    if (!p) return;
    this.clearTimer(p);
    const err = new ApiError(
      code === 'rate_limited' ? 429 : code === 'unavailable' ? 503 : 400,
      code,
      message,
    );
    this.failed(p, err);
  }

  private attempt(p: PendingMessage, preferLive: boolean): void {
    this.clearTimer(p);
    // Offline: wait. flush() runs when the WebSocket is back ("ready").
    if (!navigator.onLine) return;
    p.attempts++;
    const body: SendBody = { client_msg_id: p.clientMsgId, type: 'text', body: p.body };
    if (p.replyToSeq) body.reply_to_seq = p.replyToSeq;
    if (p.media) {
      body.type = p.media.type;
      body.attachment_id = p.media.attachmentId;
    }
    if (preferLive && this.transport.sendLive(p.conversationId, body)) {
      // No ack in time: the socket may be half-dead; go over HTTP instead.
      this.timers.set(
        p.clientMsgId,
        setTimeout(() => this.attempt(p, false), ACK_TIMEOUT_MS),
      );
      this.save();
      return;
    }
    this.transport.sendHttp(p.conversationId, body).then(
      (m) => this.resolve(m),
      (err) => this.failed(p, err),
    );
    this.save();
  }

  private failed(p: PendingMessage, err: unknown): void {
    if (!this.items.includes(p)) return;
    if (isTransient(err) && p.attempts < MAX_AUTO_ATTEMPTS) {
      const retryAfter = err instanceof ApiError && err.retryAfter ? err.retryAfter * 1000 : 0;
      const delay = Math.max(retryAfter, Math.min(30_000, 1000 * 2 ** (p.attempts - 1)));
      this.timers.set(
        p.clientMsgId,
        setTimeout(() => this.attempt(p, true), delay),
      );
      return;
    }
    p.state = 'failed';
    p.error = err instanceof Error ? err.message : String(err);
    this.changed(p);
  }

  private forget(p: PendingMessage): void {
    this.clearTimer(p);
    this.items = this.items.filter((x) => x !== p);
    this.changed(p);
  }

  private find(clientMsgId: string): PendingMessage | undefined {
    return this.items.find((p) => p.clientMsgId === clientMsgId);
  }

  private clearTimer(p: PendingMessage): void {
    const t = this.timers.get(p.clientMsgId);
    if (t) clearTimeout(t);
    this.timers.delete(p.clientMsgId);
  }

  private changed(p: PendingMessage): void {
    this.save();
    this.events.emit('changed', p.conversationId);
  }

  private save(): void {
    if (this.storageKey) localStorage.setItem(this.storageKey, JSON.stringify(this.items));
  }
}
