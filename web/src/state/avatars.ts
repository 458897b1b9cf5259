// Profile photos (docs/api/openapi.yaml, messaging: GET /v1/media/avatars,
// PUT and DELETE /v1/media/avatars/me). The ids the avatar component meets in one
// turn of the event loop are asked for together (at most 100 a request). A photo's
// answer is a signed thumbnail URL, kept until shortly before it expires; "no
// photo" is kept for a few minutes, so someone else's new photo shows after that
// or on the next page load. Every avatar on the page carries its user's id
// (data-avatar-user): an answer updates those already shown.
import type { Http } from '../api/http';
import type { components } from '../api/schema';

export type Avatar = components['schemas']['Avatar'];

const BATCH = 100;
const URL_MARGIN_MS = 60_000;
const NONE_TTL_MS = 5 * 60_000;

interface Known {
  url: string | null;
  until: number;
}

export class Avatars {
  private readonly known = new Map<string, Known>();
  private readonly wanted = new Set<string>();
  private scheduled = false;

  constructor(private readonly http: Http) {}

  /** The thumbnail URL when known and fresh; asks for it otherwise (undefined). */
  url(userId: string): string | null | undefined {
    const k = this.known.get(userId);
    if (k && k.until > Date.now()) return k.url;
    this.want(userId);
    return k?.url ?? undefined;
  }

  /** Forgets a URL that failed to load (expired or deleted) and asks again. */
  stale(userId: string): void {
    this.known.delete(userId);
    this.want(userId);
  }

  /** Asks now for one user's photo (null: none) and remembers the answer. */
  async fetchOne(userId: string): Promise<string | null> {
    const r = await this.http.get<{ avatars: Avatar[] }>('/v1/media/avatars', {
      query: { user_ids: userId },
    });
    const a = r.avatars.find((x) => x.user_id === userId) ?? null;
    this.remember(userId, a);
    return a?.url ?? null;
  }

  async set(mediaId: string): Promise<Avatar> {
    const a = await this.http.put<Avatar>('/v1/media/avatars/me', { media_id: mediaId });
    this.remember(a.user_id, a);
    return a;
  }

  async remove(userId: string): Promise<void> {
    await this.http.delete('/v1/media/avatars/me');
    this.remember(userId, null);
  }

  private want(userId: string): void {
    this.wanted.add(userId);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const ids = [...this.wanted];
    this.wanted.clear();
    for (let i = 0; i < ids.length; i += BATCH) {
      const part = ids.slice(i, i + BATCH);
      // Asked once per batch: a failure leaves them on initials until the next render.
      for (const id of part) this.known.set(id, { url: null, until: Date.now() + 30_000 });
      try {
        const r = await this.http.get<{ avatars: Avatar[] }>('/v1/media/avatars', {
          query: { user_ids: part.join(',') },
        });
        const found = new Map(r.avatars.map((a) => [a.user_id, a]));
        for (const id of part) this.remember(id, found.get(id) ?? null);
      } catch {
        // Offline or signed out: initials.
      }
    }
  }

  private remember(userId: string, a: Avatar | null): void {
    const until = a ? Date.parse(a.expires_at) - URL_MARGIN_MS : Date.now() + NONE_TTL_MS;
    this.known.set(userId, { url: a?.url ?? null, until });
    for (const el of document.querySelectorAll<HTMLElement>('.avatar[data-avatar-user]')) {
      if (el.dataset.avatarUser === userId) showPhoto(el, a?.url ?? null, this);
    }
  }
}

/** Puts the photo into an avatar element (or takes it out: initials show). */
export function showPhoto(el: HTMLElement, url: string | null, avatars: Avatars): void {
  const img = el.querySelector('img');
  if (!url) {
    img?.remove();
    return;
  }
  if (img?.getAttribute('src') === url) return;
  const next = document.createElement('img');
  next.alt = '';
  next.decoding = 'async';
  next.src = url;
  next.addEventListener('error', () => {
    next.remove();
    const id = el.dataset.avatarUser;
    if (id) avatars.stale(id);
  });
  img?.remove();
  el.prepend(next);
}
