// Short status messages, announced to screen readers through a live region.
import { h } from '../../util/dom';

let region: HTMLElement | null = null;

export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  if (!region) {
    region = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const el = h('div', { class: `toast ${kind}` }, message);
  region.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 6000 : 3500);
}
