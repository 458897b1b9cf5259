// Resolves what the user typed — a phone number or an @username — to a user.
import { ApiError } from '../../api/errors';
import type { User } from '../../api/types';
import { t } from '../../i18n';
import type { Ctx } from '../context';

export class LookupError extends Error {}

export async function findPerson(ctx: Ctx, input: string): Promise<User> {
  const text = input.trim();
  const me = ctx.session.user!;
  let user: User | null;
  if (/^@?[A-Za-z][A-Za-z0-9_]{2,31}$/.test(text)) {
    user = await findByUsername(ctx, text.replace(/^@/, '').toLowerCase());
  } else {
    try {
      user = await ctx.auth.findByPhone(text, me.country);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400)
        throw new LookupError(t('signin.invalidPhone'));
      throw err;
    }
  }
  if (!user) throw new LookupError(t('newChat.notFound'));
  if (user.id === me.id) throw new LookupError(t('newChat.self'));
  ctx.directory.put(user);
  return user;
}

async function findByUsername(ctx: Ctx, username: string): Promise<User | null> {
  // People already met are found without asking the server.
  for (const c of ctx.messenger.conversations.list()) {
    for (const m of c.members) {
      const u = ctx.directory.get(m.user_id);
      if (u?.username?.toLowerCase() === username) return u;
    }
  }
  try {
    return await ctx.auth.findByUsername(username);
  } catch (err) {
    // The auth service looks people up by phone only (GET /v1/users?phone=).
    if (err instanceof ApiError && err.status === 400) {
      throw new LookupError(t('newChat.usernameUnsupported'));
    }
    throw err;
  }
}
