// Profiles of the people the user meets (members of conversations, payers):
// fetched once each from GET /v1/users/{id} and cached for the page's life.
import type { AuthApi } from '../api/auth';
import { ApiError } from '../api/errors';
import type { User } from '../api/types';
import { Emitter } from '../util/emitter';

const MAX_PARALLEL = 4;

export class Directory {
  readonly events = new Emitter<{ user: User }>();
  private readonly users = new Map<string, User>();
  private readonly pending = new Map<string, Promise<User | null>>();
  /** Ids auth answered 404 for: deleted accounts (DELETE /v1/users/me). */
  private readonly gone = new Set<string>();
  private queue: string[] = [];
  private active = 0;

  constructor(private readonly auth: AuthApi) {}

  get(id: string): User | undefined {
    return this.users.get(id);
  }

  /** True when the user's account was deleted (their profile answers 404). */
  isDeleted(id: string): boolean {
    return this.gone.has(id);
  }

  put(user: User): void {
    this.users.set(user.id, user);
    this.events.emit('user', user);
  }

  /** Starts fetching the profiles not known yet (fire and forget). */
  ensure(ids: Iterable<string>): void {
    for (const id of ids) {
      if (!this.users.has(id) && !this.pending.has(id) && !this.queue.includes(id)) {
        this.queue.push(id);
      }
    }
    this.pump();
  }

  /** The profile, fetching it when needed; null when it cannot be had. */
  load(id: string): Promise<User | null> {
    const known = this.users.get(id);
    if (known) return Promise.resolve(known);
    return this.pending.get(id) ?? this.fetch(id);
  }

  private pump(): void {
    while (this.active < MAX_PARALLEL && this.queue.length) {
      const id = this.queue.shift()!;
      if (this.users.has(id) || this.pending.has(id)) continue;
      this.active++;
      void this.fetch(id).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private fetch(id: string): Promise<User | null> {
    const p = this.auth
      .user(id)
      .then((u) => {
        this.put(u);
        return u;
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) this.gone.add(id);
        return null;
      })
      .finally(() => this.pending.delete(id));
    this.pending.set(id, p);
    return p;
  }
}
