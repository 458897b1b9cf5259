// A yes/no question in a modal dialog (instead of window.confirm, which blocks
// the page and cannot be styled or translated consistently).
import { t } from '../../i18n';
import { h } from '../../util/dom';
import { openDialog } from './dialog';

export function confirmDialog(question: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h('button', { type: 'button', class: 'primary danger' }, confirmLabel);
    const no = h('button', { type: 'button' }, t('common.cancel'));
    const body = h(
      'div',
      { class: 'stack' },
      h('p', null, question),
      h('div', { class: 'row end' }, no, yes),
    );
    const dlg = openDialog(confirmLabel, body, () => resolve(answer));
    yes.addEventListener('click', () => {
      answer = true;
      dlg.close();
    });
    no.addEventListener('click', () => dlg.close());
    no.focus();
  });
}
