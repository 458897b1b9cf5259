// A small popup menu anchored to a button: arrow keys move between items,
// Escape or Tab closes it and gives focus back to the button.
import { h } from '../../util/dom';

export interface MenuItem {
  label: string;
  /** Short content shown instead of the label (an emoji); the label stays the accessible name. */
  glyph?: string;
  danger?: boolean;
  action(): void;
}

let openMenu: { close(): void } | null = null;

export function showMenu(anchor: HTMLElement, groups: MenuItem[][]): void {
  openMenu?.close();
  const buttons: HTMLButtonElement[] = [];
  const menu = h('div', { class: 'menu', role: 'menu' });
  for (const group of groups) {
    const row = h('div', {
      class: group.every((i) => i.glyph) ? 'menu-row glyphs' : 'menu-row',
      role: 'group',
    });
    for (const item of group) {
      const b = h(
        'button',
        {
          type: 'button',
          role: 'menuitem',
          tabindex: '-1',
          class: item.danger ? 'danger' : null,
          'aria-label': item.glyph ? item.label : null,
          title: item.glyph ? item.label : null,
        },
        item.glyph ?? item.label,
      );
      b.addEventListener('click', () => {
        close();
        item.action();
      });
      buttons.push(b);
      row.append(b);
    }
    menu.append(row);
  }
  const onDocPointer = (e: Event) => {
    if (!menu.contains(e.target as Node) && e.target !== anchor) close();
  };
  const close = () => {
    menu.remove();
    document.removeEventListener('pointerdown', onDocPointer, true);
    anchor.setAttribute('aria-expanded', 'false');
    if (openMenu === handle) openMenu = null;
  };
  const handle = { close };
  menu.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const move = (d: number) => buttons[(i + d + buttons.length) % buttons.length]!.focus();
    if (e.key === 'ArrowDown' || e.key === 'ArrowRight') move(1);
    else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') move(-1);
    else if (e.key === 'Home') buttons[0]!.focus();
    else if (e.key === 'End') buttons[buttons.length - 1]!.focus();
    else if (e.key === 'Escape' || e.key === 'Tab') {
      close();
      anchor.focus();
    } else return;
    e.preventDefault();
  });
  document.body.append(menu);
  // Below the button when there is room, else above; kept inside the window.
  const r = anchor.getBoundingClientRect();
  const mw = menu.offsetWidth;
  const mh = menu.offsetHeight;
  const left = Math.max(8, Math.min(window.innerWidth - mw - 8, r.right - mw));
  const top = r.bottom + mh + 8 < window.innerHeight ? r.bottom + 4 : Math.max(8, r.top - mh - 4);
  menu.style.left = `${left}px`;
  menu.style.top = `${top}px`;
  anchor.setAttribute('aria-expanded', 'true');
  document.addEventListener('pointerdown', onDocPointer, true);
  openMenu = handle;
  buttons[0]?.focus();
}
