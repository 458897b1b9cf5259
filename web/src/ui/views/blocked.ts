// Settings → Blocked people (GET /v1/blocks), each with Unblock
// (DELETE /v1/blocks/{user_id}); people are blocked from a direct chat's menu.
import { t } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { Subscriptions } from '../../util/emitter';
import { avatar } from '../components/avatar';
import { confirmDialog } from '../components/confirm';
import { showMenu } from '../components/menu';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { userName } from '../format';

export class BlockedSection {
  readonly el: HTMLElement;
  private readonly box: HTMLElement;
  private readonly status: HTMLElement;
  private readonly subs = new Subscriptions();
  private ids: string[] = [];

  constructor(private readonly ctx: Ctx) {
    this.box = h('div', { class: 'stack' }, h('p', { class: 'muted' }, t('common.loading')));
    this.status = h('p', { role: 'status', class: 'form-ok' });
    this.el = h(
      'section',
      { class: 'card stack', 'aria-labelledby': 'blocked-title', 'data-testid': 'blocked' },
      h('h2', { id: 'blocked-title' }, t('blocked.title')),
      h('p', { class: 'hint' }, t('blocked.hint')),
      this.box,
      this.status,
    );
    // Names arrive from the directory after the first render.
    this.subs.add(
      ctx.directory.events.on('user', (u) => {
        if (this.ids.includes(u.id)) this.render();
      }),
    );
    void this.load();
  }

  dispose(): void {
    this.subs.dispose();
  }

  async load(): Promise<void> {
    try {
      this.ids = await this.ctx.messaging.blocked();
      this.ctx.directory.ensure(this.ids);
      this.render();
    } catch (err) {
      replaceChildren(this.box, h('p', { class: 'form-error' }, errorText(err)));
    }
  }

  private render(): void {
    if (!this.ids.length) {
      replaceChildren(this.box, h('p', { class: 'muted' }, t('blocked.none')));
      return;
    }
    replaceChildren(
      this.box,
      h(
        'ul',
        { class: 'plain-list', role: 'list', 'data-testid': 'blocked-list' },
        this.ids.map((id) => {
          const name = userName(this.ctx, id);
          return h(
            'li',
            { class: 'row spread' },
            h('span', { class: 'row' }, avatar(name, id, null, 32, id), name),
            h(
              'button',
              {
                type: 'button',
                class: 'small',
                'aria-label': t('blocked.unblockNamed', { name }),
                onClick: () => void this.unblock(id, name),
              },
              t('blocked.unblock'),
            ),
          );
        }),
      ),
    );
  }

  private async unblock(id: string, name: string): Promise<void> {
    try {
      await this.ctx.messaging.unblock(id);
      this.status.textContent = t('blocked.undone', { name });
    } catch (err) {
      this.ctx.toast(errorText(err), 'error');
    }
    await this.load();
  }
}

/** Blocks a person after asking; true when blocked. */
export async function blockPerson(ctx: Ctx, id: string, name: string): Promise<boolean> {
  if (!(await confirmDialog(t('blocked.confirm', { name }), t('blocked.block')))) return false;
  try {
    await ctx.messaging.block(id);
    ctx.toast(t('blocked.done', { name }));
    return true;
  } catch (err) {
    ctx.toast(errorText(err), 'error');
    return false;
  }
}

/** Unblocks a person (no question: it is undone as easily). */
export async function unblockPerson(ctx: Ctx, id: string, name: string): Promise<void> {
  try {
    await ctx.messaging.unblock(id);
    ctx.toast(t('blocked.undone', { name }));
  } catch (err) {
    ctx.toast(errorText(err), 'error');
  }
}

/** A direct chat's menu: block or unblock the other person. */
export async function openPeerMenu(ctx: Ctx, peer: string, anchor: HTMLElement): Promise<void> {
  let blocked: boolean;
  try {
    blocked = (await ctx.messaging.blocked()).includes(peer);
  } catch (err) {
    ctx.toast(errorText(err), 'error');
    return;
  }
  const name = userName(ctx, peer);
  showMenu(anchor, [
    [
      blocked
        ? {
            label: t('blocked.unblockNamed', { name }),
            action: () => void unblockPerson(ctx, peer, name),
          }
        : {
            label: t('blocked.blockNamed', { name }),
            danger: true,
            action: () => void blockPerson(ctx, peer, name),
          },
    ],
  ]);
}
