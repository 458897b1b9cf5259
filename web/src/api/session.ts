// The signed-in session: tokens in localStorage so that a reload keeps the user
// signed in, refreshed shortly before the access token expires (docs/api/openapi.yaml, auth).
//
// Refresh tokens rotate and presenting a rotated one revokes the whole session,
// so two tabs must never refresh with the same token: refreshes are serialised
// across tabs with the Web Locks API, and a tab that gets the lock re-reads the
// storage first — when another tab has already rotated, it adopts that result.
import type { TokenSource } from './http';
import { ApiError, NetworkError } from './errors';
import type { TokenResponse, User } from './types';
import { Emitter } from '../util/emitter';

const STORAGE_KEY = 'tchat.session';
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

interface Stored {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  accessExpiresAt: number;
  user: User;
}

export type SignOutReason = 'user' | 'expired';

export class Session implements TokenSource {
  /** `token`: a new access token (this tab or another refreshed), for open sockets to adopt. */
  readonly events = new Emitter<{ change: SignOutReason | null; user: User; token: string }>();
  private data: Stored | null;
  private inflight: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly callRefresh: (refreshToken: string) => Promise<TokenResponse>) {
    this.data = load();
    this.schedule();
    // Another tab signed in, refreshed or signed out.
    window.addEventListener('storage', (e) => {
      if (e.key !== STORAGE_KEY) return;
      const was = this.data;
      this.data = load();
      this.schedule();
      if (!!was !== !!this.data || was?.user.id !== this.data?.user.id) {
        this.events.emit('change', this.data ? null : 'expired');
      } else if (this.data && this.data.accessToken !== was?.accessToken) {
        this.events.emit('token', this.data.accessToken);
      }
    });
  }

  get signedIn(): boolean {
    return this.data !== null;
  }

  get user(): User | null {
    return this.data?.user ?? null;
  }

  /** Starts a session from a sign-in answer. */
  begin(t: TokenResponse): void {
    this.adopt(t);
    this.events.emit('change', null);
  }

  /** Keeps the stored profile in step after the user edits it. */
  updateUser(user: User): void {
    if (!this.data) return;
    this.data = { ...this.data, user };
    save(this.data);
    this.events.emit('user', user);
  }

  async accessToken(): Promise<string> {
    if (!this.data) throw new ApiError(401, 'unauthenticated', 'not signed in');
    if (this.data.accessExpiresAt - Date.now() < REFRESH_MARGIN_MS) {
      try {
        await this.refresh();
      } catch (err) {
        // Offline with a token that still works for a while: use it.
        if (!(err instanceof NetworkError) || !this.data) throw err;
      }
    }
    if (!this.data) throw new ApiError(401, 'unauthenticated', 'not signed in');
    return this.data.accessToken;
  }

  refresh(): Promise<void> {
    if (!this.inflight) {
      this.inflight = this.refreshLocked().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  /** Forgets the session locally (the caller revokes it on the server first). */
  end(reason: SignOutReason): void {
    this.data = null;
    localStorage.removeItem(STORAGE_KEY);
    this.schedule();
    this.events.emit('change', reason);
  }

  private async refreshLocked(): Promise<void> {
    const before = this.data?.refreshToken;
    const run = async () => {
      const current = load();
      if (current && current.refreshToken !== before) {
        this.data = current; // another tab rotated meanwhile
        this.schedule();
        this.events.emit('token', current.accessToken);
        return;
      }
      if (!current) {
        this.end('expired');
        throw new ApiError(401, 'unauthenticated', 'signed out');
      }
      try {
        this.adopt(await this.callRefresh(current.refreshToken));
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 400)) {
          this.end('expired');
        }
        throw err;
      }
    };
    if (navigator.locks) {
      await navigator.locks.request('tchat-token-refresh', run);
    } else {
      await run();
    }
  }

  private adopt(t: TokenResponse): void {
    this.data = {
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      accessExpiresAt: Date.now() + t.expires_in * 1000,
      user: t.user,
    };
    save(this.data);
    this.schedule();
    this.events.emit('token', t.access_token);
  }

  /** Refreshes ahead of expiry, so that requests and reconnects never wait for it. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.data) return;
    const due = Math.max(5_000, this.data.accessExpiresAt - Date.now() - REFRESH_MARGIN_MS);
    this.timer = setTimeout(() => {
      this.refresh().catch(() => {
        // Offline or the server is away: accessToken() tries again on demand.
        this.timer = setTimeout(() => this.schedule(), 30_000);
      });
    }, due);
  }
}

function load(): Stored | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Stored;
    return s.accessToken && s.refreshToken && s.user?.id ? s : null;
  } catch {
    return null;
  }
}

function save(s: Stored): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(s));
}
