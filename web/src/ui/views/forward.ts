// Forwarding attachments to another chat, and a photo grid's menu: the same media is sent again by its id
// (docs/api/openapi.yaml, MessageInput: an attachment_id the user can see, posted
// in one of their chats), without a new upload. The messages go through the
// outbox like any other, so they are retried and shown as pending meanwhile.
import type { Attachment } from '../../api/media';
import type { Message } from '../../api/types';
import { t, tn } from '../../i18n';
import { h } from '../../util/dom';
import { avatar } from '../components/avatar';
import { confirmDialog } from '../components/confirm';
import { openDialog } from '../components/dialog';
import { showMenu, type MenuItem } from '../components/menu';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { conversationTitle, peerOf } from '../format';

export interface Forwardable {
  type: 'image' | 'voice' | 'video' | 'file';
  attachment: Attachment;
}

/** What can be forwarded of a message: an uploaded attachment (not an outside link). */
export function forwardable(m: Message): Forwardable | null {
  if (m.deleted || !m.attachment?.id) return null;
  if (m.type !== 'image' && m.type !== 'voice' && m.type !== 'video' && m.type !== 'file') {
    return null;
  }
  return { type: m.type, attachment: m.attachment };
}

/** The chat picker: a tap on a chat sends the attachments there, in order. */
export function openForwardDialog(ctx: Ctx, items: Forwardable[]): void {
  const chats = ctx.messenger.conversations.list();
  const send = (conversationId: string, name: string) => {
    for (const it of items) {
      ctx.messenger.sendMedia(conversationId, {
        type: it.type,
        attachmentId: it.attachment.id!,
        attachment: it.attachment,
      });
    }
    handle.close();
    ctx.toast(t('media.forwarded', { name }));
  };
  const list = h(
    'ul',
    { class: 'forward-list', 'data-testid': 'forward-list' },
    chats.map((c) => {
      const name = conversationTitle(ctx, c);
      return h(
        'li',
        null,
        h(
          'button',
          {
            type: 'button',
            class: 'forward-target',
            'data-conversation-id': c.id,
            onClick: () => send(c.id, name),
          },
          avatar(name, peerOf(ctx, c) ?? c.id, null, 32),
          h('span', { class: 'forward-name' }, name),
        ),
      );
    }),
  );
  const body = h(
    'div',
    { class: 'stack forward-body' },
    chats.length ? list : h('p', { class: 'muted' }, t('media.noChats')),
  );
  const title = items.length > 1 ? tn('media.forwardItems', items.length) : t('media.forwardTo');
  const handle = openDialog(title, body);
  handle.dialog.setAttribute('data-testid', 'forward-dialog');
}

/** A photo grid's actions: reply to it, forward all its photos, delete them (the sender's). */
export function openGridMenu(
  ctx: Ctx,
  conversationId: string,
  group: Message[],
  anchor: HTMLElement,
  reply: (last: Message) => void,
): void {
  const last = group[group.length - 1]!;
  const photos = group.map(forwardable).filter((f): f is Forwardable => f !== null);
  const items: MenuItem[] = [
    { label: t('chat.reply'), action: () => reply(last) },
    { label: t('media.forward'), action: () => openForwardDialog(ctx, photos) },
  ];
  if (last.sender_id === ctx.session.user!.id) {
    const removeAll = async () => {
      const sure = await confirmDialog(
        tn('media.confirmDeletePhotos', group.length),
        t('chat.delete'),
      );
      if (!sure) return;
      try {
        for (const m of group) await ctx.messenger.remove(conversationId, m.seq);
      } catch (err) {
        ctx.toast(errorText(err), 'error');
      }
    };
    items.push({ label: t('chat.delete'), danger: true, action: () => void removeAll() });
  }
  showMenu(anchor, [items]);
}
