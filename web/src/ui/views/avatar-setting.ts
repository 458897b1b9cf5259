// The profile photo in Settings: choose a photo (uploaded with POST /v1/media,
// then made the avatar with PUT /v1/media/avatars/me) or remove it (back to
// initials). Others see it wherever the person's avatar shows.
import { ApiError } from '../../api/errors';
import { t } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { avatar } from '../components/avatar';
import type { Ctx } from '../context';
import { errorText } from '../errors';

export function avatarSetting(ctx: Ctx): HTMLElement {
  const user = ctx.session.user!;
  const name = user.display_name ?? user.username ?? '';
  const preview = h('span', { 'data-testid': 'avatar-preview' });
  const status = h('p', { class: 'form-ok', role: 'status', 'data-testid': 'avatar-status' });
  const file = h('input', {
    id: 'set-avatar',
    type: 'file',
    accept: 'image/jpeg,image/png,image/webp,image/gif',
    class: 'visually-hidden',
  });
  const remove = h(
    'button',
    { type: 'button', 'data-testid': 'avatar-remove' },
    t('settings.avatarRemove'),
  );
  // Offered only while there is a photo to remove.
  remove.hidden = true;
  ctx.avatars.fetchOne(user.id).then(
    (url) => (remove.hidden = !url),
    () => undefined,
  );
  const busy = (on: boolean) => {
    file.disabled = on;
    remove.disabled = on;
  };
  const say = (text: string, ok: boolean) => {
    status.className = ok ? 'form-ok' : 'form-error';
    status.textContent = text;
  };
  const render = () => replaceChildren(preview, avatar(name, user.id, null, 72, user.id));
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    file.value = '';
    if (!chosen) return;
    busy(true);
    say(t('common.loading'), true);
    try {
      const m = await ctx.media.upload(chosen).done;
      await ctx.avatars.set(m.id);
      render();
      remove.hidden = false;
      say(t('settings.avatarSaved'), true);
    } catch (err) {
      const notImage =
        err instanceof ApiError && (err.code === 'not_an_image' || err.code === 'corrupt_media');
      say(notImage ? t('settings.avatarNotImage') : errorText(err), false);
    } finally {
      busy(false);
    }
  });
  remove.addEventListener('click', async () => {
    busy(true);
    try {
      await ctx.avatars.remove(user.id);
      render();
      remove.hidden = true;
      // The button is gone: the focus goes to the photo chooser.
      file.focus();
      say(t('settings.avatarRemoved'), true);
    } catch (err) {
      say(errorText(err), false);
    } finally {
      busy(false);
    }
  });
  render();
  return h(
    'div',
    {
      class: 'row',
      role: 'group',
      'aria-labelledby': 'avatar-title',
      'data-testid': 'avatar-setting',
    },
    preview,
    h(
      'div',
      { class: 'stack' },
      h('p', { id: 'avatar-title', class: 'hint' }, t('settings.avatar')),
      // The label is the visible button; the file input itself is hidden.
      file,
      h('label', { for: 'set-avatar', class: 'button-like' }, t('settings.avatarChoose')),
      remove,
      status,
    ),
  );
}
