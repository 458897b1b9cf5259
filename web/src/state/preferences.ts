// Notification preferences (GET/PUT /v1/notification-preferences), loaded once
// and updated with read-modify-write: PUT replaces muted_conversations whole.
import type { NotificationApi } from '../api/notification';
import type { Preferences } from '../api/types';
import { Emitter } from '../util/emitter';

export class PreferencesState {
  readonly events = new Emitter<{ changed: Preferences }>();
  private value: Preferences | null = null;
  private loading: Promise<Preferences> | null = null;

  constructor(private readonly api: NotificationApi) {}

  get current(): Preferences | null {
    return this.value;
  }

  reset(): void {
    this.value = null;
    this.loading = null;
  }

  load(): Promise<Preferences> {
    if (this.value) return Promise.resolve(this.value);
    if (!this.loading) {
      this.loading = this.api.preferences().then(
        (p) => {
          this.set(p);
          return p;
        },
        (err) => {
          this.loading = null;
          throw err;
        },
      );
    }
    return this.loading;
  }

  async update(patch: Partial<Preferences>): Promise<Preferences> {
    const p = await this.api.updatePreferences(patch);
    this.set(p);
    return p;
  }

  isMuted(conversationId: string): boolean {
    const m = this.value?.muted_conversations.find((x) => x.conversation_id === conversationId);
    return !!m && (!m.until || new Date(m.until).getTime() > Date.now());
  }

  async setMuted(conversationId: string, muted: boolean): Promise<void> {
    const p = await this.load();
    const rest = p.muted_conversations.filter((x) => x.conversation_id !== conversationId);
    await this.update({
      muted_conversations: muted
        ? [...rest, { conversation_id: conversationId, until: null }]
        : rest,
    });
  }

  private set(p: Preferences): void {
    this.value = p;
    this.events.emit('changed', p);
  }
}
