// History-API routes (the gateway falls back to index.html for unknown paths):
//   /            chat list (on a desktop: list + empty pane)
//   /c/<id>      one chat (?m=<seq>: open at that message, a search result)
//   /wallet      balances, top-up, history (?topup=<id> after the provider page)
//   /inbox       notifications
//   /settings    profile, language, notification preferences, blocked people,
//                password, devices
import { Emitter } from '../util/emitter';

export type Route =
  | { name: 'chats' }
  | { name: 'chat'; id: string; seq: number | null }
  | { name: 'wallet'; topup: string | null }
  | { name: 'inbox' }
  | { name: 'settings' };

export class Router {
  readonly events = new Emitter<{ change: Route }>();
  private routeValue: Route = parse(location);

  constructor() {
    window.addEventListener('popstate', () => this.update());
    // Same-origin links marked data-link navigate without a page load.
    document.addEventListener('click', (e) => {
      const a = (e.target as Element | null)?.closest?.('a[data-link]') as HTMLAnchorElement | null;
      if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey)
        return;
      e.preventDefault();
      this.go(a.getAttribute('href') ?? '/');
    });
  }

  get route(): Route {
    return this.routeValue;
  }

  go(path: string, replace = false): void {
    if (path === location.pathname + location.search) return;
    if (replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    this.update();
  }

  private update(): void {
    this.routeValue = parse(location);
    this.events.emit('change', this.routeValue);
  }
}

function parse(loc: Location): Route {
  const path = loc.pathname;
  const chat = /^\/c\/([0-9a-fA-F-]{8,64})\/?$/.exec(path);
  if (chat) {
    const m = new URLSearchParams(loc.search).get('m');
    const seq = m && /^[1-9][0-9]{0,15}$/.test(m) ? Number(m) : null;
    return { name: 'chat', id: chat[1]!.toLowerCase(), seq };
  }
  if (path === '/wallet')
    return { name: 'wallet', topup: new URLSearchParams(loc.search).get('topup') };
  if (path === '/inbox') return { name: 'inbox' };
  if (path === '/settings') return { name: 'settings' };
  return { name: 'chats' };
}

export function chatPath(id: string): string {
  return `/c/${id}`;
}
