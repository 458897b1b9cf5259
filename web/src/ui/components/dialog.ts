// Modal dialogs on the native <dialog> element: it traps focus, closes on
// Escape and returns focus to where it was, which keeps them keyboard friendly.
import { h } from '../../util/dom';
import { t } from '../../i18n';

export interface DialogHandle {
  dialog: HTMLDialogElement;
  close(): void;
}

export function openDialog(title: string, body: HTMLElement, onClose?: () => void): DialogHandle {
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const closeBtn = h(
    'button',
    { type: 'button', class: 'icon-button', 'aria-label': t('common.close') },
    '✕',
  );
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': titleId },
    h('header', { class: 'dialog-head' }, h('h2', { id: titleId }, title), closeBtn),
    body,
  );
  const previous = document.activeElement as HTMLElement | null;
  const close = () => {
    if (dialog.open) dialog.close();
  };
  closeBtn.addEventListener('click', close);
  dialog.addEventListener('close', () => {
    dialog.remove();
    onClose?.();
    previous?.focus?.();
  });
  // A click on the backdrop (the dialog element itself, outside its content).
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) close();
  });
  document.body.append(dialog);
  dialog.showModal();
  const first = body.querySelector<HTMLElement>('input, select, textarea, button');
  first?.focus();
  return { dialog, close };
}
