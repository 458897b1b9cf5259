// Message search (GET /v1/search/messages, docs/api/openapi.yaml): a search box
// and its results, over the conversation list (every chat, and groups by title)
// or inside one chat. Searches as the person types (debounced, within the
// service's per-minute limit); a result links to its message in the chat's
// history (/c/<id>?m=<seq>), with the matched words marked.
import type { Conversation, MessageSearchHit } from '../../api/types';
import { t } from '../../i18n';
import { h, icon, replaceChildren } from '../../util/dom';
import { avatar } from '../components/avatar';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { conversationTitle, messagePreview, shortTime, userName } from '../format';
import { ICONS } from '../icons';
import { chatPath } from '../router';

const DEBOUNCE_MS = 350;
/** Characters of context kept before the first match in a long message. */
const CONTEXT = 30;

export interface SearchOptions {
  /** Only this chat (the box inside a chat). */
  conversationId?: string;
  /** Called when the box gets or loses a query (the owner swaps its content). */
  onActive: (active: boolean) => void;
}

export class SearchPanel {
  /** The search field (a form). */
  readonly box: HTMLFormElement;
  /** The results (shown by the owner while a query is active). */
  readonly results: HTMLElement;
  private readonly input: HTMLInputElement;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Answers to an older query are dropped. */
  private generation = 0;
  private query = '';

  constructor(
    private readonly ctx: Ctx,
    private readonly opts: SearchOptions,
  ) {
    const label = opts.conversationId ? t('search.inChat') : t('search.placeholder');
    this.input = h('input', {
      type: 'search',
      class: 'search-input',
      placeholder: label,
      'aria-label': label,
      maxlength: 200,
      autocomplete: 'off',
      'data-testid': opts.conversationId ? 'chat-search-input' : 'search-input',
    });
    this.box = h(
      'form',
      { class: 'search-box', role: 'search' },
      icon(ICONS.search),
      this.input,
      h(
        'button',
        {
          type: 'button',
          class: 'icon-button',
          'aria-label': t('search.clear'),
          title: t('search.clear'),
          onClick: () => this.clear(),
        },
        '✕',
      ),
    );
    this.results = h('div', {
      class: 'search-results',
      'aria-live': 'polite',
      'data-testid': 'search-results',
    });
    // IME composition (Thai, Vietnamese): search on the composed text only.
    this.input.addEventListener('input', (e) => {
      if (!(e as InputEvent).isComposing) this.schedule();
    });
    this.input.addEventListener('compositionend', () => this.schedule());
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.clear();
    });
    this.box.addEventListener('submit', (e) => {
      e.preventDefault();
      this.run(true);
    });
  }

  focus(): void {
    this.input.focus();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.generation++;
  }

  clear(): void {
    this.input.value = '';
    this.run(true);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(false), DEBOUNCE_MS);
  }

  private run(now: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const q = this.input.value.trim();
    if (q === this.query && !now) return;
    this.query = q;
    const gen = ++this.generation;
    if (!q) {
      replaceChildren(this.results);
      this.opts.onActive(false);
      return;
    }
    this.opts.onActive(true);
    replaceChildren(this.results, h('p', { class: 'muted pad' }, t('search.searching')));
    void this.load(q, gen);
  }

  private async load(q: string, gen: number): Promise<void> {
    const api = this.ctx.messaging;
    try {
      const [page, groups] = await Promise.all([
        api.searchMessages(q, { conversationId: this.opts.conversationId }),
        this.opts.conversationId
          ? Promise.resolve({ conversations: [] as Conversation[] })
          : api.searchConversations(q),
      ]);
      if (gen !== this.generation) return;
      const list = h('ul', { class: 'search-list', role: 'list' });
      const more = h('div', null);
      replaceChildren(
        this.results,
        groups.conversations.length
          ? [
              h('h2', { class: 'search-heading' }, t('search.chats')),
              h(
                'ul',
                { class: 'search-list', role: 'list' },
                groups.conversations.map((c) => this.conversationItem(c)),
              ),
            ]
          : null,
        h('h2', { class: 'search-heading' }, t('search.messages')),
        list,
        more,
      );
      this.append(list, more, page.results, page.next_cursor, q, gen);
    } catch (err) {
      if (gen !== this.generation) return;
      replaceChildren(this.results, h('p', { class: 'muted pad', role: 'alert' }, errorText(err)));
    }
  }

  /** Adds a page of results; "more results" fetches the next one. */
  private append(
    list: HTMLElement,
    more: HTMLElement,
    hits: MessageSearchHit[],
    cursor: string | null,
    q: string,
    gen: number,
  ): void {
    for (const hit of hits) list.append(this.messageItem(hit));
    if (!list.childElementCount) {
      replaceChildren(more, h('p', { class: 'muted pad' }, t('search.none')));
      return;
    }
    replaceChildren(
      more,
      cursor
        ? h(
            'button',
            {
              type: 'button',
              class: 'link-button',
              onClick: async () => {
                try {
                  const page = await this.ctx.messaging.searchMessages(q, {
                    conversationId: this.opts.conversationId,
                    cursor,
                  });
                  if (gen === this.generation)
                    this.append(list, more, page.results, page.next_cursor, q, gen);
                } catch (err) {
                  this.ctx.toast(errorText(err), 'error');
                }
              },
            },
            t('search.more'),
          )
        : null,
    );
  }

  private conversationItem(c: Conversation): HTMLElement {
    const title = conversationTitle(this.ctx, c);
    return h(
      'li',
      null,
      h(
        'a',
        { href: chatPath(c.id), 'data-link': true, class: 'conv' },
        avatar(title, c.id, null),
        h('span', { class: 'conv-body' }, h('span', { class: 'conv-title' }, title)),
      ),
    );
  }

  private messageItem(hit: MessageSearchHit): HTMLElement {
    const m = hit.message;
    const conv = this.ctx.messenger.conversations.get(hit.conversation_id);
    const where = this.opts.conversationId
      ? userName(this.ctx, m.sender_id)
      : `${conv ? conversationTitle(this.ctx, conv) : t('chats.group')} · ${userName(
          this.ctx,
          m.sender_id,
        )}`;
    const text =
      m.type === 'text' && m.body ? marked(m.body, hit.highlights) : messagePreview(this.ctx, m);
    return h(
      'li',
      null,
      h(
        'a',
        {
          href: `${chatPath(hit.conversation_id)}?m=${m.seq}`,
          'data-link': true,
          class: 'search-hit',
          'data-testid': 'search-hit',
          'data-seq': m.seq,
        },
        h(
          'span',
          { class: 'conv-top' },
          h('span', { class: 'conv-title' }, where),
          h('time', { class: 'conv-time', datetime: m.created_at }, shortTime(m.created_at)),
        ),
        h('span', { class: 'search-snippet' }, text),
      ),
    );
  }
}

/**
 * The body with its matched ranges ([start, end) in UTF-16 code units, as the
 * API gives them) in <mark>; a long body starts a little before the first match.
 */
export function marked(body: string, ranges: number[][]): (Node | string)[] {
  const valid = ranges
    .filter((r) => r.length === 2 && r[0]! >= 0 && r[0]! < r[1]! && r[1]! <= body.length)
    .sort((a, b) => a[0]! - b[0]!);
  let from = 0;
  if (valid.length && valid[0]![0]! > CONTEXT * 2) {
    from = valid[0]![0]! - CONTEXT;
    // Not inside a surrogate pair.
    if (/[\uDC00-\uDFFF]/.test(body[from] ?? '')) from--;
  }
  const out: (Node | string)[] = from > 0 ? ['…'] : [];
  let at = from;
  for (const [start, end] of valid) {
    if (start! < at) continue;
    if (start! > at) out.push(body.slice(at, start));
    out.push(h('mark', null, body.slice(start, end)));
    at = end!;
  }
  if (at < body.length) out.push(body.slice(at));
  return out;
}
