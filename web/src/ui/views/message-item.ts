// One row of the chat: a message from the server or one still in the outbox.
import type { Conversation, Message } from '../../api/types';
import type { PendingMessage } from '../../state/outbox';
import { t, tn } from '../../i18n';
import { h, icon } from '../../util/dom';
import type { Ctx } from '../context';
import { clockTime, fullTime, messagePreview, userName } from '../format';
import { ICONS } from '../icons';
import { paymentCard } from './payment-card';
import { attachmentView, photoGrid } from './attachment';
import { forwardable, type Forwardable } from './forward';

/** Photos of one sender this close together (and consecutive) show as one grid. */
const GRID_GAP_MS = 60_000;

export interface ItemModel {
  /** "s<seq>" for stored messages, "p<client_msg_id>" for pending ones. */
  key: string;
  message: Message | null;
  pending: PendingMessage | null;
  mine: boolean;
  /** Sender's name above the bubble (groups, first of a run). */
  showSender: boolean;
  /** "Sent", "Seen", "Seen by 2" under the user's latest message. */
  receipt: string | null;
  requestStatus: string | null;
  reply: { name: string; text: string } | null;
  /** Consecutive photos shown as one grid (message is the last of them). */
  group: Message[] | null;
}

export interface ItemActions {
  /** The actions of a message, or of a grid's photos (`group`). */
  menu(m: Message, anchor: HTMLElement, group: Message[] | null): void;
  react(m: Message, emoji: string): void;
  retry(clientMsgId: string): void;
  discard(clientMsgId: string): void;
  jumpTo(seq: number): void;
  forward(items: Forwardable[]): void;
}

/** Changes whenever the rendering of the row would change. */
export function signature(ctx: Ctx, m: ItemModel): string {
  const sender = m.message ? userName(ctx, m.message.sender_id) : '';
  return JSON.stringify([
    m.group ?? m.message,
    m.pending?.state,
    m.receipt,
    m.requestStatus,
    m.reply,
    m.showSender,
    sender,
  ]);
}

export function renderItem(ctx: Ctx, m: ItemModel, actions: ItemActions): HTMLElement {
  const me = ctx.session.user!.id;
  const msg = m.message;
  const p = m.pending;
  const created = msg?.created_at ?? p!.createdAt;
  const classes = ['msg', m.mine ? 'mine' : 'theirs'];
  if (msg?.type === 'payment') classes.push('payment');
  if (msg?.type === 'system') classes.push('system');
  if (p) classes.push(`pending ${p.state}`);

  if (msg?.type === 'system') {
    return h(
      'div',
      { class: classes.join(' '), 'data-key': m.key },
      h('p', { class: 'system-text' }, t('chat.system')),
    );
  }

  const body: (HTMLElement | string | null)[] = [];
  if (m.reply && msg?.reply_to_seq) {
    body.push(
      h(
        'button',
        { type: 'button', class: 'reply-quote', onClick: () => actions.jumpTo(msg.reply_to_seq!) },
        h('strong', null, m.reply.name),
        h('span', null, m.reply.text),
      ),
    );
  } else if (m.reply) {
    body.push(
      h(
        'div',
        { class: 'reply-quote' },
        h('strong', null, m.reply.name),
        h('span', null, m.reply.text),
      ),
    );
  }
  if (msg?.deleted) {
    body.push(h('p', { class: 'deleted' }, t('chat.deleted')));
  } else if (msg?.type === 'payment' && msg.payment) {
    body.push(paymentCard(ctx, msg, m.requestStatus));
  } else if (m.group) {
    classes.push('has-attachment');
    const photos = m.group.map((g) => g.attachment!);
    body.push(
      photoGrid(
        ctx,
        photos,
        m.group.map((g) => g.seq),
        { forward: (a) => actions.forward([{ type: 'image', attachment: a }]) },
      ),
    );
  } else if (msg?.attachment || p?.media) {
    classes.push('has-attachment');
    const fwd = msg ? forwardable(msg) : null;
    body.push(
      attachmentView(
        ctx,
        (msg?.attachment ?? p?.media?.attachment)!,
        fwd ? { forward: () => actions.forward([fwd]) } : {},
      ),
    );
    const caption = msg?.body ?? p!.body;
    if (caption) body.push(h('p', { class: 'text caption' }, caption));
  } else {
    body.push(h('p', { class: 'text' }, msg?.body ?? p!.body));
  }

  const meta = h(
    'div',
    { class: 'meta' },
    h('time', { datetime: created, title: fullTime(created) }, clockTime(created)),
    msg?.edited_at && !msg.deleted ? h('span', null, ` · ${t('chat.edited')}`) : null,
    p?.state === 'sending' ? h('span', { class: 'receipt' }, ` · ${t('chat.sending')}`) : null,
    m.receipt ? h('span', { class: 'receipt', 'data-testid': 'receipt' }, ` · ${m.receipt}`) : null,
  );

  const bubble = h('div', { class: 'bubble' }, body, meta);
  const row = h('div', {
    class: classes.join(' '),
    'data-key': m.key,
    'data-seq': msg?.seq ?? null,
  });
  if (m.showSender && msg && !m.mine) {
    row.append(h('div', { class: 'sender' }, userName(ctx, msg.sender_id)));
  }
  const line = h('div', { class: 'msg-line' }, bubble);
  if (msg && !msg.deleted) {
    line.append(
      h(
        'button',
        {
          type: 'button',
          class: 'icon-button msg-more',
          'aria-label': t('chat.actions'),
          'aria-haspopup': 'menu',
          onClick: (e: Event) => actions.menu(msg, e.currentTarget as HTMLElement, m.group),
        },
        icon(ICONS.more),
      ),
    );
  }
  row.append(line);

  if (msg && Object.keys(msg.reactions).length) {
    row.append(
      h(
        'div',
        { class: 'reactions' },
        Object.entries(msg.reactions).map(([emoji, users]) =>
          h(
            'button',
            {
              type: 'button',
              class: 'reaction',
              'aria-pressed': users.includes(me) ? 'true' : 'false',
              'aria-label': `${t('chat.react', { emoji })} (${users.length})`,
              onClick: () => actions.react(msg, emoji),
            },
            `${emoji} ${users.length}`,
          ),
        ),
      ),
    );
  }
  if (p?.state === 'failed') {
    row.append(
      h(
        'div',
        { class: 'failed-row', role: 'alert' },
        h('span', null, `${t('chat.failed')}${p.error ? ` — ${p.error}` : ''}`),
        h(
          'button',
          { type: 'button', class: 'link-button', onClick: () => actions.retry(p.clientMsgId) },
          t('common.retry'),
        ),
        h(
          'button',
          { type: 'button', class: 'link-button', onClick: () => actions.discard(p.clientMsgId) },
          t('chat.discard'),
        ),
      ),
    );
  }
  return row;
}

/** The rows of a chat's history: its messages, then what is still being sent. */
export function itemModels(ctx: Ctx, id: string, c: Conversation | null): ItemModel[] {
  const me = ctx.session.user!.id;
  const cache = ctx.messenger.cache(id);
  const messages = cache.list();
  const others = c?.members.filter((m) => m.user_id !== me) ?? [];
  // The receipt goes under the user's newest stored message.
  let receiptSeq = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.sender_id === me && m.type !== 'system') {
      receiptSeq = m.seq;
      break;
    }
  }
  const out: ItemModel[] = [];
  let prev: Message | null = null;
  for (let i = 0; i < messages.length; i++) {
    const run = photoRun(messages, i);
    if (run.length > 1) {
      const last = run[run.length - 1]!;
      const first = run[0]!;
      const mine = last.sender_id === me;
      const withReceipt = run.some((r) => r.seq === receiptSeq);
      out.push({
        key: `g${first.seq}`,
        message: last,
        pending: null,
        mine,
        showSender:
          c?.type === 'group' &&
          (!prev || prev.sender_id !== first.sender_id || prev.type === 'system'),
        receipt: withReceipt ? receiptText(c, others, receiptSeq) : null,
        requestStatus: null,
        reply: null,
        group: run,
      });
      prev = last;
      i += run.length - 1;
      continue;
    }
    const m = messages[i]!;
    const mine = m.sender_id === me;
    const receipt = m.seq === receiptSeq ? receiptText(c, others, m.seq) : null;
    out.push({
      key: `s${m.seq}`,
      message: m,
      pending: null,
      mine,
      showSender:
        c?.type === 'group' && (!prev || prev.sender_id !== m.sender_id || prev.type === 'system'),
      receipt,
      requestStatus:
        m.payment?.kind === 'request' && m.payment.request_id
          ? cache.requestStatus(m.payment.request_id)
          : null,
      reply: m.reply_to_seq ? quote(ctx, id, m.reply_to_seq) : null,
      group: null,
    });
    prev = m;
  }
  const stored = new Set(messages.filter((m) => m.sender_id === me).map((m) => m.client_msg_id));
  for (const p of ctx.messenger.outbox.pending(id)) {
    if (stored.has(p.clientMsgId)) continue;
    out.push({
      key: `p${p.clientMsgId}`,
      message: null,
      pending: p,
      mine: true,
      showSender: false,
      receipt: null,
      requestStatus: null,
      reply: p.replyToSeq ? quote(ctx, id, p.replyToSeq) : null,
      group: null,
    });
  }
  return out;
}

function quote(ctx: Ctx, id: string, seq: number): { name: string; text: string } {
  const m = ctx.messenger.cache(id).get(seq);
  if (!m) return { name: '', text: t('chat.originalMessage') };
  return { name: userName(ctx, m.sender_id), text: messagePreview(ctx, m) };
}

function receiptText(c: Conversation | null, others: Conversation['members'], seq: number): string {
  const seen = others.filter((o) => o.last_read_seq >= seq).length;
  if (!seen) return t('chat.sent');
  return c?.type === 'direct' ? t('chat.seen') : tn('chat.seenBy', seen);
}

/** A photo that may join a grid: uploaded, no caption, reply or reactions. */
function groupable(m: Message): boolean {
  return (
    m.type === 'image' &&
    !m.deleted &&
    !!m.attachment?.id &&
    !m.body &&
    !m.reply_to_seq &&
    Object.keys(m.reactions).length === 0
  );
}

/**
 * The photos from messages[i] on that show as one grid: consecutive groupable
 * photos of the same sender, each within GRID_GAP_MS of the one before.
 */
function photoRun(messages: Message[], i: number): Message[] {
  const first = messages[i]!;
  if (!groupable(first)) return [first];
  const run = [first];
  for (let k = i + 1; k < messages.length; k++) {
    const m = messages[k]!;
    const before = run[run.length - 1]!;
    if (!groupable(m) || m.sender_id !== first.sender_id) break;
    if (Date.parse(m.created_at) - Date.parse(before.created_at) > GRID_GAP_MS) break;
    run.push(m);
  }
  return run;
}
