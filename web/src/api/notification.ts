// Notification service calls (docs/api/openapi.yaml, notification).
import type { Http } from './http';
import type { Notification, Preferences } from './types';

export class NotificationApi {
  constructor(private readonly http: Http) {}

  list(
    cursor?: string | null,
  ): Promise<{ notifications: Notification[]; unread_count: number; next_cursor: string | null }> {
    return this.http.get('/v1/notifications', { query: { limit: 50, cursor } });
  }

  markRead(id: string): Promise<void> {
    return this.http.post(`/v1/notifications/${id}/read`);
  }

  markAllRead(): Promise<void> {
    return this.http.post('/v1/notifications/read-all');
  }

  preferences(): Promise<Preferences> {
    return this.http.get('/v1/notification-preferences');
  }

  /** Fields present replace the stored ones (muted_conversations as a whole). */
  updatePreferences(p: Partial<Preferences>): Promise<Preferences> {
    return this.http.put('/v1/notification-preferences', p);
  }
}
