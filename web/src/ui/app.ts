// The root: signed out → sign-in; signed in without a name → profile set-up;
// otherwise the shell. Starts and stops the live parts with the session.
import type { SignOutReason } from '../api/session';
import { t } from '../i18n';
import type { Ctx, View } from './context';
import { ProfileSetupView } from './views/profile-setup';
import { ShellView } from './views/shell';
import { SignInView } from './views/signin';

export class App {
  private view: View | null = null;
  private startedFor: string | null = null;
  private notice: string | null = null;
  private needsProfile = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly ctx: Ctx,
  ) {
    ctx.session.events.on('change', (reason) => this.onSession(reason));
    ctx.session.events.on('user', (u) => {
      ctx.directory.put(u);
      const needs = !u.display_name;
      if (needs !== this.needsProfile) this.render();
    });
    this.onSession(null);
  }

  render(): void {
    this.view?.dispose();
    const user = this.ctx.session.user;
    this.needsProfile = !!user && !user.display_name;
    if (!user) this.view = new SignInView(this.ctx, this.notice);
    else if (this.needsProfile) this.view = new ProfileSetupView(this.ctx);
    else this.view = new ShellView(this.ctx);
    this.root.replaceChildren(this.view.el);
  }

  private onSession(reason: SignOutReason | null): void {
    const user = this.ctx.session.user;
    if (this.startedFor && this.startedFor !== user?.id) this.stop(this.startedFor, reason);
    if (user && !this.startedFor) {
      this.startedFor = user.id;
      this.ctx.directory.put(user);
      this.ctx.messenger.start();
      void this.ctx.uploads.restore(user.id);
      this.ctx.inbox.open();
      void this.ctx.wallet.refresh();
    }
    this.notice = reason === 'expired' ? t('signin.expired') : null;
    if (!user && location.pathname !== '/') history.replaceState(null, '', '/');
    this.render();
  }

  private stop(userId: string, reason: SignOutReason | null): void {
    this.ctx.messenger.stop();
    this.ctx.uploads.close();
    this.ctx.inbox.close();
    this.ctx.preferences.reset();
    this.ctx.wallet.wallets = [];
    this.ctx.wallet.loaded = false;
    if (reason === 'user') {
      // Signing out on purpose leaves nothing of the account on this device.
      for (const key of Object.keys(localStorage)) {
        if (key.startsWith('tchat.') && key.endsWith(`.${userId}`)) localStorage.removeItem(key);
      }
    }
    this.startedFor = null;
  }
}
