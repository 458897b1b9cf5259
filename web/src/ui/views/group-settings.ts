// Group management (a dialog from a group chat's header, loaded when first
// opened): rename (PATCH /v1/conversations/{id}), add members (POST …/members),
// remove a member or leave (DELETE …/members/{user_id}) and roles (PATCH
// …/members/{user_id}, the owner only). What the API allows decides which
// controls show: owners and admins rename, add and remove members; only the
// owner removes admins and changes roles; anyone leaves.
import './screens.css';
import { ApiError } from '../../api/errors';
import type { Conversation, Member } from '../../api/types';
import { t, tn, type TextKey } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { avatar } from '../components/avatar';
import { confirmDialog } from '../components/confirm';
import { openDialog } from '../components/dialog';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { userName } from '../format';
import { chatPath } from '../router';
import { findPerson, LookupError } from './find-person';

const ROLE_KEYS: Record<Member['role'], TextKey> = {
  owner: 'groupAdmin.role.owner',
  admin: 'groupAdmin.role.admin',
  member: 'groupAdmin.role.member',
};

export function openGroupSettings(ctx: Ctx, id: string): void {
  const body = h('div', { class: 'stack group-settings', 'data-testid': 'group-settings' });
  const dlg = openDialog(t('groupAdmin.title'), body, () => off());
  const status = h('p', { class: 'form-ok', role: 'status', 'data-testid': 'group-status' });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const me = ctx.session.user!.id;
  // Member changes by others arrive as conversation updates, names from the
  // directory: the dialog follows them, re-rendering only when what it shows changed
  // (new messages change the conversation too, and must not reset a typed name).
  let shown = '';
  const follow = () => {
    const c = ctx.messenger.conversations.get(id);
    const sig = JSON.stringify([
      c?.title,
      c?.members.map((m) => [m.user_id, m.role, userName(ctx, m.user_id)]),
    ]);
    if (sig !== shown) render();
  };
  const offs = [
    ctx.messenger.conversations.events.on('changed', follow),
    ctx.directory.events.on('user', follow),
  ];
  const off = () => offs.forEach((u) => u());

  const act = async (work: () => Promise<Conversation | void>, done: string): Promise<void> => {
    err.textContent = '';
    status.textContent = '';
    try {
      const c = await work();
      if (c) ctx.messenger.conversations.upsert(c);
      else ctx.messenger.conversations.upsert(await ctx.messaging.conversation(id));
      status.textContent = done;
    } catch (ex) {
      err.textContent = ex instanceof ApiError && ex.status < 500 ? ex.message : errorText(ex);
    }
  };

  function render(): void {
    const c = ctx.messenger.conversations.get(id);
    if (!c || c.type !== 'group') {
      dlg.close();
      return;
    }
    shown = JSON.stringify([
      c.title,
      c.members.map((m) => [m.user_id, m.role, userName(ctx, m.user_id)]),
    ]);
    ctx.directory.ensure(c.members.map((m) => m.user_id));
    const myRole = c.members.find((m) => m.user_id === me)?.role ?? 'member';
    const manager = myRole === 'owner' || myRole === 'admin';
    replaceChildren(
      body,
      manager ? titleForm(c) : h('p', null, c.title ?? ''),
      h('h3', null, tn('chats.members', c.member_count)),
      h(
        'ul',
        { class: 'plain-list', role: 'list', 'data-testid': 'group-members' },
        c.members.map((m) => memberRow(m, myRole)),
      ),
      manager ? addForm() : null,
      status,
      err,
      h(
        'div',
        { class: 'row end' },
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            'data-testid': 'group-leave',
            onClick: () => void leave(c),
          },
          t('groupAdmin.leave'),
        ),
      ),
    );
  }

  function titleForm(c: Conversation): HTMLElement {
    const input = h('input', {
      id: 'group-rename',
      name: 'title',
      maxlength: 200,
      value: c.title ?? '',
      required: true,
    });
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('label', { for: 'group-rename' }, t('group.name')),
      h(
        'div',
        { class: 'row' },
        input,
        h('button', { type: 'submit', class: 'primary' }, t('groupAdmin.rename')),
      ),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const title = input.value.trim();
      if (!title) {
        err.textContent = t('group.needName');
        input.focus();
        return;
      }
      if (title === c.title) return;
      void act(() => ctx.messaging.renameGroup(id, title), t('groupAdmin.renamed'));
    });
    return form;
  }

  function memberRow(m: Member, myRole: Member['role']): HTMLElement {
    const name = m.user_id === me ? t('common.you') : userName(ctx, m.user_id);
    const buttons: HTMLElement[] = [];
    if (myRole === 'owner' && m.role !== 'owner') {
      const next = m.role === 'admin' ? 'member' : 'admin';
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            class: 'small',
            onClick: () =>
              void act(
                () => ctx.messaging.setRole(id, m.user_id, next),
                t('groupAdmin.roleChanged', { name, role: t(ROLE_KEYS[next]) }),
              ),
          },
          next === 'admin' ? t('groupAdmin.makeAdmin') : t('groupAdmin.removeAdmin'),
        ),
      );
    }
    const canRemove =
      m.user_id !== me &&
      m.role !== 'owner' &&
      (myRole === 'owner' || (myRole === 'admin' && m.role === 'member'));
    if (canRemove) {
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            class: 'small danger',
            'aria-label': t('groupAdmin.removeMember', { name }),
            onClick: () => void remove(m.user_id, name),
          },
          t('groupAdmin.remove'),
        ),
      );
    }
    return h(
      'li',
      { class: 'row spread', 'data-member': m.user_id },
      h(
        'span',
        { class: 'row' },
        avatar(name, m.user_id, null, 32, m.user_id),
        h('span', null, name, ' ', h('span', { class: 'muted small' }, t(ROLE_KEYS[m.role]))),
      ),
      h('span', { class: 'row' }, buttons),
    );
  }

  function addForm(): HTMLElement {
    const who = h('input', { id: 'group-add-who', name: 'who', autocomplete: 'off' });
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('label', { for: 'group-add-who' }, t('group.add')),
      h('div', { class: 'row' }, who, h('button', { type: 'submit' }, t('group.addButton'))),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!who.value.trim()) return;
      err.textContent = '';
      let userId: string;
      try {
        userId = (await findPerson(ctx, who.value)).id;
      } catch (ex) {
        err.textContent = ex instanceof LookupError ? ex.message : errorText(ex);
        return;
      }
      const name = userName(ctx, userId);
      await act(() => ctx.messaging.addMembers(id, [userId]), t('groupAdmin.added', { name }));
      document.getElementById('group-add-who')?.focus();
    });
    return form;
  }

  async function remove(userId: string, name: string): Promise<void> {
    if (!(await confirmDialog(t('groupAdmin.confirmRemove', { name }), t('groupAdmin.remove'))))
      return;
    await act(() => ctx.messaging.removeMember(id, userId), t('groupAdmin.removed', { name }));
  }

  async function leave(c: Conversation): Promise<void> {
    const title = c.title ?? '';
    if (!(await confirmDialog(t('groupAdmin.confirmLeave', { title }), t('groupAdmin.leave'))))
      return;
    try {
      await ctx.messaging.removeMember(id, me);
    } catch (ex) {
      err.textContent = ex instanceof ApiError && ex.status < 500 ? ex.message : errorText(ex);
      return;
    }
    ctx.messenger.conversations.remove(id);
    ctx.toast(t('groupAdmin.left', { title }));
    if (location.pathname === chatPath(id)) ctx.router.go('/');
  }

  render();
}
