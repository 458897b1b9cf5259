// Display helpers shared by the views: names, titles, times, previews.
import type { Conversation, Message } from '../api/types';
import { intlLocale, t } from '../i18n';
import { formatMoney } from '../util/money';
import type { Ctx } from './context';

export function userName(ctx: Ctx, id: string): string {
  if (id === ctx.session.user?.id) return t('common.you');
  const u = ctx.directory.get(id);
  if (!u) return ctx.directory.isDeleted(id) ? t('common.deletedAccount') : '…';
  return u.display_name || (u.username ? `@${u.username}` : t('common.unknownUser'));
}

/** The other member of a direct chat (null for groups). */
export function peerOf(ctx: Ctx, c: Conversation): string | null {
  if (c.type !== 'direct') return null;
  const me = ctx.session.user?.id;
  return c.members.find((m) => m.user_id !== me)?.user_id ?? null;
}

export function conversationTitle(ctx: Ctx, c: Conversation): string {
  if (c.type === 'group') return c.title || t('chats.group');
  const peer = peerOf(ctx, c);
  // A direct chat without the other member: their account was deleted.
  return peer ? userName(ctx, peer) : t('common.deletedAccount');
}

// Formatters are costly to create (each toLocale*String with options makes one):
// one per language and options, reused — a chat renders a time per message.
const formatters = new Map<string, Intl.DateTimeFormat | Intl.RelativeTimeFormat>();
function dateFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${intlLocale()}|${JSON.stringify(options)}`;
  let f = formatters.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(intlLocale(), options)));
  return f;
}
function relativeFormat(): Intl.RelativeTimeFormat {
  const key = `${intlLocale()}|relative`;
  let f = formatters.get(key) as Intl.RelativeTimeFormat | undefined;
  if (!f) formatters.set(key, (f = new Intl.RelativeTimeFormat(intlLocale(), { numeric: 'auto' })));
  return f;
}

/** "14:05" today, "Mon" this week, "3 Mar" before. */
export function shortTime(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) {
    return dateFormat({ hour: '2-digit', minute: '2-digit' }).format(d);
  }
  if (now.getTime() - d.getTime() < 6 * 86_400_000) {
    return dateFormat({ weekday: 'short' }).format(d);
  }
  return dateFormat({ day: 'numeric', month: 'short' }).format(d);
}

/** "now", "5 minutes ago", "yesterday" within a week; the date (shortTime) before. */
export function relativeTime(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const rtf = relativeFormat();
  const abs = Math.abs(seconds);
  if (abs < 45) return rtf.format(0, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), 'hour');
  if (abs < 7 * 86_400) return rtf.format(Math.round(seconds / 86_400), 'day');
  return shortTime(iso);
}

export function clockTime(iso: string): string {
  return dateFormat({ hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

export function fullTime(iso: string): string {
  return dateFormat({ dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function money(amount: number, currency: string): string {
  return formatMoney(amount, currency, intlLocale());
}

/** One line for the chat list and notifications. */
export function messagePreview(_ctx: Ctx, m: Message): string {
  if (m.deleted) return t('chat.deleted');
  if (m.type === 'payment' && m.payment) {
    const amount = money(m.payment.amount, m.payment.currency);
    const note = m.payment.note ? ` · ${m.payment.note}` : '';
    return `${m.payment.kind === 'request' ? '🧾' : '💸'} ${amount}${note}`;
  }
  if (m.type === 'system') return t('chat.system');
  if (m.type === 'image') return m.body ? `📷 ${m.body}` : `📷 ${t('media.photo')}`;
  if (m.type === 'video') return m.body ? `🎬 ${m.body}` : `🎬 ${t('media.video')}`;
  if (m.type === 'voice') return `🎤 ${t('media.voice')}`;
  if (m.type === 'file') return `📎 ${m.attachment?.filename ?? m.attachment?.name ?? ''}`;
  return m.body;
}
