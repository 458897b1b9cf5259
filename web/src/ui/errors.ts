// Turns a failed call into a sentence for the person in front of the screen.
import { ApiError, NetworkError } from '../api/errors';
import { t } from '../i18n';

export function errorText(err: unknown): string {
  if (err instanceof NetworkError || (err instanceof ApiError && err.status === 502)) {
    return t('common.offline');
  }
  if (err instanceof ApiError) {
    if (err.status === 429) return t('signin.rateLimited', { seconds: err.retryAfter ?? 60 });
    return t('common.error', { message: err.message });
  }
  return t('common.error', { message: err instanceof Error ? err.message : String(err) });
}
