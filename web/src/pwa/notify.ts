// Browser notifications (the Notification API) for new messages while the client
// is open but not in front (another tab, minimised). Off until the person turns it
// on in settings; the permission is asked from that click, never at load. The
// choice is this device's (localStorage), like the browser's permission. Muted
// conversations stay silent; one notification per conversation is kept (tag).
import type { RealtimeSocket } from '../realtime/socket';
import { t } from '../i18n';
import type { Ctx } from '../ui/context';
import { conversationTitle, messagePreview, userName } from '../ui/format';
import { chatPath } from '../ui/router';
import { h, replaceChildren } from '../util/dom';

const KEY = 'tchat.browser-notifications';

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

function enabled(): boolean {
  return (
    notificationsSupported() &&
    Notification.permission === 'granted' &&
    localStorage.getItem(KEY) === 'on'
  );
}

/** Shows a notification for each new message from someone else while the page is hidden. */
export function watchForNotifications(ctx: Ctx, socket: RealtimeSocket): void {
  socket.events.on('event', (ev) => {
    if (ev.type !== 'message.new' || document.visibilityState !== 'hidden' || !enabled()) return;
    const m = ev.message;
    const me = ctx.session.user?.id;
    if (!me || m.sender_id === me || m.type === 'system') return;
    if (ctx.preferences.isMuted(m.conversation_id)) return;
    const c = ctx.messenger.conversations.get(m.conversation_id);
    const sender = userName(ctx, m.sender_id);
    const title = c && c.type !== 'direct' ? conversationTitle(ctx, c) : sender;
    const text = messagePreview(ctx, m);
    const n = new Notification(title, {
      body: c && c.type !== 'direct' ? `${sender}: ${text}` : text,
      tag: m.conversation_id,
      icon: '/icons/icon-192.png',
      lang: document.documentElement.lang,
    });
    n.onclick = () => {
      window.focus();
      ctx.router.go(chatPath(m.conversation_id));
      n.close();
    };
  });
}

/** The settings card: state and the one button that turns it on (asking permission) or off. */
export function notificationsCard(): HTMLElement {
  const body = h('div', { class: 'stack' });
  const render = () => {
    const supported = notificationsSupported();
    const permission = supported ? Notification.permission : 'denied';
    const on = enabled();
    const status = !supported
      ? t('pwa.notify.unsupported')
      : permission === 'denied'
        ? t('pwa.notify.blocked')
        : on
          ? t('pwa.notify.on')
          : t('pwa.notify.off');
    const button =
      supported && permission !== 'denied'
        ? h(
            'button',
            {
              type: 'button',
              'data-testid': 'browser-notifications-toggle',
              'aria-pressed': on ? 'true' : 'false',
              onClick: async () => {
                if (on) {
                  localStorage.removeItem(KEY);
                } else {
                  // Asked from this click (a user gesture), as browsers require.
                  const answer = await Notification.requestPermission();
                  if (answer === 'granted') localStorage.setItem(KEY, 'on');
                }
                render();
              },
            },
            on ? t('pwa.notify.turnOff') : t('pwa.notify.turnOn'),
          )
        : null;
    replaceChildren(
      body,
      h('p', { class: 'muted', 'data-testid': 'browser-notifications-status' }, status),
      button,
    );
  };
  render();
  return h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'browser-notify-title' },
    h('h2', { id: 'browser-notify-title' }, t('pwa.notify.title')),
    h('p', null, t('pwa.notify.hint')),
    body,
  );
}
