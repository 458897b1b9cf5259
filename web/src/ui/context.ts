// Everything a view needs, created once in main.ts and handed down. Views keep
// no global state of their own beyond their DOM.
import type { AuthApi } from '../api/auth';
import type { MediaApi } from '../api/media';
import type { MessagingApi } from '../api/messaging';
import type { NotificationApi } from '../api/notification';
import type { PaymentApi } from '../api/payment';
import type { Session } from '../api/session';
import type { Avatars } from '../state/avatars';
import type { Directory } from '../state/directory';
import type { InboxState } from '../state/inbox';
import type { Messenger } from '../state/messenger';
import type { PreferencesState } from '../state/preferences';
import type { PresenceState } from '../state/presence';
import type { Uploads } from '../state/uploads';
import type { WalletState } from '../state/wallet';
import type { Router } from './router';

export interface Ctx {
  session: Session;
  auth: AuthApi;
  messaging: MessagingApi;
  payment: PaymentApi;
  notification: NotificationApi;
  directory: Directory;
  presence: PresenceState;
  wallet: WalletState;
  preferences: PreferencesState;
  inbox: InboxState;
  messenger: Messenger;
  /** Attachments: signed URLs (media) and uploads in progress (uploads). */
  media: MediaApi;
  /** Profile photos (messaging's avatars). */
  avatars: Avatars;
  uploads: Uploads;
  router: Router;
  toast(message: string, kind?: 'info' | 'error'): void;
  /** Re-renders the whole interface (after a language change). */
  rerender(): void;
}

/** A mounted piece of interface: its root element and how to tear it down. */
export interface View {
  readonly el: HTMLElement;
  dispose(): void;
}
