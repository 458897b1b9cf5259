// JSON over fetch against the gateway (same origin). Adds the bearer token,
// turns error bodies into ApiError, and on a 401 refreshes the tokens once and
// repeats the request (docs/api/openapi.yaml, auth: access tokens live 15 minutes).
import { ApiError, NetworkError } from './errors';

export interface TokenSource {
  /** A currently valid access token (refreshed first when it is about to expire). */
  accessToken(): Promise<string>;
  /** Forces a refresh; rejects with ApiError 401 when the session is gone. */
  refresh(): Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  headers?: Record<string, string>;
  /** Send the bearer token (default true). */
  auth?: boolean;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

export class Http {
  private tokens: TokenSource | null = null;

  constructor(private readonly base = '') {}

  setTokenSource(tokens: TokenSource): void {
    this.tokens = tokens;
  }

  get<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, opts);
  }
  post<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, { ...opts, body });
  }
  put<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, { ...opts, body });
  }
  patch<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, { ...opts, body });
  }
  delete<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, opts);
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = opts.auth ?? true;
    let res = await this.send(method, path, opts, auth);
    if (res.status === 401 && auth && this.tokens) {
      // The token may have expired in flight or been rotated by another tab.
      await this.tokens.refresh();
      res = await this.send(method, path, opts, auth);
    }
    return this.parse<T>(res);
  }

  private async send(
    method: string,
    path: string,
    opts: RequestOptions,
    auth: boolean,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth) {
      if (!this.tokens) throw new ApiError(401, 'unauthenticated', 'not signed in');
      headers.Authorization = `Bearer ${await this.tokens.accessToken()}`;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      return await fetch(this.base + path + queryString(opts.query), {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: controller.signal,
        credentials: 'omit',
      });
    } catch (err) {
      throw new NetworkError(controller.signal.aborted ? 'request timed out' : String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  private async parse<T>(res: Response): Promise<T> {
    const text = await res.text().catch(() => '');
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }
    if (res.ok) return data as T;
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    const retryAfter = Number(res.headers.get('Retry-After'));
    throw new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? res.statusText ?? 'request failed',
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    );
  }
}

function queryString(q: RequestOptions['query']): string {
  if (!q) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v !== null && v !== undefined && v !== '') params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}
