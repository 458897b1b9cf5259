// Round initials with a colour derived from the id, plus an optional online dot.
import { h } from '../../util/dom';

export function avatar(name: string, id: string, online: boolean | null, size = 40): HTMLElement {
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
    { class: 'avatar', 'aria-hidden': 'true', style: `--size:${size}px;--hue:${hash % 360}` },
    initials,
  );
  if (online !== null) el.append(h('span', { class: online ? 'dot online' : 'dot' }));
  return el;
}
