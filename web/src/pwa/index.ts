// The installable and offline part of the client (web/README.md, "Installable and
// offline"), started once from main.ts.
import type { RealtimeSocket } from '../realtime/socket';
import type { Ctx } from '../ui/context';
import { watchForNotifications } from './notify';
import { refreshOfflineCopies } from './offline';
import { forgetOfflineCopies, registerServiceWorker } from './register';
import './pwa.css';

export function startPwa(ctx: Ctx, socket: RealtimeSocket): void {
  registerServiceWorker();
  refreshOfflineCopies(ctx);
  watchForNotifications(ctx, socket);
  // Signing out on purpose leaves nothing of the account on this device.
  ctx.session.events.on('change', (reason) => {
    if (reason === 'user') forgetOfflineCopies();
  });
}
