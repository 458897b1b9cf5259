// Who is typing where. Typing events are ephemeral (docs/api/openapi.yaml, messaging): a person counts as
// typing for a few seconds after their last event, or until their message lands.
import { Emitter } from '../util/emitter';

const SHOW_FOR_MS = 5_000;

export class TypingState {
  readonly events = new Emitter<{ changed: string }>();
  private readonly byConversation = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();

  saw(conversationId: string, userId: string): void {
    let users = this.byConversation.get(conversationId);
    if (!users) {
      users = new Map();
      this.byConversation.set(conversationId, users);
    }
    const old = users.get(userId);
    if (old) clearTimeout(old);
    users.set(
      userId,
      setTimeout(() => this.stopped(conversationId, userId), SHOW_FOR_MS),
    );
    if (!old) this.events.emit('changed', conversationId);
  }

  stopped(conversationId: string, userId: string): void {
    const users = this.byConversation.get(conversationId);
    const t = users?.get(userId);
    if (!users || t === undefined) return;
    clearTimeout(t);
    users.delete(userId);
    this.events.emit('changed', conversationId);
  }

  users(conversationId: string): string[] {
    return [...(this.byConversation.get(conversationId)?.keys() ?? [])];
  }
}
