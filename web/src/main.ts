// Entry point: builds the API clients and state once and mounts the app.
import './styles.css';
import { AuthApi } from './api/auth';
import { Http } from './api/http';
import { MediaApi } from './api/media';
import { MessagingApi } from './api/messaging';
import { NotificationApi } from './api/notification';
import { PaymentApi } from './api/payment';
import { Session } from './api/session';
import { RealtimeSocket } from './realtime/socket';
import { Avatars } from './state/avatars';
import { Directory } from './state/directory';
import { InboxState } from './state/inbox';
import { Messenger } from './state/messenger';
import { PreferencesState } from './state/preferences';
import { PresenceState } from './state/presence';
import { Uploads } from './state/uploads';
import { WalletState } from './state/wallet';
import { initLocale } from './i18n';
import { startPwa } from './pwa';
import { App } from './ui/app';
import { useAvatarPhotos } from './ui/components/avatar';
import { toast } from './ui/components/toast';
import type { Ctx } from './ui/context';
import { Router } from './ui/router';

const http = new Http('');
const auth = new AuthApi(http);
const session = new Session((refreshToken) => auth.refresh(refreshToken));
http.setTokenSource(session);
const messaging = new MessagingApi(http);
const payment = new PaymentApi(http);
const notification = new NotificationApi(http);

// The WebSocket authenticates with ?access_token= (browsers cannot set headers
// on it); after repeated refusals the token is refreshed before the next try.
const socket = new RealtimeSocket(async (forceRefresh) => {
  if (forceRefresh) await session.refresh();
  const token = await session.accessToken();
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/v1/ws?access_token=${encodeURIComponent(token)}`;
});

// The server closes a socket (4001) when its token expires: an open socket adopts
// every refreshed token instead, so a long-open tab is not cut.
session.events.on('token', (token) => {
  socket.send({ type: 'auth', access_token: token });
});

const directory = new Directory(auth);
const presence = new PresenceState(messaging);
const wallet = new WalletState(payment);
const inbox = new InboxState(notification);
const preferences = new PreferencesState(notification);
const messenger = new Messenger(messaging, session, socket, directory, presence, wallet, inbox);
const media = new MediaApi(http, session);
const avatars = new Avatars(http);
useAvatarPhotos(avatars);
const uploads = new Uploads(media, messenger);
const router = new Router();

let app: App | null = null;
const ctx: Ctx = {
  session,
  auth,
  messaging,
  payment,
  notification,
  directory,
  presence,
  wallet,
  preferences,
  inbox,
  messenger,
  media,
  avatars,
  uploads,
  router,
  toast,
  rerender: () => app?.render(),
};
startPwa(ctx, socket);
// The saved or the browser's language first (its table is a chunk of its own).
void initLocale().then(() => {
  app = new App(document.getElementById('app')!, ctx);
});
