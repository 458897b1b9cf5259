// Per-conversation notification preferences: mute for 1 hour, 8 hours or until
// unmuted (`muted_conversations[].until` of PUT /v1/notification-preferences,
// null for ever), from the bell in a chat's header; Settings lists them.
import { t, tn } from '../../i18n';
import type { MenuItem } from '../components/menu';
import { showMenu } from '../components/menu';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { clockTime, fullTime } from '../format';

const HOUR_MS = 3_600_000;

/** Mutes for `hours` (null: until unmuted); read-modify-write, as PUT replaces the list. */
export async function muteFor(ctx: Ctx, id: string, hours: number | null): Promise<void> {
  const p = await ctx.preferences.load();
  const rest = p.muted_conversations.filter((x) => x.conversation_id !== id);
  const until = hours === null ? null : new Date(Date.now() + hours * HOUR_MS).toISOString();
  await ctx.preferences.update({
    muted_conversations: [...rest, { conversation_id: id, until }],
  });
}

/** "Muted until 14:30" / "Muted" (for ever) / null when not muted now. */
export function muteState(ctx: Ctx, id: string): string | null {
  if (!ctx.preferences.isMuted(id)) return null;
  const m = ctx.preferences.current?.muted_conversations.find((x) => x.conversation_id === id);
  return m?.until ? t('mute.until', { time: untilText(m.until) }) : t('mute.always');
}

/** Today's clock time, or the date and time for later days. */
export function untilText(iso: string): string {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? clockTime(iso) : fullTime(iso);
}

export function openMuteMenu(ctx: Ctx, id: string, anchor: HTMLElement): void {
  const run = (work: () => Promise<void>) => () =>
    void work().catch((err) => ctx.toast(errorText(err), 'error'));
  const items: MenuItem[] = [
    { label: tn('mute.forHours', 1), action: run(() => muteFor(ctx, id, 1)) },
    { label: tn('mute.forHours', 8), action: run(() => muteFor(ctx, id, 8)) },
    { label: t('mute.forever'), action: run(() => muteFor(ctx, id, null)) },
  ];
  const groups: MenuItem[][] = [items];
  if (ctx.preferences.isMuted(id)) {
    groups.push([
      { label: t('chat.unmute'), action: run(() => ctx.preferences.setMuted(id, false)) },
    ]);
  }
  showMenu(anchor, groups);
}
