// Dialogs that start conversations: a direct chat with one person, or a group.
import type { User } from '../../api/types';
import { t } from '../../i18n';
import { countryByCode } from '../../util/countries';
import { h, replaceChildren } from '../../util/dom';
import { openDialog } from '../components/dialog';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { chatPath } from '../router';
import { findPerson, LookupError } from './find-person';

export function openNewChat(ctx: Ctx): void {
  const country = countryByCode(ctx.session.user?.country);
  const input = h('input', {
    id: 'new-chat-who',
    name: 'who',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'new-chat-hint',
    placeholder: country.example,
  });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('newChat.start'));
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('label', { for: 'new-chat-who' }, t('newChat.label')),
    input,
    h(
      'p',
      { id: 'new-chat-hint', class: 'hint' },
      t('newChat.hint', { country: `${country.flag} ${country.dial}` }),
    ),
    err,
    h('div', { class: 'row end' }, submit),
  );
  const dlg = openDialog(t('newChat.title'), form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!input.value.trim()) return;
    submit.disabled = true;
    err.textContent = '';
    try {
      const user = await findPerson(ctx, input.value);
      const c = await ctx.messenger.createDirect(user.id);
      dlg.close();
      ctx.router.go(chatPath(c.id));
    } catch (ex) {
      err.textContent = ex instanceof LookupError ? ex.message : errorText(ex);
      submit.disabled = false;
      input.focus();
    }
  });
}

export function openNewGroup(ctx: Ctx): void {
  const members: User[] = [];
  const title = h('input', { id: 'group-title', name: 'title', maxlength: 100, required: true });
  const who = h('input', { id: 'group-who', name: 'who', autocomplete: 'off' });
  const list = h('ul', { class: 'chips', 'aria-label': t('group.members') });
  const err = h('p', { class: 'form-error', role: 'alert' });
  const renderMembers = () =>
    replaceChildren(
      list,
      members.map((u) =>
        h(
          'li',
          { class: 'chip' },
          u.display_name ?? u.username ?? '',
          h(
            'button',
            {
              type: 'button',
              class: 'chip-remove',
              'aria-label': t('group.remove', { name: u.display_name ?? '' }),
              onClick: () => {
                members.splice(members.indexOf(u), 1);
                renderMembers();
                who.focus();
              },
            },
            '✕',
          ),
        ),
      ),
    );
  const add = async () => {
    if (!who.value.trim()) return;
    err.textContent = '';
    try {
      const u = await findPerson(ctx, who.value);
      if (!members.some((m) => m.id === u.id)) members.push(u);
      who.value = '';
      renderMembers();
    } catch (ex) {
      err.textContent = ex instanceof LookupError ? ex.message : errorText(ex);
    }
    who.focus();
  };
  who.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      void add();
    }
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('group.create'));
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('label', { for: 'group-title' }, t('group.name')),
    title,
    h('label', { for: 'group-who' }, t('group.add')),
    h(
      'div',
      { class: 'row' },
      who,
      h('button', { type: 'button', onClick: () => void add() }, t('group.addButton')),
    ),
    list,
    err,
    h('div', { class: 'row end' }, submit),
  );
  const dlg = openDialog(t('group.title'), form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!title.value.trim()) {
      err.textContent = t('group.needName');
      title.focus();
      return;
    }
    submit.disabled = true;
    try {
      const c = await ctx.messenger.createGroup(
        title.value.trim(),
        members.map((m) => m.id),
      );
      dlg.close();
      ctx.router.go(chatPath(c.id));
    } catch (ex) {
      err.textContent = errorText(ex);
      submit.disabled = false;
    }
  });
}
