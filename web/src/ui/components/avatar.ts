// Round initials with a colour derived from the id, plus an optional online dot;
// a person's profile photo (state/avatars.ts) covers the initials when they have one.
import { showPhoto, type Avatars } from '../../state/avatars';
import { h } from '../../util/dom';

let photos: Avatars | null = null;

/** Set once at start (main.ts): where avatars of people find their photos. */
export function useAvatarPhotos(a: Avatars): void {
  photos = a;
}

/**
 * `id` colours the initials; `userId`, when the avatar is a person's (not a
 * group's), brings their photo.
 */
export function avatar(
  name: string,
  id: string,
  online: boolean | null,
  size = 40,
  userId?: string | null,
): HTMLElement {
  const initials =
    name
      .replace(/^@/, '')
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => Array.from(w)[0]!.toUpperCase())
      .join('') || '?';
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const el = h(
    'span',
    {
      class: 'avatar',
      'aria-hidden': 'true',
      style: `--size:${size}px;--hue:${hash % 360}`,
      'data-avatar-user': userId ?? null,
    },
    initials,
  );
  if (online !== null) el.append(h('span', { class: online ? 'dot online' : 'dot' }));
  if (userId && photos) {
    const url = photos.url(userId);
    if (url) showPhoto(el, url, photos);
  }
  return el;
}
