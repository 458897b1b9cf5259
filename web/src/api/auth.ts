// Auth service calls (docs/api/openapi.yaml, auth).
import type { Http } from './http';
import type { AuthSession, OtpRequestResponse, TokenResponse, User } from './types';

export class AuthApi {
  constructor(private readonly http: Http) {}

  requestOtp(phone: string, country: string, locale: string): Promise<OtpRequestResponse> {
    return this.http.post('/v1/auth/otp/request', { phone, country, locale }, { auth: false });
  }

  verifyOtp(phone: string, country: string, code: string): Promise<TokenResponse> {
    return this.http.post(
      '/v1/auth/otp/verify',
      { phone, country, code, device_name: deviceName(), platform: 'web' },
      { auth: false },
    );
  }

  /** A code whose only use is proving a password change or reset (`purpose: password`). */
  requestPasswordOtp(
    phone: string,
    country: string | undefined,
    locale: string,
  ): Promise<OtpRequestResponse> {
    return this.http.post(
      '/v1/auth/otp/request',
      { phone, country, locale, purpose: 'password' },
      { auth: false },
    );
  }

  loginWithPassword(phone: string, country: string, password: string): Promise<TokenResponse> {
    return this.http.post(
      '/v1/auth/login',
      { phone, country, password, device_name: deviceName(), platform: 'web' },
      { auth: false },
    );
  }

  /** Sets or changes the password; the proof is the current password or a password code. */
  setPassword(
    password: string,
    proof: { current_password: string } | { otp_code: string },
  ): Promise<void> {
    return this.http.put('/v1/auth/password', { password, ...proof });
  }

  /** Removes the password (then codes only); the same proof as a change. */
  removePassword(proof: { current_password: string } | { otp_code: string }): Promise<void> {
    return this.http.delete('/v1/auth/password', { body: proof });
  }

  /**
   * Deletes the account for good (DELETE /v1/users/me): needs a code sent with
   * `purpose: password` (or the current password). 409 while a wallet holds money.
   */
  deleteMe(proof: { current_password: string } | { otp_code: string }): Promise<void> {
    return this.http.delete('/v1/users/me', { body: proof });
  }

  /** A forgotten password: a password code sets a new one and ends every session. */
  resetPassword(phone: string, country: string, otpCode: string, password: string): Promise<void> {
    return this.http.post(
      '/v1/auth/password/reset',
      { phone, country, otp_code: otpCode, password },
      { auth: false },
    );
  }

  /** Every signed-in device of the user, `current` marking this one. */
  async sessions(): Promise<AuthSession[]> {
    const out: AuthSession[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.http.get<{ sessions: AuthSession[]; next_cursor: string | null }>(
        '/v1/auth/sessions',
        { query: { limit: 100, cursor } },
      );
      out.push(...page.sessions);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return out;
  }

  revokeSession(id: string): Promise<void> {
    return this.http.delete(`/v1/auth/sessions/${encodeURIComponent(id)}`);
  }

  refresh(refreshToken: string): Promise<TokenResponse> {
    return this.http.post('/v1/auth/refresh', { refresh_token: refreshToken }, { auth: false });
  }

  logout(): Promise<void> {
    return this.http.post('/v1/auth/logout');
  }

  me(): Promise<User> {
    return this.http.get('/v1/users/me');
  }

  updateMe(patch: Partial<Pick<User, 'display_name' | 'username' | 'locale'>>): Promise<User> {
    return this.http.patch('/v1/users/me', patch);
  }

  user(id: string): Promise<User> {
    return this.http.get(`/v1/users/${encodeURIComponent(id)}`);
  }

  /** Contact lookup by phone (national numbers are read in `country`). */
  async findByPhone(phone: string, country: string): Promise<User | null> {
    const r = await this.http.get<{ users: User[] }>('/v1/users', { query: { phone, country } });
    return r.users[0] ?? null;
  }

  /** Contact lookup by username (see the README: the auth service may not offer it). */
  async findByUsername(username: string): Promise<User | null> {
    const r = await this.http.get<{ users: User[] }>('/v1/users', { query: { username } });
    return r.users[0] ?? null;
  }
}

/** "Chrome on Linux": the session list (GET /v1/auth/sessions) shows it. */
function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS X/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return os ? `${browser} on ${os}` : browser;
}
