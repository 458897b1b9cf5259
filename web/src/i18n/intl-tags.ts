import type { Locale } from './index';

/**
 * BCP 47 tags for Intl (Thai with Gregorian years, as apps there do). Also read
 * by the browser tests (e2e/i18n.mjs), which format as the client does.
 */
export const INTL_TAGS: Record<Locale, string> = {
  en: 'en-GB',
  th: 'th-TH-u-ca-gregory',
  id: 'id-ID',
  ms: 'ms-MY',
  fil: 'fil-PH',
  vi: 'vi-VN',
};
