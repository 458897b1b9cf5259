// Online dots: GET /v1/presence for the people in the user's direct chats, then
// kept current by presence events.
import type { MessagingApi } from '../api/messaging';
import type { Presence } from '../api/types';
import { Emitter } from '../util/emitter';

export class PresenceState {
  readonly events = new Emitter<{ changed: string }>();
  private readonly map = new Map<string, Presence>();

  constructor(private readonly api: MessagingApi) {}

  online(userId: string): boolean {
    return this.map.get(userId)?.online ?? false;
  }

  get(userId: string): Presence | undefined {
    return this.map.get(userId);
  }

  apply(p: Presence): void {
    this.map.set(p.user_id, p);
    this.events.emit('changed', p.user_id);
  }

  async load(userIds: string[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += 200) {
      const chunk = userIds.slice(i, i + 200);
      if (!chunk.length) continue;
      try {
        const r = await this.api.presence(chunk);
        for (const p of r.presence) this.apply(p);
      } catch {
        // Presence is decoration: the next event or reload fixes it.
      }
    }
  }
}
