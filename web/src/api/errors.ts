// Errors of API calls. The services answer {"error":{"code","message"}} (docs/api/openapi.yaml);
// NetworkError is everything that never got an answer (offline, timeout, refused).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds from Retry-After on 429/503, when given. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Worth trying again later with the same request (idempotent callers only). */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

export class NetworkError extends Error {
  constructor(message = 'network error') {
    super(message);
    this.name = 'NetworkError';
  }
}

/** True for failures that a retry of the same request may fix. */
export function isTransient(err: unknown): boolean {
  return err instanceof NetworkError || (err instanceof ApiError && err.retryable);
}
