// After the client ran on answers the service worker kept (sw/service-worker.js
// posts "offline-copy" for each one it serves), the first catch-up once back online
// replaces them: /v1/sync only brings what changed after this device's last sync,
// and a kept copy may be older than that. So the conversation list is read again
// (merged: nothing live is lost) and each chat whose page was a copy loads its
// newest page again (at once for the chat on screen, else when opened).
import type { Ctx } from '../ui/context';
import type { Conversation } from '../api/types';

const MESSAGES = /^\/v1\/conversations\/([0-9a-fA-F-]+)\/messages$/;

export function refreshOfflineCopies(ctx: Ctx): void {
  if (!('serviceWorker' in navigator)) return;
  let listStale = false;
  const staleChats = new Set<string>();
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const data = e.data as { type?: string; path?: string } | null;
    if (data?.type !== 'offline-copy' || typeof data.path !== 'string') return;
    const chat = MESSAGES.exec(data.path);
    if (chat) staleChats.add(chat[1]!.toLowerCase());
    else if (data.path === '/v1/conversations') listStale = true;
  });
  ctx.messenger.events.on('synced', () => {
    if (listStale) {
      listStale = false;
      void reloadList(ctx).catch(() => {
        listStale = true; // the next catch-up tries again
      });
    }
    const route = ctx.router.route;
    for (const id of staleChats) {
      ctx.messenger.cache(id).loaded = false;
      if (route.name === 'chat' && route.id === id) {
        void ctx.messenger.openHistory(id).catch(() => undefined);
      }
    }
    staleChats.clear();
  });
}

async function reloadList(ctx: Ctx): Promise<void> {
  const all: Conversation[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.messaging.conversations(cursor);
    all.push(...page.conversations);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  for (const c of all) ctx.messenger.conversations.upsert(c);
}
