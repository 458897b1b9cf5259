// Choosing the interface language: the table is loaded (its own chunk), the view
// re-renders, and a signed-in person's choice goes to the profile (auth's `locale`,
// which words SMS) and the notification preferences (the language of pushes).
import { setLocale, syncWithProfile, type Locale } from '../i18n';
import type { TokenResponse } from '../api/types';
import type { Ctx } from './context';

export async function chooseLocale(ctx: Ctx, l: Locale): Promise<void> {
  const signedIn = !!ctx.session.user;
  await setLocale(l, !signedIn);
  ctx.rerender();
  if (signedIn) saveLocale(ctx, l);
}

/** After the code is verified, before the session begins: the profile's language or ours. */
export async function localeAtSignIn(ctx: Ctx, tokens: TokenResponse): Promise<() => void> {
  const save = await syncWithProfile(tokens.user.locale, tokens.new_user);
  return () => {
    if (save) saveLocale(ctx, save);
  };
}

function saveLocale(ctx: Ctx, l: Locale): void {
  ctx.auth.updateMe({ locale: l }).then(
    (u) => ctx.session.updateUser(u),
    () => undefined,
  );
  ctx.preferences.update({ locale: l }).catch(() => undefined);
}
